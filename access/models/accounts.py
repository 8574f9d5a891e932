"""Access models: accounts."""

__all__ = []
