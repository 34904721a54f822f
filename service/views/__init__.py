"""Views of the service app: tickets, the service desk, service levels (sla) and surveys."""
