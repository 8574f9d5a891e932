"""Access workflows: compliance."""
