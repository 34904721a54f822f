from celery import shared_task

from accounts import health


@shared_task(ignore_result=True)
def record_heartbeat() -> None:
    """Scheduled by beat every 30 s; its row tells /healthz that a worker is executing tasks."""
    health.record_heartbeat()
