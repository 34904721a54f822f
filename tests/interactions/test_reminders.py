"""Reminder sweeps of follow-up tasks: due tomorrow, overdue (待跟进), escalation steps, the team
lead's daily digest; exactly once on reruns, after a crash and after downtime; Asia/Shanghai edges.

Every sweep takes ``now``: the tests move time by passing it, nothing is mocked but the mail
server in the one test where sending fails."""

import datetime
import smtplib
import uuid
from datetime import UTC

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Notification, NotificationEmailChoice
from interactions.models import EscalationStep, FollowUpTask, LeadDigest, TaskReminder
from interactions.services.follow_up import task_complete, task_update
from interactions.services.reminders import (
    KIND_DIGEST,
    KIND_DUE_SOON,
    KIND_ESCALATION,
    KIND_OVERDUE,
    digests_sweep,
    local_day,
    reminders_sweep,
)
from interactions.tasks.reminders import send_lead_digests, send_task_reminders
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import TaskFactory
from tests.factories.notifications import TaskReminderFactory

pytestmark = pytest.mark.django_db

# 10:00 in Shanghai on 2026-03-10.
NOW = datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def task_for(user, due_at: datetime.datetime, **kwargs) -> FollowUpTask:
    return TaskFactory(customer=CustomerFactory(owner=user), due_at=due_at, **kwargs)


def kinds_of(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("kind", flat=True))


# --- Due tomorrow --------------------------------------------------------------------------


def test_owner_is_reminded_once_a_day_before_the_task_is_due(rep, mailoutbox):
    task = task_for(rep, NOW + 20 * HOUR, content="寄送样品")

    first = reminders_sweep(now=NOW)
    again = reminders_sweep(now=NOW)
    later = reminders_sweep(now=NOW + HOUR)

    assert (first.sent, again.sent, later.sent) == (1, 0, 0)
    notification = Notification.objects.get(recipient=rep)
    assert notification.kind == KIND_DUE_SOON and "寄送样品" in notification.title
    assert notification.url == task.get_absolute_url()
    assert [message.to for message in mailoutbox] == [[rep.email]]
    assert task.get_absolute_url() in mailoutbox[0].body
    reminder = TaskReminder.objects.get()
    assert reminder.status == TaskReminder.Status.SENT and reminder.sent_at == NOW


def test_a_task_due_in_more_than_a_day_is_not_reminded_yet(rep):
    task_for(rep, NOW + 30 * HOUR)

    assert reminders_sweep(now=NOW).sent == 0
    assert reminders_sweep(now=NOW + 6 * HOUR).sent == 1
    assert kinds_of(rep) == [KIND_DUE_SOON]


def test_owner_is_told_when_the_task_becomes_overdue_after_the_due_soon_reminder(rep, lead):
    task = task_for(rep, NOW + 20 * HOUR)
    reminders_sweep(now=NOW)

    assert reminders_sweep(now=task.due_at).sent == 0  # due now, not yet past due
    assert reminders_sweep(now=task.due_at + datetime.timedelta(minutes=1)).sent == 1

    assert kinds_of(rep) == [KIND_DUE_SOON, KIND_OVERDUE]
    assert kinds_of(lead) == []  # the lead hears of it in the digest, not per task


def test_a_task_already_overdue_when_first_seen_skips_due_soon(rep):
    task_for(rep, NOW - HOUR)

    reminders_sweep(now=NOW)

    assert kinds_of(rep) == [KIND_OVERDUE]
    assert not TaskReminder.objects.filter(step=TaskReminder.DUE_SOON).exists()


def test_done_and_cancelled_tasks_are_not_reminded_and_pending_rows_are_skipped(rep):
    done = task_for(rep, NOW + HOUR, status=FollowUpTask.Status.DONE)
    cancelled_later = task_for(rep, NOW + 2 * HOUR)
    reminder = TaskReminderFactory(task=cancelled_later, step=TaskReminder.DUE_SOON)
    FollowUpTask.objects.filter(pk=cancelled_later.pk).update(status=FollowUpTask.Status.CANCELLED)

    result = reminders_sweep(now=NOW)

    assert result.sent == 0 and result.skipped == 1
    reminder.refresh_from_db()
    assert reminder.status == TaskReminder.Status.SKIPPED
    assert not TaskReminder.objects.filter(task=done).exists()
    assert not Notification.objects.exists()


