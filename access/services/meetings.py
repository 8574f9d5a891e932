"""Access workflows: meetings."""
