"""The scheduled KPI reports' sweep (Celery beat).

Thin: the state is in the database (analytics.services.reports), so a run twice, late or after a
crash builds each report once and e-mails each subscriber once."""

from celery import shared_task

from analytics.services.reports import reports_sweep


@shared_task(ignore_result=True)
def send_kpi_reports() -> int:
    """Beat, every 15 minutes: build last week's and last month's reports of the subscribed
    scopes and e-mail them; returns the e-mails sent."""
    return reports_sweep().sent
