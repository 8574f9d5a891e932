"""Disclosure pages: requests."""

urlpatterns = []
