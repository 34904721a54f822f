"""Reminders of follow-up tasks (SPEC 3): due soon, overdue (待跟进), escalation steps, and the
team lead's daily digest of the team's overdue tasks.

The sweeps are driven by the database, never by tasks queued when a task is saved, so they are
idempotent and catch up by themselves:

1. plan: insert the outbox rows (``TaskReminder``) that the tasks qualify for *now*; the unique
   constraint (task, step, due time, recipient) with ``ON CONFLICT DO NOTHING`` makes a second
   run, or a second worker, insert nothing. Reminders that fell due while Redis or the worker was
   down are simply planned by the next run. A task already overdue when first seen skips "due
   soon"; a task already past a later escalation step skips the earlier ones.
2. claim: a batch of pending rows (and rows left "sending" past their lease by a dead worker)
   with ``SELECT … FOR UPDATE SKIP LOCKED``, marked "sending" with a claim token and a lease.
3. deliver: per row, one transaction locks it (still ours?), creates the in-app notification,
   sends the e-mail and marks it sent. The in-app notification is therefore created exactly once.
   The e-mail is sent before the commit: a crash between the send and the commit leaves the row
   "sending", and the next run after the lease repeats that e-mail — an e-mail may be repeated,
   never lost.

Each run works in batches and stops after ``time_budget``; the rest waits for the next beat tick.
"""

import logging
import time
import uuid
from datetime import date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import notifications
from accounts.models import Team, User
from accounts.outbox import (  # the claim, lease and exactly-once delivery, shared with other outboxes
    LEASE,  # noqa: F401  (still importable from here, e.g. by the reminder tests)
    MAX_ATTEMPTS,  # noqa: F401
    SweepResult,
    claimed,
    deadline_after,
    deliver,
    mark,
)
from interactions.models import EscalationStep, FollowUpTask, LeadDigest, TaskQuerySet, TaskReminder

logger = logging.getLogger(__name__)

DUE_SOON = timedelta(days=1)  # SPEC 3: the owner is reminded one day before a task is due
PLAN_BATCH = 1000
DELIVER_BATCH = 100
TIME_BUDGET = timedelta(minutes=2)  # below the beat interval, so runs rarely overlap
DIGEST_ROWS = 200  # tasks listed in one digest e-mail; the count says how many there are

# Notification kinds (accounts.notifications), chosen per user for e-mail on the preferences page.
KIND_DUE_SOON = "task_due_soon"
KIND_OVERDUE = "task_overdue"
KIND_ESCALATION = "task_escalation"
KIND_DIGEST = "team_overdue_digest"


def register_notification_kinds() -> None:
    """Called from InteractionsConfig.ready() and at the start of each sweep (idempotent)."""
    for key, label in [
        (KIND_DUE_SOON, _("A follow-up task is due tomorrow")),
        (KIND_OVERDUE, _("A follow-up task became overdue")),
        (KIND_ESCALATION, _("A follow-up task is still overdue days later")),
        (KIND_DIGEST, _("Daily digest of my team's overdue tasks (team leads)")),
    ]:
        notifications.register(notifications.Kind(key=key, label=label))


def _escalation_key(days: int) -> str:
    return f"day:{days}"


# The task reminders


def reminders_sweep(
    *, now: datetime | None = None, time_budget: timedelta = TIME_BUDGET, batch_size: int = DELIVER_BATCH
) -> SweepResult:
    """Plan and deliver the task reminders due at ``now``; safe to run twice or concurrently."""
    register_notification_kinds()
    now = now or timezone.now()
    deadline = deadline_after(time_budget)
    result = SweepResult(planned=reminders_plan(now=now, deadline=deadline))
    deliver(TaskReminder, _deliver_reminder, now=now, deadline=deadline, batch_size=batch_size, result=result)
    return result


def _open_tasks() -> TaskQuerySet:
    return FollowUpTask.objects.open().filter(customer__deleted_at__isnull=True)


def reminders_plan(*, now: datetime, deadline: float | None = None, batch_size: int = PLAN_BATCH) -> int:
    """Insert the missing outbox rows for what the open tasks qualify for at ``now``."""
    deadline = deadline or deadline_after(TIME_BUDGET)
    planned = _plan_step(
        TaskReminder.DUE_SOON,
        _open_tasks().filter(due_at__gte=now, due_at__lte=now + DUE_SOON),
        owner=True,
        now=now,
        deadline=deadline,
        batch_size=batch_size,
    )
    planned += _plan_step(
        TaskReminder.OVERDUE,
        _open_tasks().filter(due_at__lt=now),
        owner=True,
        now=now,
        deadline=deadline,
        batch_size=batch_size,
    )
    steps = list(EscalationStep.objects.filter(active=True).order_by("days_overdue"))
    for index, step in enumerate(steps):
        tasks = _open_tasks().filter(due_at__lte=now - timedelta(days=step.days_overdue))
        if index + 1 < len(steps):  # already past the next step: that one is told instead
            tasks = tasks.filter(due_at__gt=now - timedelta(days=steps[index + 1].days_overdue))
        planned += _plan_step(
            _escalation_key(step.days_overdue),
            tasks,
            owner=step.notify_owner,
            lead=step.notify_lead,
            flag=step.flag_for_reassignment,
            now=now,
            deadline=deadline,
            batch_size=batch_size,
        )
    return planned


