"""Access workflows, one module per area. Importing them registers their dashboard panels."""

from access.services import (  # noqa: F401
    accounts,
    breaches,
    compliance,
    dpia,
    emergency,
    grants,
    meetings,
    retention,
    unusual_access,
)
