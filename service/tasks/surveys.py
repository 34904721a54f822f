"""Satisfaction surveys: mail one invitation, the pending ones, and the quarterly survey.

Thin: the state is in the database (service.services.surveys: an invitation is pending until its
``sent_at`` is set, claimed with a row lock), so a task run twice, late or after a crash sends
every invitation once."""

from celery import shared_task

from service.services.surveys import quarterly_surveys_run, survey_send, surveys_deliver


@shared_task(ignore_result=True)
def send_survey_invitation(invitation_id: int) -> bool:
    """After a ticket closes (enqueued on commit): mail its invitation; False if already sent."""
    return survey_send(invitation_id)


@shared_task(ignore_result=True)
def send_survey_invitations() -> int:
    """Beat, every 15 minutes: mail the pending invitations (messages lost while the broker was
    down, quarterly batches left over); returns how many were sent."""
    return surveys_deliver()


@shared_task(ignore_result=True)
def send_quarterly_surveys() -> int:
    """Beat, daily: invite this quarter's deal customers not yet invited, then mail them."""
    planned, _sent = quarterly_surveys_run()
    return planned
