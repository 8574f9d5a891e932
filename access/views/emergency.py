"""Access pages: emergency."""

urlpatterns = []
