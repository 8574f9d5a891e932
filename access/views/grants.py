"""Access pages: grants."""

urlpatterns = []
