"""Stale-deal alerts and overdue-payment warnings (回款预警), driven by the database like the
follow-up reminders (interactions.services.reminders), so they are idempotent and catch up by
themselves after downtime:

1. plan: insert the outbox rows (``DealAlert``, ``PaymentWarning``) that the records qualify for
   *now*. Their unique constraints with ``ON CONFLICT DO NOTHING`` make a rerun, or a second
   worker, insert nothing.

   - An open opportunity over its stage's ``expected_days`` in stage: reason "stale", anchored
     to the time it entered the stage (a new stage earns a new alert). An open opportunity whose
     next step's date has passed (local day): reason "next step", anchored to that date (a new
     next step earns a new alert). The owner is told (step "owner"); past
     ``DEAL_ALERT_LEAD_AFTER_DAYS`` beyond the expectation or the date, the lead of the
     opportunity's team too (step "lead").
   - An unsettled instalment of an order in force whose due date has passed: the order's owner
     (step "owner"), and past ``PAYMENT_WARNING_LEAD_AFTER_DAYS`` days overdue the team lead
     (step "lead"). Anchored to the due date: a rescheduled instalment is warned of again.

   A step nobody is to be told of (no lead, or the owner leads the team) still gets one row,
   "skipped", so the record is not looked at again.
2. deliver (accounts.outbox): claim with ``FOR UPDATE SKIP LOCKED`` and a lease, then per row
   one transaction checks the record still qualifies (closed, moved, a new next step, settled or
   cancelled since planning: skipped), creates the in-app notification and sends the e-mail in
   the recipient's language, and marks the row sent: each alert once.
"""

import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import notifications
from accounts.models import User
from accounts.outbox import SweepResult, deadline_after, deliver, deliver_row
from accounts.templatetags.crm import money
from opportunities.models import DealAlert, Instalment, Opportunity, Order, PaymentWarning, Stage

PLAN_BATCH = 1000
DELIVER_BATCH = 100
TIME_BUDGET = timedelta(minutes=5)  # well below the hourly beat interval

OWNER = "owner"
LEAD = "lead"

# Notification kinds (accounts.notifications), chosen per user for e-mail on the preferences page.
KIND_DEAL_STALE = "deal_stale"
KIND_DEAL_NEXT_STEP = "deal_next_step_overdue"
KIND_DEAL_TEAM = "deal_alert_team"
KIND_PAYMENT_OVERDUE = "payment_overdue"
KIND_PAYMENT_TEAM = "payment_overdue_team"


def register_notification_kinds() -> None:
    """Called from OpportunitiesConfig.ready() and at the start of each sweep (idempotent)."""
    for key, label in [
        (KIND_DEAL_STALE, _("An opportunity of mine is over its stage's expected days")),
        (KIND_DEAL_NEXT_STEP, _("The next step of an opportunity of mine is overdue")),
        (KIND_DEAL_TEAM, _("An opportunity of my team has stalled for days (team leads)")),
        (KIND_PAYMENT_OVERDUE, _("A payment instalment of my order is overdue")),
        (KIND_PAYMENT_TEAM, _("A payment instalment of my team is days overdue (team leads)")),
    ]:
        notifications.register(notifications.Kind(key=key, label=label))


def local_day(now: datetime) -> date:
    """The day of the site's time zone (Asia/Shanghai): 00:30 there is still the previous UTC day."""
    return timezone.localtime(now, ZoneInfo(settings.TIME_ZONE)).date()


def _days(setting: str) -> timedelta:
    return timedelta(days=getattr(settings, setting))


def stale_anchor(stage_entered_at: datetime) -> str:
    """The anchor of a "stale" alert: the stage entry time, in UTC ISO (one text per instant)."""
    return stage_entered_at.astimezone(UTC).isoformat()


def next_step_anchor(next_step_date: date) -> str:
    return next_step_date.isoformat()


