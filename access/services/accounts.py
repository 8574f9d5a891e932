"""Access workflows: accounts."""
