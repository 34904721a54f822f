"""Service-level breaches and escalations, driven by the database like the stale-deal alerts
(opportunities.services.alerts) so they are idempotent and catch up by themselves after downtime.

Every beat tick (``sla_alerts_sweep``, every 5 minutes):

1. flag: open tickets whose clock runs (not waiting on the customer) and whose first response
   (unanswered) or resolution is past due get ``response_breached_at`` / ``resolution_breached_at``
   with one conditional UPDATE per batch (``… IS NULL … RETURNING``), and a "service level
   missed" entry on their timeline for exactly the rows that UPDATE changed: once per ticket and
   target, even with two sweeps at once. A missed target stays missed (sla_apply keeps the mark).
2. plan: insert the outbox rows (``SlaAlert``) the tickets qualify for *now*, under the unique
   (ticket, target, step, due time, recipient) constraint with ``ON CONFLICT DO NOTHING``:

   - a missed target: step "assignee" to the assignee, or to the queue's agents while nobody
     holds the ticket; step "manager" to the service manager: the lead of the ticket's team,
     else the leads of the teams of the queue's agents, else every active service manager;
   - ``SLA_WARNING_MINUTES`` before a due time: step "soon" to the assignee (or the queue's
     agents).

   A new due time (reopened, priority changed, resumed after a pause) earns new alerts.
3. deliver (accounts.outbox): claim with ``FOR UPDATE SKIP LOCKED`` and a lease; per row one
   transaction checks the alert still holds (answered, resolved, paused, reassigned, or another
   due time since planning: skipped), notifies in the recipient's language and time zone (in-app,
   and by e-mail per their preferences) and marks the row sent: each alert once.

The candidate queries are ranges of the partial indexes ``ticket_response_due`` and
``ticket_resolution_due`` (their conditions are repeated in ``_running``).
"""

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from accounts import notifications, roles
from accounts.models import Team, User
from accounts.outbox import SweepResult, deadline_after, deliver, deliver_row
from service.models import SlaAlert, Ticket, TicketEvent
from service.services.dispatch import CLOSED_STATUSES, may_handle_q

PLAN_BATCH = 1000
DELIVER_BATCH = 100
TIME_BUDGET = timedelta(minutes=4)  # below the 5-minute beat interval

ASSIGNEE = "assignee"
MANAGER = "manager"
SOON = "soon"

# Notification kinds (accounts.notifications), chosen per user for e-mail on the preferences page.
KIND_SLA_BREACH = "sla_breach"
KIND_SLA_ESCALATION = "sla_escalation"
KIND_SLA_SOON = "sla_due_soon"

# target → (due time field, breach mark field)
FIELDS = {
    SlaAlert.RESPONSE: ("first_response_due", "response_breached_at"),
    SlaAlert.RESOLUTION: ("resolution_due", "resolution_breached_at"),
}
BREACH_TEXT = {
    SlaAlert.RESPONSE: _("First response target missed"),
    SlaAlert.RESOLUTION: _("Resolution target missed"),
}


def register_notification_kinds() -> None:
    """Called from ServiceConfig.ready() and at the start of each sweep (idempotent)."""
    for key, label in [
        (KIND_SLA_SOON, _("A ticket I handle is about to miss its service level")),
        (KIND_SLA_BREACH, _("A ticket I handle missed its service level")),
        (KIND_SLA_ESCALATION, _("A ticket of my team missed its service level (service managers)")),
    ]:
        notifications.register(notifications.Kind(key=key, label=label))


@dataclass
class SlaSweepResult(SweepResult):
    breached: int = 0


def _running(target: str, tickets: models.QuerySet[Ticket] | None = None) -> models.QuerySet[Ticket]:
    """Open tickets (of ``tickets``, else all) whose clock for ``target`` runs: the partial
    indexes' conditions."""
    tickets = Ticket.objects.all() if tickets is None else tickets
    tickets = tickets.filter(paused_at__isnull=True, resolved_at__isnull=True).exclude(
        status__in=CLOSED_STATUSES
    )
    if target == SlaAlert.RESPONSE:
        return tickets.filter(first_responded_at__isnull=True, first_response_due__isnull=False)
    return tickets.filter(resolution_due__isnull=False)


