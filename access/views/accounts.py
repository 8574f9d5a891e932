"""Access pages: accounts."""

urlpatterns = []