def test_completing_a_task_before_it_is_overdue_stops_its_reminders(rep):
    task = task_for(rep, NOW + 20 * HOUR)
    reminders_sweep(now=NOW)
    task_complete(actor=rep, task=task)

    assert reminders_sweep(now=NOW + 5 * DAY).sent == 0
    assert kinds_of(rep) == [KIND_DUE_SOON]


def test_a_rescheduled_task_is_reminded_again_for_its_new_due_time(rep):
    task = task_for(rep, NOW + 20 * HOUR)
    reminders_sweep(now=NOW)
    task_update(actor=rep, task=task, version=task.version, due_at=NOW + 3 * DAY)

    assert reminders_sweep(now=NOW + HOUR).sent == 0
    assert reminders_sweep(now=NOW + 2 * DAY + HOUR).sent == 1
    assert kinds_of(rep) == [KIND_DUE_SOON, KIND_DUE_SOON]


# --- Exactly once: reruns, crashes, downtime -----------------------------------------------


def test_the_celery_tasks_deliver_once_when_run_twice(rep, lead, mailoutbox, settings):
    task_for(rep, timezone.now() - HOUR)

    assert send_task_reminders() == 1
    assert send_task_reminders() == 0
    assert kinds_of(rep) == [KIND_OVERDUE]
    settings.REMINDER_DIGEST_HOUR = 0  # whatever the hour of the test run
    assert send_lead_digests() == 1
    assert send_lead_digests() == 0
    assert kinds_of(lead) == [KIND_DIGEST]


def test_a_row_left_sending_by_a_crashed_worker_is_delivered_once_after_its_lease(rep):
    task = task_for(rep, NOW - HOUR)
    crashed = TaskReminderFactory(
        task=task,
        status=TaskReminder.Status.SENDING,
        claim_token=uuid.uuid4(),
        lease_until=NOW - datetime.timedelta(minutes=1),
        attempts=1,
    )

    assert reminders_sweep(now=NOW).sent == 1
    assert reminders_sweep(now=NOW).sent == 0

    crashed.refresh_from_db()
    assert crashed.status == TaskReminder.Status.SENT and crashed.attempts == 2
    assert Notification.objects.filter(recipient=rep).count() == 1


def test_a_row_still_leased_by_a_live_worker_is_left_to_it(rep):
    task = task_for(rep, NOW - HOUR)
    working = TaskReminderFactory(
        task=task, status=TaskReminder.Status.SENDING, claim_token=uuid.uuid4(), lease_until=NOW + HOUR
    )

    assert reminders_sweep(now=NOW).sent == 0
    working.refresh_from_db()
    assert working.status == TaskReminder.Status.SENDING
    assert reminders_sweep(now=NOW + 2 * HOUR).sent == 1  # the lease ran out: the worker died


def test_a_failed_email_rolls_back_the_notification_and_is_retried_after_the_lease(rep, monkeypatch):
    task_for(rep, NOW - HOUR)

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr(mail.EmailMultiAlternatives, "send", refuse)
        assert reminders_sweep(now=NOW).sent == 0
    assert not Notification.objects.exists()
    assert TaskReminder.objects.get().status == TaskReminder.Status.SENDING

    assert reminders_sweep(now=NOW + datetime.timedelta(minutes=1)).sent == 0  # still leased
    assert reminders_sweep(now=NOW + HOUR).sent == 1
    assert Notification.objects.filter(recipient=rep).count() == 1


def test_reminders_missed_while_the_worker_was_down_all_go_out_at_the_next_run(rep, teammate, mailoutbox):
    # Nothing ran for two days: some tasks passed "due soon", others became overdue meanwhile.
    for hours in (-40, -30, -2, 5, 23):
        task_for(rep, NOW + hours * HOUR)
    task_for(teammate, NOW - 10 * HOUR)

    result = reminders_sweep(now=NOW, batch_size=2)

    assert result.sent == 6
    assert sorted(kinds_of(rep)) == sorted([KIND_OVERDUE] * 3 + [KIND_DUE_SOON] * 2)
    assert kinds_of(teammate) == [KIND_OVERDUE]
    assert len(mailoutbox) == 6
    assert reminders_sweep(now=NOW).sent == 0