def sla_alerts_sweep(
    *, now: datetime | None = None, time_budget: timedelta = TIME_BUDGET, batch_size: int = DELIVER_BATCH
) -> SlaSweepResult:
    """Flag the breaches, plan and deliver the alerts due at ``now``; safe to run twice or at once."""
    register_notification_kinds()
    now = now or timezone.now()
    deadline = deadline_after(time_budget)
    result = SlaSweepResult(breached=sla_breaches_flag(now=now, deadline=deadline))
    result.planned = sla_alerts_plan(now=now, deadline=deadline)
    deliver(SlaAlert, _deliver_sla_alert, now=now, deadline=deadline, batch_size=batch_size, result=result)
    return result


def due_counts(tickets: models.QuerySet[Ticket], *, now: datetime) -> dict[int, dict[str, int]]:
    """For the service-level overview (a read): per priority, the running tickets of ``tickets``
    (the reader's scope) past their first response or resolution due time, and those due within
    SLA_WARNING_MINUTES. Two queries, each a range of a partial due-time index."""
    soon = now + timedelta(minutes=settings.SLA_WARNING_MINUTES)
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: {"response_overdue": 0, "resolution_overdue": 0, "due_soon": 0}
    )
    for target, (due_field, _mark) in FIELDS.items():
        rows = (
            _running(target, tickets)
            .filter(**{f"{due_field}__lte": soon})
            .order_by()
            .values("priority")
            .annotate(
                overdue=models.Count("pk", filter=Q(**{f"{due_field}__lt": now})),
                due_soon=models.Count("pk", filter=Q(**{f"{due_field}__gte": now})),
            )
        )
        for row in rows:
            counts[row["priority"]][f"{target}_overdue"] += row["overdue"]
            counts[row["priority"]]["due_soon"] += row["due_soon"]
    return dict(counts)


# 1. Flag


def sla_breaches_flag(*, now: datetime, deadline: float | None = None, batch_size: int = PLAN_BATCH) -> int:
    """Mark the running tickets past a due time as breached (once) and put the breach on their
    timeline; returns the marks set."""
    deadline = deadline or deadline_after(TIME_BUDGET)
    flagged = 0
    for target, (due_field, mark_field) in FIELDS.items():
        while time.monotonic() < deadline:
            ids = _flag_batch(target, due_field, mark_field, now=now, batch_size=batch_size)
            flagged += len(ids)
            if len(ids) < batch_size:
                break
    return flagged


@transaction.atomic
def _flag_batch(target: str, due_field: str, mark_field: str, *, now: datetime, batch_size: int) -> list[int]:
    candidates = (
        _running(target)
        .filter(**{f"{due_field}__lt": now, f"{mark_field}__isnull": True})
        .order_by(due_field)
        .values("pk")[:batch_size]
    )
    subquery, params = candidates.query.sql_with_params()
    table = connection.ops.quote_name(Ticket._meta.db_table)
    column = connection.ops.quote_name(Ticket._meta.get_field(mark_field).column)
    # Conditional: a second sweep waiting on the same rows finds the mark set and changes nothing,
    # so only the sweep whose UPDATE returned a ticket records its breach event.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {column} IS NULL AND id IN ({subquery}) RETURNING id",
            [now, *params],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        # Stored text (the timeline shows it to everyone): the site's language.
        with translation.override(settings.LANGUAGE_CODE):
            body = str(BREACH_TEXT[target])
        TicketEvent.objects.bulk_create(
            [TicketEvent(ticket_id=pk, kind=TicketEvent.Kind.BREACH, at=now, body=body) for pk in sorted(ids)]
        )
    return ids


# 2. Plan


def sla_alerts_plan(*, now: datetime, deadline: float | None = None, batch_size: int = PLAN_BATCH) -> int:
    """Insert the missing alert rows of what the running tickets qualify for at ``now``; returns
    the rows planned."""
    deadline = deadline or deadline_after(TIME_BUDGET)
    warning = timedelta(minutes=settings.SLA_WARNING_MINUTES)
    managers = _ManagerFinder()
    planned = 0
    for target, (due_field, _mark) in FIELDS.items():
        missed = _running(target).filter(**{f"{due_field}__lt": now})
        planned += _plan(target, ASSIGNEE, missed, managers, deadline=deadline, batch_size=batch_size)
        planned += _plan(target, MANAGER, missed, managers, deadline=deadline, batch_size=batch_size)
        if warning:
            soon = _running(target).filter(**{f"{due_field}__gte": now, f"{due_field}__lte": now + warning})
            planned += _plan(target, SOON, soon, managers, deadline=deadline, batch_size=batch_size)
    return planned


