import logging
from typing import Any

from celery import shared_task
from django.db import transaction

from accounts import health

logger = logging.getLogger(__name__)


def enqueue(task, *args: Any) -> None:
    """Send ``task`` once the current transaction commits; a broker outage is logged, not raised.

    The database row the task works on is the state, so a message that could not be sent loses
    nothing: the row stays pending and its page says so. ``retry=False`` keeps a request from
    hanging while Redis is down.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except Exception:
            logger.exception("Could not enqueue %s%r; the broker may be down", task.name, args)

    transaction.on_commit(send)


@shared_task(ignore_result=True)
def record_heartbeat() -> None:
    """Scheduled by beat every 30 s; its row tells /healthz that a worker is executing tasks."""
    health.record_heartbeat()


@shared_task(ignore_result=True)
def build_export(export_id: int) -> None:
    """Build one export's file (accounts.exports); safe to run twice: the row is claimed first."""
    from accounts.exports import export_build

    export_build(export_id)


@shared_task(ignore_result=True)
def requeue_stalled_exports() -> None:
    """A periodic sweep: exports left pending by a broker outage, or running on a dead worker."""
    from accounts.exports import exports_requeue_stalled

    exports_requeue_stalled()


@shared_task(ignore_result=True)
def delete_expired_exports() -> None:
    """Beat, daily: exports older than EXPORT_RETENTION_DAYS go, files included."""
    from accounts.exports import exports_delete_expired

    exports_delete_expired()
