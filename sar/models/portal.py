"""Rights-request models: portal."""

__all__ = []