def _planned_already(target: str, step: str) -> Q:
    """A ticket whose alert of ``step`` for its current due time is planned: for the assignee's
    steps, planned to its current assignee (a new assignee is told too); to anyone otherwise."""
    due_field = FIELDS[target][0]
    rows = SlaAlert.objects.filter(
        ticket=OuterRef("pk"), target=target, step=step, due_at=OuterRef(due_field)
    )
    if step == MANAGER:
        return Q(Exists(rows))
    return Q(Exists(rows.filter(recipient=OuterRef("assignee"))), assignee__isnull=False) | Q(
        Exists(rows), assignee__isnull=True
    )


def _plan(
    target: str,
    step: str,
    tickets: models.QuerySet[Ticket],
    managers: "_ManagerFinder",
    *,
    deadline: float,
    batch_size: int,
) -> int:
    """Rows of ``step`` for ``tickets`` without one yet. Batches walk by pk, so a ticket nobody
    can be told of (no agent, no manager) is looked at once a sweep, not in a loop."""
    due_field = FIELDS[target][0]
    missing = (
        tickets.exclude(_planned_already(target, step))
        .order_by("pk")
        .values_list("pk", due_field, "assignee_id", "team_id", "queue_id")
    )
    planned, after = 0, 0
    while time.monotonic() < deadline:
        batch = list(missing.filter(pk__gt=after)[:batch_size])
        if not batch:
            break
        after = batch[-1][0]
        queue_ids = {queue_id for _pk, _due, assignee_id, _team, queue_id in batch if queue_id}
        if step == MANAGER:
            managers.prepare(
                team_ids={team_id for _pk, _due, _assignee, team_id, _queue in batch if team_id},
                queue_ids=queue_ids,
            )
        else:
            agents = _queue_agents(
                {queue_id for _pk, _due, assignee_id, _team, queue_id in batch if not assignee_id}
            )
        alerts = []
        for ticket_id, due_at, assignee_id, team_id, queue_id in batch:
            if step == MANAGER:
                recipients = managers.of(team_id, queue_id, exclude=assignee_id)
            else:
                recipients = [assignee_id] if assignee_id else agents.get(queue_id, [])
            alerts += [
                SlaAlert(
                    ticket_id=ticket_id, target=target, step=step, due_at=due_at, recipient_id=recipient_id
                )
                for recipient_id in recipients
            ]
        # A concurrent planner may have inserted some since the check: the constraint skips them.
        SlaAlert.objects.bulk_create(alerts, ignore_conflicts=True)
        planned += len(alerts)
        if len(batch) < batch_size:
            break
    return planned


def _queue_agents(queue_ids: set[int]) -> dict[int, list[int]]:
    """The active agents (who may handle tickets) of each queue: those told while nobody holds
    one of its tickets."""
    if not queue_ids:
        return {}
    agents: dict[int, list[int]] = defaultdict(list)
    rows = (
        User.service_queues.through.objects.filter(queue_id__in=queue_ids, user__is_active=True)
        .filter(user__in=User.objects.filter(may_handle_q()))
        .order_by("queue_id", "user_id")
        .values_list("queue_id", "user_id")
    )
    for queue_id, user_id in rows:
        agents[queue_id].append(user_id)
    return agents


