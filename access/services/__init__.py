"""Access workflows, one module per area. Importing them registers their dashboard panels."""

from access.services import accounts, compliance, emergency, grants, meetings  # noqa: F401
