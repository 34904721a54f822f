"""Writes of the analytics app (the scheduled KPI reports)."""
