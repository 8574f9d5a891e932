"""Access workflows: emergency."""
