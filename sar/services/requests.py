"""Rights-request workflows: requests."""
