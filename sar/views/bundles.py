"""Rights-request pages: bundles."""

urlpatterns = []