def test_a_run_out_of_time_leaves_the_rest_for_the_next_run(rep):
    for hours in (-3, -2, -1):
        task_for(rep, NOW + hours * HOUR)

    assert reminders_sweep(now=NOW, time_budget=datetime.timedelta(0)).sent == 0
    assert reminders_sweep(now=NOW).sent == 3


# --- Escalation steps ----------------------------------------------------------------------


def test_default_escalation_steps_tell_owner_then_lead_then_flag_for_reassignment(rep, lead, mailoutbox):
    assert list(EscalationStep.objects.values_list("days_overdue", "notify_owner", "notify_lead")) == [
        (3, True, False),
        (5, True, True),
        (7, False, True),
    ]
    task = task_for(rep, NOW - HOUR)
    reminders_sweep(now=NOW)

    reminders_sweep(now=task.due_at + 3 * DAY)
    assert kinds_of(rep) == [KIND_OVERDUE, KIND_ESCALATION] and kinds_of(lead) == []

    reminders_sweep(now=task.due_at + 5 * DAY)
    assert kinds_of(rep) == [KIND_OVERDUE, KIND_ESCALATION, KIND_ESCALATION]
    assert kinds_of(lead) == [KIND_ESCALATION]
    task.refresh_from_db()
    assert task.reassign_flagged_at is None

    reminders_sweep(now=task.due_at + 7 * DAY)
    assert len(kinds_of(rep)) == 3  # day 7 goes to the lead only
    assert kinds_of(lead) == [KIND_ESCALATION, KIND_ESCALATION]
    task.refresh_from_db()
    assert task.reassign_flagged_at == task.due_at + 7 * DAY
    to_lead = Notification.objects.filter(recipient=lead).order_by("pk").last()
    assert str(rep) in to_lead.title and "7" in to_lead.title
    assert "reassign" in to_lead.body.lower() or "改派" in to_lead.body

    assert reminders_sweep(now=task.due_at + 8 * DAY).sent == 0


def test_a_task_first_seen_long_overdue_gets_only_the_latest_step(rep, lead):
    task = task_for(rep, NOW - 8 * DAY)

    reminders_sweep(now=NOW)

    steps = set(TaskReminder.objects.filter(task=task).values_list("step", flat=True))
    assert steps == {TaskReminder.OVERDUE, "day:7"}
    assert kinds_of(rep) == [KIND_OVERDUE] and kinds_of(lead) == [KIND_ESCALATION]
    task.refresh_from_db()
    assert task.reassign_flagged_at == NOW


def test_a_reassigned_task_is_not_flagged_again_for_the_same_step(rep, teammate, lead):
    task = task_for(rep, NOW - 8 * DAY)
    reminders_sweep(now=NOW)
    FollowUpTask.objects.filter(pk=task.pk).update(owner=teammate, reassign_flagged_at=None)

    reminders_sweep(now=NOW + HOUR)

    task.refresh_from_db()
    assert task.reassign_flagged_at is None


def test_escalation_steps_are_configurable(rep, lead):
    EscalationStep.objects.all().delete()
    EscalationStep.objects.create(days_overdue=2, notify_owner=False, notify_lead=True)
    EscalationStep.objects.create(days_overdue=4, notify_owner=True, active=False)
    task = task_for(rep, NOW - HOUR)
    reminders_sweep(now=NOW)

    reminders_sweep(now=task.due_at + 2 * DAY)
    reminders_sweep(now=task.due_at + 4 * DAY)

    assert kinds_of(rep) == [KIND_OVERDUE]
    assert kinds_of(lead) == [KIND_ESCALATION]


def test_a_lead_only_step_for_a_team_without_lead_is_recorded_as_skipped(rep, team_a):
    team_a.lead = None
    team_a.save()
    EscalationStep.objects.filter(days_overdue__in=[3, 5]).update(active=False)
    task = task_for(rep, NOW - 8 * DAY)

    reminders_sweep(now=NOW)
    reminders_sweep(now=NOW + HOUR)

    reminder = TaskReminder.objects.get(task=task, step="day:7")
    assert reminder.status == TaskReminder.Status.SKIPPED
    assert kinds_of(rep) == [KIND_OVERDUE]


# --- Preferences, language and time zones --------------------------------------------------


