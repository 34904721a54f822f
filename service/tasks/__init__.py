"""Celery tasks of the service app (thin: call a service). Celery's autodiscovery imports this
package; each sub-domain's module is imported here so its tasks are registered."""

from service.tasks import sla, surveys  # noqa: F401
