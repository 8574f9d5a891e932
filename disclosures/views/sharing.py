"""Disclosure pages: sharing."""

urlpatterns = []