def test_email_choices_are_honoured_and_the_in_app_notification_still_comes(rep, mailoutbox):
    NotificationEmailChoice.objects.create(user=rep, kind=KIND_DUE_SOON, email=False)
    task_for(rep, NOW + HOUR)
    task_for(rep, NOW - HOUR)

    reminders_sweep(now=NOW)

    assert sorted(kinds_of(rep)) == sorted([KIND_DUE_SOON, KIND_OVERDUE])
    assert len(mailoutbox) == 1
    assert "overdue" in mailoutbox[0].subject.lower() or "逾期" in mailoutbox[0].subject


# 2026-03-11 00:30 in Shanghai is still 2026-03-10 (16:30) in UTC.
DUE_AT_0030 = datetime.datetime(2026, 3, 10, 16, 30, tzinfo=UTC)


def test_a_task_due_at_0030_shanghai_is_reminded_at_0030_the_day_before(rep):
    assert timezone.localtime(DUE_AT_0030).strftime("%Y-%m-%d %H:%M") == "2026-03-11 00:30"
    task_for(rep, DUE_AT_0030)

    assert reminders_sweep(now=DUE_AT_0030 - DAY - datetime.timedelta(minutes=1)).sent == 0
    assert reminders_sweep(now=DUE_AT_0030 - DAY).sent == 1

    title = Notification.objects.get(recipient=rep).title
    assert "2026年3月11日 00:30" in title  # the site's zh-hans format and Shanghai time


def test_texts_follow_the_recipients_language_and_time_zone(rep):
    rep.language, rep.time_zone = "en", "Europe/London"
    rep.save()
    task_for(rep, DUE_AT_0030, content="Send samples")

    reminders_sweep(now=DUE_AT_0030 - 2 * HOUR)

    title = Notification.objects.get(recipient=rep).title
    assert title == "Follow-up task due 03/10/2026 4:30 p.m.: Send samples"


# --- The lead's daily digest ---------------------------------------------------------------