def _recipients(step_lead: bool, owner_id: int, lead_id: int | None) -> list[tuple[str, int, bool]]:
    """(step, recipient, to skip) of one record: the owner, and past the threshold the team lead.

    A lead step with nobody else to tell (no lead, or the owner leads the team) is one skipped row.
    """
    rows = [(OWNER, owner_id, False)]
    if step_lead:
        rows.append((LEAD, lead_id, False) if lead_id and lead_id != owner_id else (LEAD, owner_id, True))
    return rows


# Stale-deal alerts


def _open_opportunities() -> models.QuerySet[Opportunity]:
    return Opportunity.objects.open().filter(customer__deleted_at__isnull=True)


def deal_alerts_sweep(
    *, now: datetime | None = None, time_budget: timedelta = TIME_BUDGET, batch_size: int = DELIVER_BATCH
) -> SweepResult:
    """Plan and deliver the stale-deal alerts due at ``now``; safe to run twice or concurrently."""
    register_notification_kinds()
    now = now or timezone.now()
    deadline = deadline_after(time_budget)
    result = SweepResult(planned=deal_alerts_plan(now=now, deadline=deadline))
    deliver(DealAlert, _deliver_deal_alert, now=now, deadline=deadline, batch_size=batch_size, result=result)
    return result


def deal_alerts_plan(*, now: datetime, deadline: float | None = None, batch_size: int = PLAN_BATCH) -> int:
    """Insert the missing alert rows for what the open opportunities qualify for at ``now``;
    returns the rows planned."""
    deadline = deadline or deadline_after(TIME_BUDGET)
    lead_after = _days("DEAL_ALERT_LEAD_AFTER_DAYS")
    planned = 0
    # Per stage, so each query is a range of the (stage, stage_entered_at) index. Stages no longer
    # in use still count: opportunities may sit in them.
    for stage in Stage.objects.filter(is_won=False, is_lost=False, expected_days__gt=0).order_by("pk"):
        late = now - timedelta(days=stage.expected_days)
        planned += _plan_deal_alerts(
            DealAlert.STALE,
            _open_opportunities().filter(stage=stage, stage_entered_at__lt=late),
            field="stage_entered_at",
            anchor=stale_anchor,
            lead_before=lambda entered, late=late: entered < late - lead_after,
            deadline=deadline,
            batch_size=batch_size,
        )
    today = local_day(now)
    planned += _plan_deal_alerts(
        DealAlert.NEXT_STEP_OVERDUE,
        # The partial index on open opportunities' next_step_date serves this range.
        _open_opportunities().filter(next_step_date__lt=today),
        field="next_step_date",
        anchor=next_step_anchor,
        lead_before=lambda day: day < today - lead_after,
        deadline=deadline,
        batch_size=batch_size,
    )
    return planned


def _plan_deal_alerts(
    reason: str,
    opportunities: models.QuerySet[Opportunity],
    *,
    field: str,
    anchor: Callable,
    lead_before: Callable,
    deadline: float,
    batch_size: int,
) -> int:
    """Rows of ``reason`` for ``opportunities`` that have none yet for their current anchor.

    The anchor is text (an instant or a date), so "planned already?" is answered per batch from
    the unique index (opportunity, reason, …) rather than inside the candidates' query; batches
    walk the candidates by primary key.
    """
    planned, after = 0, 0
    rows = opportunities.order_by("pk").values_list("pk", field, "owner_id", "team__lead_id")
    while time.monotonic() < deadline:
        batch = list(rows.filter(pk__gt=after)[:batch_size])
        if not batch:
            break
        after = batch[-1][0]
        existing = set(
            DealAlert.objects.filter(opportunity_id__in=[row[0] for row in batch], reason=reason).values_list(
                "opportunity_id", "step", "anchor", "recipient_id"
            )
        )
        alerts = []
        for opportunity_id, value, owner_id, lead_id in batch:
            key = anchor(value)
            for step, recipient_id, skip in _recipients(lead_before(value), owner_id, lead_id):
                if (opportunity_id, step, key, recipient_id) in existing:
                    continue
                alerts.append(
                    DealAlert(
                        opportunity_id=opportunity_id,
                        reason=reason,
                        step=step,
                        anchor=key,
                        recipient_id=recipient_id,
                        status=DealAlert.Status.SKIPPED if skip else DealAlert.Status.PENDING,
                    )
                )
        if alerts:
            # A concurrent planner may have inserted some since the check: the constraint skips them.
            DealAlert.objects.bulk_create(alerts, ignore_conflicts=True)
            planned += len(alerts)
        if len(batch) < batch_size:
            break
    return planned


