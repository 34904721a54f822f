"""Quote expiry (报价单过期)."""

from celery import shared_task

from opportunities.services.quotes import quotes_expire


@shared_task(ignore_result=True)
def expire_quotes() -> int:
    """Beat, daily: sent quotes past their ``valid_until`` become expired. One conditional UPDATE,
    so a rerun changes nothing and a missed day is caught up by the next run."""
    return quotes_expire()
