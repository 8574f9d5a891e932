"""Rights-request workflows, one module per area."""
