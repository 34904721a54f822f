"""Stale-deal alerts and overdue-payment warnings (回款预警).

Thin: the state is in the database (opportunities.services.alerts), so a task run twice, late or
after a crash delivers every alert once."""

from celery import shared_task

from opportunities.services.alerts import deal_alerts_sweep, payment_warnings_sweep


@shared_task(ignore_result=True)
def send_deal_alerts() -> int:
    """Beat, hourly: plan and deliver the stale-deal alerts due now; returns those sent."""
    return deal_alerts_sweep().sent


@shared_task(ignore_result=True)
def send_payment_warnings() -> int:
    """Beat, hourly: plan and deliver the overdue-payment warnings due now; returns those sent."""
    return payment_warnings_sweep().sent
