"""Rights-request workflows: bundles."""
