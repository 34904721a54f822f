"""Writes of the interactions app: logging interactions, follow-up tasks, cadence proposals."""
