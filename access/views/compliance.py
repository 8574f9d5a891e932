"""Access pages: compliance."""

urlpatterns = []