def _deal_alert_due(alert: DealAlert, opportunity: Opportunity, recipient: User, now: datetime) -> bool:
    """Does the alert still hold? Closed, moved on, a new next step, another owner or lead since
    planning: no."""
    if opportunity.closed_at is not None or opportunity.customer.deleted_at is not None:
        return False
    if not recipient.is_active:
        return False
    if alert.step == OWNER and recipient.pk != opportunity.owner_id:
        return False
    if alert.step == LEAD and (opportunity.team is None or opportunity.team.lead_id != recipient.pk):
        return False
    if alert.reason == DealAlert.STALE:
        return (
            alert.anchor == stale_anchor(opportunity.stage_entered_at)
            and opportunity.stage.expected_days > 0
            and opportunity.stage_entered_at < now - timedelta(days=opportunity.stage.expected_days)
        )
    return (
        opportunity.next_step_date is not None
        and alert.anchor == next_step_anchor(opportunity.next_step_date)
        and opportunity.next_step_date < local_day(now)
    )


def _deliver_deal_alert(pk: int, token: uuid.UUID, now: datetime) -> str:
    return deliver_row(
        DealAlert,
        pk,
        token,
        now,
        related=[
            "opportunity__customer",
            "opportunity__stage",
            "opportunity__owner",
            "opportunity__team",
            "recipient",
        ],
        holds=lambda alert, now: _deal_alert_due(alert, alert.opportunity, alert.recipient, now),
        send=lambda alert, now: _notify_deal(alert, alert.opportunity, alert.recipient, now),
    )


def _notify_deal(alert: DealAlert, opportunity: Opportunity, recipient: User, now: datetime) -> None:
    to_owner = recipient.pk == opportunity.owner_id
    stage = opportunity.stage
    with notifications.recipient_locale(recipient):
        values = {
            "name": opportunity.name,
            "number": opportunity.number,
            "customer": opportunity.customer.name,
            "stage": str(stage),
            "expected": stage.expected_days,
            "amount": money(opportunity.amount, opportunity.currency),
            "owner": str(opportunity.owner),
            "next_step": opportunity.next_step,
            "date": date_format(opportunity.next_step_date, "SHORT_DATE_FORMAT")
            if opportunity.next_step_date
            else "",
        }
        if alert.reason == DealAlert.STALE:
            values["days"] = days = opportunity.days_in_stage(now)
            kind = KIND_DEAL_STALE if to_owner else KIND_DEAL_TEAM
            if to_owner:
                title = ngettext(
                    "Stalled opportunity: %(name)s has been in %(stage)s for %(days)d day",
                    "Stalled opportunity: %(name)s has been in %(stage)s for %(days)d days",
                    days,
                )
            else:
                title = ngettext(
                    "%(owner)s's opportunity %(name)s has been in %(stage)s for %(days)d day",
                    "%(owner)s's opportunity %(name)s has been in %(stage)s for %(days)d days",
                    days,
                )
        else:
            values["days"] = days = (local_day(now) - opportunity.next_step_date).days
            kind = KIND_DEAL_NEXT_STEP if to_owner else KIND_DEAL_TEAM
            if to_owner:
                title = ngettext(
                    "Next step %(days)d day overdue: %(next_step)s (%(name)s)",
                    "Next step %(days)d days overdue: %(next_step)s (%(name)s)",
                    days,
                )
            else:
                title = ngettext(
                    "%(owner)s's opportunity %(name)s: next step %(days)d day overdue",
                    "%(owner)s's opportunity %(name)s: next step %(days)d days overdue",
                    days,
                )
        title %= values
        lines = [
            gettext("Customer: %(customer)s") % values,
            ngettext(
                "Stage: %(stage)s (expected %(expected)d day)",
                "Stage: %(stage)s (expected %(expected)d days)",
                stage.expected_days,
            )
            % values,
            gettext("Amount: %(amount)s") % values,
            gettext("Next step: %(next_step)s (%(date)s)") % values,
        ]
        if not to_owner:
            lines.append(gettext("Owner: %(owner)s") % values)
        body = "\n".join(lines)
    notifications.notify(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        url=opportunity.get_absolute_url(),
        email_template="deal_alert",
        email_context={"opportunity": opportunity, "lines": lines},
    )


