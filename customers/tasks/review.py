"""Profile review tasks (建档审核)."""

from celery import shared_task

from customers.services.lifecycle import customers_flag_incomplete, review_digests_send


@shared_task(ignore_result=True)
def flag_incomplete_profiles() -> int:
    """Beat, every 15 minutes: flag profiles still incomplete after ``CUSTOMER_REVIEW_HOURS`` and
    send each team lead one digest of the ones flagged by this run. Safe to run twice or late:
    a customer is flagged (and mailed) once. Returns how many were flagged."""
    flagged = customers_flag_incomplete()
    if flagged:
        review_digests_send(flagged)
    return len(flagged)
