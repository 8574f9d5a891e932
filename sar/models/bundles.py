"""Rights-request models: bundles."""

__all__ = []
