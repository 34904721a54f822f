"""Service-level breaches and escalations (工单时效).

Thin: the state is in the database (service.services.alerts), so a task run twice, late or after
a crash flags each breach once and delivers every alert once."""

from celery import shared_task

from service.services.alerts import sla_alerts_sweep


@shared_task(ignore_result=True)
def send_sla_alerts() -> int:
    """Beat, every 5 minutes: flag the breaches, plan and deliver the alerts due now; returns
    those sent."""
    return sla_alerts_sweep().sent
