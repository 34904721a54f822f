"""Writes of the opportunities app: create, edit (optimistic locking), move between stages.

Winning an opportunity moves the customer to "deal" through the customers app's own service
(customers never learns about opportunities) and plans the after-sales call (services.aftersales).
"""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.errors import ConcurrentEditError, DomainError
from accounts.numbering import next_number
from customers.models import Customer
from customers.services.history import snapshot
from customers.services.profiles import customer_set_stage
from opportunities.models import LostReason, Opportunity, Stage, StageChange, cny_amount
from opportunities.services.aftersales import aftersales_task_plan

# What opportunity_update may change; the stage moves through opportunity_move_stage.
EDITABLE_FIELDS = [
    "name",
    "amount",
    "currency",
    "rate_to_cny",
    "expected_close_date",
    "probability",
    "source",
    "next_step",
    "next_step_date",
    "notes",
]


def _check_money(opportunity: Opportunity) -> None:
    if opportunity.currency == Opportunity.Currency.CNY:
        opportunity.rate_to_cny = Decimal(1)
    elif not opportunity.rate_to_cny or opportunity.rate_to_cny <= 0:
        raise DomainError(_("Enter the rate to CNY for an amount in another currency."), field="rate_to_cny")
    if opportunity.amount is None or opportunity.amount < 0:
        raise DomainError(_("Enter an amount of zero or more."), field="amount")
    opportunity.amount_cny = cny_amount(opportunity.amount, opportunity.rate_to_cny)


def _check_next_step(opportunity: Opportunity) -> None:
    """An open opportunity always has a next step and its date (a cheap discipline)."""
    if opportunity.closed_at is not None:
        return
    if not (opportunity.next_step or "").strip():
        raise DomainError(_("An open opportunity needs a next step."), field="next_step")
    if opportunity.next_step_date is None:
        raise DomainError(_("Give the date of the next step."), field="next_step_date")


def _record_move(opportunity: Opportunity, from_stage: Stage | None, actor, at) -> StageChange:
    return StageChange.objects.create(
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=opportunity.stage,
        changed_by=actor,
        changed_at=at,
        amount=opportunity.amount,
        currency=opportunity.currency,
        amount_cny=opportunity.amount_cny,
    )


@transaction.atomic
def opportunity_create(
    *,
    actor,
    customer: Customer,
    stage: Stage | None = None,
    owner=None,
    probability: int | None = None,
    **fields: Any,
) -> Opportunity:
    """A new opportunity on ``customer``, owned by ``owner`` (default: the actor)."""
    unknown = set(fields) - set(EDITABLE_FIELDS) - {"created_at"}
    if unknown:
        raise TypeError(f"Not an opportunity field: {', '.join(sorted(unknown))}")
    stage = stage or Stage.objects.filter(active=True, is_won=False, is_lost=False).order_by("order").first()
    if stage is None or not stage.is_open:
        raise DomainError(_("A new opportunity starts in an open stage."), field="stage")
    owner = owner or actor
    if not owner.is_active:
        raise DomainError(_("%(user)s is not an active user.") % {"user": owner}, field="owner")
    now = timezone.now()
    opportunity = Opportunity(
        **fields,
        customer=customer,
        owner=owner,
        team_id=owner.team_id,
        stage=stage,
        probability=stage.probability if probability is None else probability,
        stage_entered_at=now,
        created_by=actor,
    )
    _check_money(opportunity)
    _check_next_step(opportunity)
    opportunity.number = next_number("O")
    opportunity.save()
    _record_move(opportunity, None, actor, now)
    return opportunity


def _label(name: str) -> str:
    return capfirst(str(Opportunity._meta.get_field(name).verbose_name))


def stale_message(current: Opportunity, seen: dict[str, str] | None) -> str:
    """Which fields someone else changed, and to what (``seen``: the snapshot the form was read with)."""
    now_values = snapshot(current, [*EDITABLE_FIELDS, "stage"])
    if seen:
        changed = {name: value for name, value in now_values.items() if name in seen and seen[name] != value}
    else:
        changed = {}
    if not changed:
        return _(
            "Someone else saved this opportunity while you were editing. Your input is kept below; "
            "check it and save again."
        )
    parts = "; ".join(
        _("%(field)s: “%(old)s” → “%(new)s”") % {"field": _label(name), "old": seen[name], "new": value}
        for name, value in changed.items()
    )
    return _(
        "Someone else saved this opportunity while you were editing. They changed: %(changes)s. "
        "Your input is kept below; check it and save again to overwrite."
    ) % {"changes": parts}


@transaction.atomic
def opportunity_update(
    *, actor, opportunity: Opportunity, version: int, seen: dict[str, str] | None = None, **changes: Any
) -> Opportunity:
    """Save an edit made on a form read at ``version``; if someone saved since, refuse with a
    message naming what they changed (``seen``: the values the form was read with)."""
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"owner"}
    if unknown:
        raise TypeError(f"Not an editable opportunity field: {', '.join(sorted(unknown))}")
    current = (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("stage", "source")
        .get(pk=opportunity.pk)
    )
    if current.version != version:
        raise ConcurrentEditError(stale_message(current, seen))
    for name, value in changes.items():
        setattr(current, name, value)
    if "owner" in changes:
        current.team_id = current.owner.team_id
    _check_money(current)
    _check_next_step(current)
    current.version = version + 1
    current.save()
    return current


@transaction.atomic
def opportunity_move_stage(
    *,
    actor,
    opportunity: Opportunity,
    stage: Stage,
    probability: int | None = None,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
    next_step: str | None = None,
    next_step_date=None,
) -> Opportunity:
    """Move to ``stage``, recording the change. The probability follows the stage's default unless
    given; won and lost close the opportunity (lost needs a reason); moving a closed one to an open
    stage reopens it. Winning makes the customer a deal (customers' own stage service)."""
    current = (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("stage", "customer")
        .get(pk=opportunity.pk)
    )
    if stage.pk == current.stage_id:
        return current
    if not stage.active:
        raise DomainError(_("This stage is no longer in use."), field="stage")
    if stage.is_lost and lost_reason is None:
        raise DomainError(_("Choose why the opportunity was lost."), field="lost_reason")
    now = timezone.now()
    from_stage = current.stage
    current.stage = stage
    current.stage_entered_at = now
    current.probability = stage.probability if probability is None else probability
    if next_step is not None:
        current.next_step = next_step
    if next_step_date is not None:
        current.next_step_date = next_step_date
    if stage.is_open:
        current.closed_at = None
        current.lost_reason, current.lost_note = None, ""
        _check_next_step(current)
    else:
        current.closed_at = now
        current.lost_reason = lost_reason if stage.is_lost else None
        current.lost_note = lost_note.strip() if stage.is_lost else ""
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db(fields=["version"])
    _record_move(current, from_stage, actor, now)
    if stage.is_won and current.customer.stage != Customer.Stage.DEAL:
        customer_set_stage(
            actor=actor,
            customer=current.customer,
            stage=Customer.Stage.DEAL,
            note=_("Opportunity %(number)s won") % {"number": current.number},
        )
    if stage.is_won:
        # SPEC 5: the after-sales call a week later (once per opportunity, even if won again).
        aftersales_task_plan(actor=actor, opportunity=current, won_at=now)
    return current