class _ManagerFinder:
    """Who a breach is escalated to (the service manager): the active lead of the ticket's team;
    else the active leads of the teams of the queue's active agents; else every active user of
    the Service manager role. Looked up per batch (three queries at most), kept for the sweep."""

    def __init__(self) -> None:
        self.team_leads: dict[int, int | None] = {}
        self.queue_leads: dict[int, list[int]] = {}
        self.all_managers: list[int] | None = None

    def prepare(self, *, team_ids: set[int], queue_ids: set[int]) -> None:
        if teams := team_ids - self.team_leads.keys():
            found = dict(Team.objects.filter(pk__in=teams, lead__is_active=True).values_list("pk", "lead_id"))
            self.team_leads.update({team_id: found.get(team_id) for team_id in teams})
        if queues := queue_ids - self.queue_leads.keys():
            leads: dict[int, set[int]] = defaultdict(set)
            rows = (
                User.service_queues.through.objects.filter(
                    queue_id__in=queues, user__is_active=True, user__team__lead__is_active=True
                )
                .values_list("queue_id", "user__team__lead_id")
                .distinct()
            )
            for queue_id, lead_id in rows:
                leads[queue_id].add(lead_id)
            self.queue_leads.update({queue_id: sorted(leads[queue_id]) for queue_id in queues})

    def _service_managers(self) -> list[int]:
        if self.all_managers is None:
            group = Group.objects.filter(name=roles.SERVICE_MANAGER.group_name)
            self.all_managers = list(
                User.objects.filter(groups__in=group, is_active=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        return self.all_managers

    def of(self, team_id: int | None, queue_id: int | None, *, exclude: int | None) -> list[int]:
        for candidates in (
            [self.team_leads.get(team_id)] if team_id else [],
            self.queue_leads.get(queue_id, []) if queue_id else [],
        ):
            found = [pk for pk in candidates if pk and pk != exclude]
            if found:
                return found
            if exclude and exclude in candidates:
                return []  # the manager handles the ticket: told as its assignee
        return [pk for pk in self._service_managers() if pk != exclude]


# 3. Deliver


def _alert_holds(alert: SlaAlert, ticket: Ticket, recipient: User, now: datetime) -> bool:
    """Does the alert still hold? Answered, resolved, paused, another due time, reassigned since
    planning: no."""
    if not recipient.is_active or not ticket.is_open or ticket.paused_at is not None:
        return False
    if ticket.customer.deleted_at is not None:
        return False
    due_field, _mark = FIELDS[alert.target]
    if getattr(ticket, due_field) != alert.due_at:
        return False
    if alert.target == SlaAlert.RESPONSE and ticket.first_responded_at is not None:
        return False
    if alert.step == SOON and alert.due_at < now:
        return False  # too late to warn: the breach alert tells it
    if alert.step in (ASSIGNEE, SOON):
        if ticket.assignee_id is not None:
            return recipient.pk == ticket.assignee_id
        return ticket.queue is not None and ticket.queue.agents.filter(pk=recipient.pk).exists()
    return True


def _deliver_sla_alert(pk: int, token: uuid.UUID, now: datetime) -> str:
    return deliver_row(
        SlaAlert,
        pk,
        token,
        now,
        related=["ticket__customer", "ticket__assignee", "ticket__queue", "recipient"],
        holds=lambda alert, now: _alert_holds(alert, alert.ticket, alert.recipient, now),
        send=lambda alert, now: _notify(alert, alert.ticket, alert.recipient),
    )


def _notify(alert: SlaAlert, ticket: Ticket, recipient: User) -> None:
    response = alert.target == SlaAlert.RESPONSE
    with notifications.recipient_locale(recipient):
        values = {
            "number": ticket.number,
            "subject": ticket.subject,
            "customer": ticket.customer.name,
            "priority": str(ticket.get_priority_display()),
            "type": str(ticket.get_ticket_type_display()),
            # Translators: the assignee of a ticket that nobody holds yet.
            "assignee": str(ticket.assignee) if ticket.assignee else pgettext("ticket assignee", "nobody"),
            "due": date_format(timezone.localtime(alert.due_at), "SHORT_DATETIME_FORMAT"),
        }
        if alert.step == SOON:
            kind = KIND_SLA_SOON
            if response:
                title = gettext("First response due at %(due)s: ticket %(number)s %(subject)s")
            else:
                title = gettext("Resolution due at %(due)s: ticket %(number)s %(subject)s")
        elif alert.step == ASSIGNEE:
            kind = KIND_SLA_BREACH
            if response:
                title = gettext("First response overdue: ticket %(number)s %(subject)s")
            else:
                title = gettext("Resolution overdue: ticket %(number)s %(subject)s")
        else:
            kind = KIND_SLA_ESCALATION
            if response:
                title = gettext(
                    "Escalation: ticket %(number)s (%(assignee)s) missed its first response target"
                )
            else:
                title = gettext("Escalation: ticket %(number)s (%(assignee)s) missed its resolution target")
        title %= values
        lines = [
            gettext("Ticket: %(number)s %(subject)s") % values,
            gettext("Customer: %(customer)s") % values,
            gettext("Type: %(type)s, priority: %(priority)s") % values,
            gettext("Assignee: %(assignee)s") % values,
            (gettext("First response due: %(due)s") if response else gettext("Resolution due: %(due)s"))
            % values,
        ]
        body = "\n".join(lines)
    notifications.notify(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        url=ticket.get_absolute_url(),
        email_template="sla_alert",
        email_context={"ticket": ticket, "lines": lines},
    )
