"""Profile review tasks (建档审核)."""

from celery import shared_task

from customers.services.review import customers_flag_incomplete, review_digests_send


@shared_task(ignore_result=True)
def flag_incomplete_profiles() -> int:
    """Beat, every 15 minutes: flag profiles still incomplete after ``CUSTOMER_REVIEW_HOURS`` and
    send each team lead one digest of their pending notices (this run's, and any that an earlier
    run could not deliver). Safe to run twice or late: a customer is flagged, and its lead told,
    once. Returns how many were flagged."""
    flagged = customers_flag_incomplete()
    review_digests_send()
    return len(flagged)