def _plan_step(
    step: str,
    tasks: models.QuerySet,
    *,
    now: datetime,
    deadline: float,
    batch_size: int,
    owner: bool = False,
    lead: bool = False,
    flag: bool = False,
) -> int:
    """Rows for ``step`` for the tasks that have none yet for their current due time.

    A step nobody is to be told of (a lead-only step for a team without a lead) still gets one
    row, "skipped", so the task is not looked at again. Returns the tasks planned.
    """
    planned_already = TaskReminder.objects.filter(
        task=OuterRef("pk"), step=step, task_due_at=OuterRef("due_at")
    )
    missing = tasks.exclude(Exists(planned_already)).order_by("due_at", "pk")
    planned = 0
    while time.monotonic() < deadline:
        rows = list(missing.values_list("pk", "due_at", "owner_id", "owner__team__lead_id")[:batch_size])
        if not rows:
            break
        reminders = []
        for task_id, due_at, owner_id, lead_id in rows:
            recipients = ([owner_id] if owner else []) + ([lead_id] if lead and lead_id else [])
            recipients = list(dict.fromkeys(recipients))  # the owner may be the lead
            for recipient_id in recipients:
                reminders.append(
                    TaskReminder(task_id=task_id, step=step, recipient_id=recipient_id, task_due_at=due_at)
                )
            if not recipients:
                reminders.append(
                    TaskReminder(
                        task_id=task_id,
                        step=step,
                        recipient_id=owner_id,
                        task_due_at=due_at,
                        status=TaskReminder.Status.SKIPPED,
                    )
                )
        with transaction.atomic():
            TaskReminder.objects.bulk_create(reminders, ignore_conflicts=True)
            if flag:
                # Conditional: a concurrent planner flags the same tasks with the same effect; once
                # the row exists the task is not flagged again (a lead's reassignment clears it).
                FollowUpTask.objects.filter(
                    pk__in=[row[0] for row in rows],
                    status=FollowUpTask.Status.OPEN,
                    reassign_flagged_at__isnull=True,
                ).update(reassign_flagged_at=now)
        planned += len(rows)
        if len(rows) < batch_size:
            break
    return planned


def _deliver_reminder(pk: int, token: uuid.UUID, now: datetime) -> str:
    with transaction.atomic():
        reminder = (
            claimed(TaskReminder, pk, token)
            .select_related("task__customer", "task__owner", "recipient")
            .first()
        )
        if reminder is None:  # our lease ran out and another run took it over
            return "gone"
        task, recipient = reminder.task, reminder.recipient
        if (
            task.status != FollowUpTask.Status.OPEN
            or task.due_at != reminder.task_due_at
            or task.customer.deleted_at is not None
            or not recipient.is_active
        ):
            mark(TaskReminder, pk, TaskReminder.Status.SKIPPED, now)
            return "skipped"
        _notify_task(reminder, task, recipient, now)
        mark(TaskReminder, pk, TaskReminder.Status.SENT, now)
        return "sent"


