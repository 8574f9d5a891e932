"""Rights-request pages: requests."""

urlpatterns = []
