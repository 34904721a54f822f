"""Forms of the customers app, one module per sub-domain."""
