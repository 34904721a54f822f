"""Writes of the customers app, split by sub-domain (profiles, lists, imports, merge, lifecycle)."""
