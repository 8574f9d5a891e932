"""Access workflows: grants."""
