"""Access models: compliance."""

__all__ = []
