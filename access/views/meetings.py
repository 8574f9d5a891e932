"""Access pages: meetings."""

urlpatterns = []