def _local(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _notify_task(reminder: TaskReminder, task: FollowUpTask, recipient: User, now: datetime) -> None:
    with notifications.recipient_locale(recipient):
        values = {
            "content": task.content,
            "customer": task.customer.name,
            "due": _local(task.due_at),
            "owner": str(task.owner),
        }
        flagged = False
        if reminder.step == TaskReminder.DUE_SOON:
            kind = KIND_DUE_SOON
            title = gettext("Follow-up task due %(due)s: %(content)s") % values
        elif reminder.step == TaskReminder.OVERDUE:
            kind = KIND_OVERDUE
            title = gettext("Follow-up task overdue: %(content)s") % values
        else:
            kind = KIND_ESCALATION
            days = int(reminder.step.removeprefix("day:"))
            values["days"] = days
            flagged = task.reassign_flagged_at is not None and recipient.pk != task.owner_id
            if recipient.pk == task.owner_id:
                title = (
                    ngettext(
                        "Follow-up task %(days)d day overdue: %(content)s",
                        "Follow-up task %(days)d days overdue: %(content)s",
                        days,
                    )
                    % values
                )
            else:
                title = (
                    ngettext(
                        "%(owner)s's follow-up task is %(days)d day overdue: %(content)s",
                        "%(owner)s's follow-up task is %(days)d days overdue: %(content)s",
                        days,
                    )
                    % values
                )
        lines = [gettext("Customer: %(customer)s") % values, gettext("Due: %(due)s") % values]
        if recipient.pk != task.owner_id:
            lines.append(gettext("Owner: %(owner)s") % values)
        if flagged:
            lines.append(gettext("Flagged for reassignment: please give it to another member of the team."))
        body = "\n".join(lines)
    url = task.get_absolute_url()
    notifications.notify(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        url=url,
        email_template="task_reminder",
        email_context={"task": task, "lines": lines},
    )


# The team lead's daily digest


def _digest_hour() -> int:
    return settings.REMINDER_DIGEST_HOUR


def local_day(now: datetime) -> date:
    """The day of the site's time zone (Asia/Shanghai): 00:30 there is still the previous UTC day."""
    return timezone.localtime(now, ZoneInfo(settings.TIME_ZONE)).date()


def digests_sweep(
    *, now: datetime | None = None, time_budget: timedelta = TIME_BUDGET, batch_size: int = DELIVER_BATCH
) -> SweepResult:
    """Plan today's digests once the digest hour has come (local time), then deliver; a worker
    that was down at that hour catches up later the same day. Safe to run twice or concurrently."""
    register_notification_kinds()
    now = now or timezone.now()
    deadline = deadline_after(time_budget)
    result = SweepResult(planned=digests_plan(now=now))
    deliver(LeadDigest, _deliver_digest, now=now, deadline=deadline, batch_size=batch_size, result=result)
    return result


def _team_overdue(now: datetime) -> TaskQuerySet:
    return FollowUpTask.objects.overdue(now).filter(customer__deleted_at__isnull=True)


def digests_plan(*, now: datetime) -> int:
    """One row per active lead whose team has an overdue task, for today's local date."""
    local_now = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE))
    if local_now.hour < _digest_hour():
        return 0
    overdue = _team_overdue(now).filter(owner__team=OuterRef("pk"))
    lead_ids = set(
        Team.objects.filter(lead__isnull=False, lead__is_active=True)
        .filter(Exists(overdue))
        .values_list("lead_id", flat=True)
    )
    LeadDigest.objects.bulk_create(
        [LeadDigest(lead_id=lead_id, day=local_now.date()) for lead_id in sorted(lead_ids)],
        ignore_conflicts=True,
    )
    return len(lead_ids)


def _manager_url() -> str:
    try:
        return reverse("interactions:team")
    except NoReverseMatch:  # the manager page is not there yet: the task list's overdue filter
        return reverse("interactions:task-list") + "?status=overdue"


def _deliver_digest(pk: int, token: uuid.UUID, now: datetime) -> str:
    with transaction.atomic():
        digest = claimed(LeadDigest, pk, token).select_related("lead").first()
        if digest is None:
            return "gone"
        lead = digest.lead
        overdue = _team_overdue(now).filter(owner__team__lead=lead)
        count = overdue.count()
        if not count or not lead.is_active or digest.day != local_day(now):
            # Nothing overdue any more, or a day that has passed (a stale digest helps nobody).
            mark(LeadDigest, pk, LeadDigest.Status.SKIPPED, now)
            return "skipped"
        tasks = list(
            overdue.select_related("owner", "customer").order_by(
                "owner__display_name", "owner_id", "due_at", "pk"
            )[:DIGEST_ROWS]
        )
        per_owner = dict(overdue.order_by().values("owner").annotate(n=Count("pk")).values_list("owner", "n"))
        with notifications.recipient_locale(lead):
            groups = []
            for owner, owner_tasks in groupby(tasks, key=lambda task: task.owner):
                rows = [
                    {
                        "task": task,
                        "days": (now - task.due_at).days,
                        "due": _local(task.due_at),
                        "link": notifications.absolute_url(task.get_absolute_url()),
                    }
                    for task in owner_tasks
                ]
                groups.append({"owner": owner, "rows": rows, "count": per_owner.get(owner.pk, len(rows))})
            title = ngettext(
                "%(count)d overdue follow-up task in your team",
                "%(count)d overdue follow-up tasks in your team",
                count,
            ) % {"count": count}
            body = "\n".join(
                ngettext("%(owner)s: %(count)d overdue", "%(owner)s: %(count)d overdue", group["count"])
                % {"owner": group["owner"], "count": group["count"]}
                for group in groups
            )
        notifications.notify(
            recipient=lead,
            kind=KIND_DIGEST,
            title=title,
            body=body,
            url=_manager_url(),
            email_template="lead_digest",
            email_context={"groups": groups, "count": count, "shown": len(tasks), "day": digest.day},
        )
        mark(LeadDigest, pk, LeadDigest.Status.SENT, now, task_count=count)
        return "sent"
