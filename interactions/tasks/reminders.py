"""Reminder sweeps (follow-up tasks due soon, overdue, escalations, lead digests).

Thin: the state is in the database (interactions.services.reminders), so a task run twice, late
or after a crash delivers every reminder once."""

from celery import shared_task

from interactions.services.reminders import digests_sweep, reminders_sweep


@shared_task(ignore_result=True)
def send_task_reminders() -> int:
    """Beat, every 5 minutes: plan and deliver the task reminders due now; returns those sent."""
    return reminders_sweep().sent


@shared_task(ignore_result=True)
def send_lead_digests() -> int:
    """Beat, every 15 minutes: the team leads' daily digest of overdue tasks; returns those sent."""
    return digests_sweep().sent
