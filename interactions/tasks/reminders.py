"""Reminder sweeps (follow-up tasks due soon, overdue, escalations, lead digests)."""
