"""Celery tasks of the opportunities app (thin: call a service). Celery's autodiscovery imports this
package; each sub-domain's module is imported here so its tasks are registered."""

from opportunities.tasks import alerts, quotes  # noqa: F401
