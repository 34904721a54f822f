"""Celery tasks of the interactions app (thin: call a service). Celery's autodiscovery imports this
package; each sub-domain's module is imported here so its tasks are registered."""

from interactions.tasks import care, reminders  # noqa: F401
