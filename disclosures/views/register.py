"""Disclosure pages: register."""

urlpatterns = []