# Overdue-payment warnings (回款预警)


def _unsettled_instalments() -> models.QuerySet[Instalment]:
    return Instalment.objects.filter(
        settled_at__isnull=True, order__status=Order.Status.ACTIVE, order__customer__deleted_at__isnull=True
    )


def payment_warnings_sweep(
    *, now: datetime | None = None, time_budget: timedelta = TIME_BUDGET, batch_size: int = DELIVER_BATCH
) -> SweepResult:
    """Plan and deliver the overdue-payment warnings due at ``now``; safe to run twice or concurrently."""
    register_notification_kinds()
    now = now or timezone.now()
    deadline = deadline_after(time_budget)
    result = SweepResult(planned=payment_warnings_plan(now=now, deadline=deadline))
    deliver(
        PaymentWarning,
        _deliver_payment_warning,
        now=now,
        deadline=deadline,
        batch_size=batch_size,
        result=result,
    )
    return result


def payment_warnings_plan(
    *, now: datetime, deadline: float | None = None, batch_size: int = PLAN_BATCH
) -> int:
    """Insert the missing warning rows of the overdue instalments at ``now``; returns the rows planned."""
    deadline = deadline or deadline_after(TIME_BUDGET)
    today = local_day(now)
    # Both ranges are served by the partial index of unsettled instalments by due date.
    planned = _plan_payment_step(
        OWNER, _unsettled_instalments().filter(due_date__lt=today), deadline=deadline, batch_size=batch_size
    )
    lead_from = today - _days("PAYMENT_WARNING_LEAD_AFTER_DAYS")
    planned += _plan_payment_step(
        LEAD,
        _unsettled_instalments().filter(due_date__lt=lead_from),
        deadline=deadline,
        batch_size=batch_size,
    )
    return planned


def _plan_payment_step(
    step: str, instalments: models.QuerySet[Instalment], *, deadline: float, batch_size: int
) -> int:
    """One row of ``step`` per instalment with none yet for its current due date (checked inside
    the query through the unique index: the rows just planned drop out of the next batch)."""
    planned_already = PaymentWarning.objects.filter(
        instalment=OuterRef("pk"), step=step, due_date=OuterRef("due_date")
    )
    if step == OWNER:  # an order given to someone else: its new owner is warned too
        planned_already = planned_already.filter(recipient=OuterRef("order__owner"))
    missing = (
        instalments.exclude(Exists(planned_already))
        .order_by("due_date", "pk")
        .values_list("pk", "due_date", "order__owner_id", "order__team__lead_id")
    )
    planned = 0
    while time.monotonic() < deadline:
        batch = list(missing[:batch_size])
        if not batch:
            break
        warnings = []
        for instalment_id, due_date, owner_id, lead_id in batch:
            for row_step, recipient_id, skip in _recipients(step == LEAD, owner_id, lead_id):
                if row_step != step:
                    continue
                warnings.append(
                    PaymentWarning(
                        instalment_id=instalment_id,
                        step=step,
                        due_date=due_date,
                        recipient_id=recipient_id,
                        status=PaymentWarning.Status.SKIPPED if skip else PaymentWarning.Status.PENDING,
                    )
                )
        PaymentWarning.objects.bulk_create(warnings, ignore_conflicts=True)
        planned += len(warnings)
        if len(batch) < batch_size:
            break
    return planned


