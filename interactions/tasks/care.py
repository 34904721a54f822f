"""Care sweeps: birthday and holiday care tasks (关怀)."""

from celery import shared_task

from interactions.services.care import care_tasks_create


@shared_task(ignore_result=True)
def create_care_tasks() -> int:
    """Beat, hourly: birthday and holiday care tasks from today to their lead time ahead. Each
    occasion has a unique care_key, so reruns create nothing twice and a late run catches up."""
    return care_tasks_create()
