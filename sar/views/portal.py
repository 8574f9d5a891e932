"""Rights-request pages: portal."""

urlpatterns = []
