"""Forms of the interactions app, one module per sub-domain."""
