"""Celery tasks of the customers app (thin: load by id, call a service). Celery's autodiscovery
imports this package; each sub-domain's module is imported here so its tasks are registered."""

from customers.tasks import imports, review  # noqa: F401