def _payment_warning_due(
    warning: PaymentWarning, instalment: Instalment, recipient: User, now: datetime
) -> bool:
    order = instalment.order
    if instalment.settled_at is not None or instalment.outstanding <= 0:
        return False
    if order.status != Order.Status.ACTIVE or order.customer.deleted_at is not None:
        return False
    if instalment.due_date != warning.due_date or not instalment.is_overdue(local_day(now)):
        return False
    if not recipient.is_active:
        return False
    if warning.step == OWNER:
        return recipient.pk == order.owner_id
    return order.team is not None and order.team.lead_id == recipient.pk


def order_url(order: Order) -> str:
    try:
        return reverse("opportunities:order-detail", args=[order.pk])
    except NoReverseMatch:  # the order page is not there: the opportunity it came from
        return reverse("opportunities:opportunity-detail", args=[order.opportunity_id])


def _deliver_payment_warning(pk: int, token: uuid.UUID, now: datetime) -> str:
    return deliver_row(
        PaymentWarning,
        pk,
        token,
        now,
        related=[
            "instalment__order__customer",
            "instalment__order__owner",
            "instalment__order__team",
            "recipient",
        ],
        holds=lambda warning, now: _payment_warning_due(warning, warning.instalment, warning.recipient, now),
        send=lambda warning, now: _notify_payment(warning.instalment, warning.recipient, now),
    )


def _notify_payment(instalment: Instalment, recipient: User, now: datetime) -> None:
    order = instalment.order
    to_owner = recipient.pk == order.owner_id
    days = (local_day(now) - instalment.due_date).days
    with notifications.recipient_locale(recipient):
        values = {
            "order": order.number,
            "title": order.title,
            "customer": order.customer.name,
            "sequence": instalment.sequence,
            "outstanding": money(instalment.outstanding, order.currency),
            "amount": money(instalment.amount, order.currency),
            "due": date_format(instalment.due_date, "SHORT_DATE_FORMAT"),
            "days": days,
            "owner": str(order.owner),
        }
        if to_owner:
            title = ngettext(
                "Overdue payment: %(outstanding)s of order %(order)s (%(customer)s), %(days)d day overdue",
                "Overdue payment: %(outstanding)s of order %(order)s (%(customer)s), %(days)d days overdue",
                days,
            )
        else:
            title = ngettext(
                "%(owner)s's customer %(customer)s: %(outstanding)s of order %(order)s %(days)d day overdue",
                "%(owner)s's customer %(customer)s: %(outstanding)s of order %(order)s %(days)d days overdue",
                days,
            )
        title %= values
        lines = [
            gettext("Order: %(order)s %(title)s") % values,
            gettext("Customer: %(customer)s") % values,
            gettext("Instalment %(sequence)d: %(outstanding)s outstanding of %(amount)s") % values,
            gettext("Due date: %(due)s") % values,
            ngettext("%(days)d day overdue", "%(days)d days overdue", days) % values,
        ]
        if not to_owner:
            lines.append(gettext("Owner: %(owner)s") % values)
        body = "\n".join(lines)
    notifications.notify(
        recipient=recipient,
        kind=KIND_PAYMENT_OVERDUE if to_owner else KIND_PAYMENT_TEAM,
        title=title,
        body=body,
        url=order_url(order),
        email_template="payment_warning",
        email_context={"order": order, "instalment": instalment, "lines": lines},
    )