def shanghai(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(
        2026, 3, day, hour, minute, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
    )


def test_each_lead_gets_one_digest_a_local_day_from_the_digest_hour(
    rep, teammate, lead, other_team_rep, other_lead, mailoutbox
):
    task_for(rep, shanghai(9, 10), content="甲公司回访")
    task_for(teammate, shanghai(8, 10), content="乙公司报价")
    task_for(other_team_rep, shanghai(8, 10), content="别组的任务")

    assert digests_sweep(now=shanghai(10, 7, 59)).sent == 0  # 23:59 UTC the day before
    first = digests_sweep(now=shanghai(10, 8, 0))
    again = digests_sweep(now=shanghai(10, 8, 15))
    evening = digests_sweep(now=shanghai(10, 23, 45))
    next_day = digests_sweep(now=shanghai(11, 8, 0))

    assert (first.sent, again.sent, evening.sent, next_day.sent) == (2, 0, 0, 2)
    digests = list(LeadDigest.objects.filter(lead=lead).order_by("day").values_list("day", "task_count"))
    assert digests == [(datetime.date(2026, 3, 10), 2), (datetime.date(2026, 3, 11), 2)]
    to_lead = [message for message in mailoutbox if message.to == [lead.email]]
    assert len(to_lead) == 2
    body = to_lead[0].body
    assert "甲公司回访" in body and "乙公司报价" in body and "别组的任务" not in body
    assert f"{rep}\n- 甲公司回访" in body and f"{teammate}\n- 乙公司报价" in body  # grouped by rep
    assert kinds_of(lead) == [KIND_DIGEST, KIND_DIGEST]
    to_other_lead = [message for message in mailoutbox if message.to == [other_lead.email]]
    assert len(to_other_lead) == 2 and "别组的任务" in to_other_lead[0].body
    assert "甲公司回访" not in to_other_lead[0].body


def test_the_digest_day_is_the_local_date_not_the_utc_one(rep, lead):
    task_for(rep, shanghai(10, 0, 30))  # due 00:30 Shanghai = 16:30 UTC of the 9th

    digests_sweep(now=shanghai(10, 9, 0))  # 01:00 UTC on the 10th

    assert local_day(shanghai(10, 0, 30)) == datetime.date(2026, 3, 10)
    assert LeadDigest.objects.get(lead=lead).day == datetime.date(2026, 3, 10)


def test_a_digest_missed_at_the_hour_is_caught_up_the_same_day_but_not_the_next(rep, lead):
    task_for(rep, shanghai(9, 10))

    assert digests_sweep(now=shanghai(10, 15, 0)).sent == 1  # the worker was down at 08:00

    stale = LeadDigest.objects.create(lead=lead, day=datetime.date(2026, 3, 8))
    digests_sweep(now=shanghai(10, 15, 15))
    stale.refresh_from_db()
    assert stale.status == LeadDigest.Status.SKIPPED


def test_no_digest_when_the_team_has_nothing_overdue(rep, lead, mailoutbox):
    task_for(rep, shanghai(11, 10))  # not due yet

    assert digests_sweep(now=shanghai(10, 9)).sent == 0
    assert not LeadDigest.objects.exists() and not mailoutbox


def test_digest_hour_is_configurable(rep, lead, settings):
    settings.REMINDER_DIGEST_HOUR = 18
    task_for(rep, shanghai(9, 10))

    assert digests_sweep(now=shanghai(10, 17, 59)).sent == 0
    assert digests_sweep(now=shanghai(10, 18, 0)).sent == 1


def test_a_long_digest_lists_the_first_tasks_and_counts_them_all(rep, lead, mailoutbox, monkeypatch):
    from interactions.services import reminders

    monkeypatch.setattr(reminders, "DIGEST_ROWS", 2)
    lead.language = "en"
    lead.save()
    for day in (5, 6, 7):
        task_for(rep, shanghai(day, 10))

    digests_sweep(now=shanghai(10, 9))

    notification = Notification.objects.get(recipient=lead)
    assert notification.title.startswith("3 ") and f"{rep}: 3" in notification.body
    assert LeadDigest.objects.get().task_count == 3
    assert mailoutbox[0].body.count("/tasks/") == 2 and "Only the first 2 tasks" in mailoutbox[0].body


def test_a_row_that_keeps_failing_is_given_up_after_max_attempts(rep):
    from interactions.services.reminders import MAX_ATTEMPTS

    reminder = TaskReminderFactory(
        task=task_for(rep, NOW - HOUR),
        status=TaskReminder.Status.SENDING,
        claim_token=uuid.uuid4(),
        lease_until=NOW - HOUR,
        attempts=MAX_ATTEMPTS,
    )

    assert reminders_sweep(now=NOW).sent == 0

    reminder.refresh_from_db()
    assert reminder.status == TaskReminder.Status.FAILED
    assert not Notification.objects.exists()


def test_inactive_owners_and_deleted_customers_get_no_reminders(rep, teammate):
    task_for(rep, NOW - HOUR)
    rep.is_active = False
    rep.save()
    gone = task_for(teammate, NOW - HOUR)
    gone.customer.deleted_at = NOW - DAY
    gone.customer.save()

    result = reminders_sweep(now=NOW)

    assert result.sent == 0 and result.skipped == 1  # rep's row, planned then skipped
    assert not TaskReminder.objects.filter(task=gone).exists()
    assert not Notification.objects.exists()


# --- Administration ------------------------------------------------------------------------


def test_administrator_adds_an_escalation_step_and_the_sweep_uses_it(client, administrator, rep, lead):
    from django.urls import reverse

    client.force_login(administrator)
    add = reverse("admin:interactions_escalationstep_add")
    fields = {"notify_lead": "on", "flag_for_reassignment": "on", "active": "on"}

    refused = client.post(add, {"days_overdue": 0, **fields})
    response = client.post(add, {"days_overdue": 10, **fields})

    assert refused.status_code == 200 and not EscalationStep.objects.filter(days_overdue=0).exists()
    assert response.status_code == 302
    task = task_for(rep, NOW - 11 * DAY)
    reminders_sweep(now=NOW)
    assert set(TaskReminder.objects.filter(task=task).values_list("step", flat=True)) == {"overdue", "day:10"}


def test_administrator_looks_up_reminders_and_digests_read_only(client, administrator, rep):
    from django.urls import reverse

    task_for(rep, NOW - HOUR)
    reminders_sweep(now=NOW)
    client.force_login(administrator)

    reminders = client.get(reverse("admin:interactions_taskreminder_changelist"))
    digests = client.get(reverse("admin:interactions_leaddigest_changelist"))
    steps = client.get(reverse("admin:interactions_escalationstep_changelist"))

    assert reminders.status_code == digests.status_code == steps.status_code == 200
    assert "overdue" in reminders.content.decode()
    assert client.get(reverse("admin:interactions_taskreminder_add")).status_code == 403
