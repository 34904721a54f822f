"""Writes of orders / contracts (订单/合同), their payment plan (回款计划) and payments (回款记录).

Allocation rule (opportunities.models.orders): the money received on an order (the sum of its
payments that are not voided) is spread over the plan's instalments oldest first (due date, then
sequence). Every write that changes what was received or what is due (a payment, a void, a plan
edit) re-runs that allocation on the order locked ``FOR UPDATE``, so ``Instalment.paid_amount``,
``settled_at`` and ``Order.paid_amount`` never drift apart and two cashiers recording at the same
moment never lose a payment.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.errors import ConcurrentEditError, DomainError
from accounts.numbering import next_number
from accounts.templatetags.crm import money
from opportunities.models import CENT, Instalment, Order, Payment, Quote, Stage, cny_amount


@dataclass(frozen=True)
class PlannedInstalment:
    """One line of a payment plan as typed: ``pk`` is None for a new instalment."""

    due_date: date
    amount: Decimal
    note: str = ""
    pk: int | None = None


def won_stage() -> Stage | None:
    """Where an opportunity goes when its order is signed: the first active won stage."""
    return Stage.objects.filter(active=True, is_won=True).order_by("order", "pk").first()


def plan_difference_message(amount: Decimal, total: Decimal, currency: str) -> str:
    """The "does not add up" message, with the difference in the order's currency."""
    values = {
        "total": money(total, currency),
        "amount": money(amount, currency),
        "difference": money(abs(amount - total), currency),
    }
    if total < amount:
        return (
            _("The instalments add up to %(total)s: %(difference)s less than the order amount %(amount)s.")
            % values
        )
    return (
        _("The instalments add up to %(total)s: %(difference)s more than the order amount %(amount)s.")
        % values
    )


def _check_plan(amount: Decimal, currency: str, plan: Sequence[PlannedInstalment]) -> None:
    if not plan:
        raise DomainError(_("The payment plan needs at least one instalment."), field="instalments")
    for line in plan:
        if line.amount is None or line.amount <= 0:
            raise DomainError(_("Each instalment needs an amount greater than zero."), field="instalments")
        if line.due_date is None:
            raise DomainError(_("Each instalment needs a due date."), field="instalments")
    total = sum((line.amount for line in plan), Decimal(0))
    if total != amount:
        raise DomainError(plan_difference_message(amount, total, currency), field="instalments")


def _ordered(plan: Iterable[PlannedInstalment]) -> list[PlannedInstalment]:
    return sorted(plan, key=lambda line: line.due_date)


def _allocate(order: Order, instalments: list[Instalment], now) -> None:
    """Spread ``order.paid_amount`` over ``instalments`` oldest first and save what changed.
    An instalment that stays settled keeps the time it was settled."""
    remaining = order.paid_amount
    changed = []
    for instalment in sorted(instalments, key=lambda item: (item.due_date, item.sequence, item.pk or 0)):
        paid = min(remaining, instalment.amount)
        remaining -= paid
        settled = paid == instalment.amount
        settled_at = (instalment.settled_at or now) if settled else None
        if (paid, settled_at) != (instalment.paid_amount, instalment.settled_at):
            instalment.paid_amount, instalment.settled_at = paid, settled_at
            changed.append(instalment)
    if changed:
        Instalment.objects.bulk_update(changed, ["paid_amount", "settled_at"])


def _received(order: Order) -> Decimal:
    return order.payments.filter(voided_at__isnull=True).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)


def order_settle(order: Order, now) -> None:
    """Recount what was received, re-allocate it, complete or reopen the order, and save it.
    Call it on an order locked ``FOR UPDATE`` (the services do), or on one nobody else writes
    (the test factories, demo data)."""
    order.paid_amount = _received(order)
    _allocate(order, list(order.instalments.all()), now)
    if order.status != Order.Status.CANCELLED:
        fully_paid = order.paid_amount >= order.amount
        order.status = Order.Status.COMPLETED if fully_paid else Order.Status.ACTIVE
    order.version += 1
    order.save(update_fields=["paid_amount", "status", "version", "updated_at"])


@transaction.atomic
def order_create_from_quote(
    *,
    actor,
    quote: Quote,
    title: str,
    signed_on: date,
    amount: Decimal,
    plan: Sequence[PlannedInstalment],
    notes: str = "",
) -> Order:
    """Turn an accepted quote into an order with its payment plan. The order takes the quote's
    currency and rate, and the opportunity's customer, owner and team; an opportunity still open
    is moved to the won stage (which makes the customer a deal)."""
    from opportunities.services import opportunity_move_stage

    # The lock serialises two people turning the same quote into an order at the same moment.
    quote = (
        Quote.objects.select_for_update(of=("self",)).select_related("opportunity__stage").get(pk=quote.pk)
    )
    existing = Order.objects.filter(quote=quote).only("number").first()
    if existing is not None:
        raise DomainError(
            _("This quote already became order %(number)s.") % {"number": existing.number}, field="quote"
        )
    if quote.status != Quote.Status.ACCEPTED or quote.superseded_at is not None:
        raise DomainError(_("Only an accepted quote can become an order."), field="quote")
    opportunity = quote.opportunity
    if opportunity.closed_at is not None and not opportunity.stage.is_won:
        raise DomainError(_("The opportunity was lost; reopen it before signing an order."), field="quote")
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Give the order a title."), field="title")
    if signed_on is None:
        raise DomainError(_("Give the signing date."), field="signed_on")
    if amount is None or amount <= 0:
        raise DomainError(_("Enter an order amount greater than zero."), field="amount")
    amount = Decimal(amount).quantize(CENT)
    _check_plan(amount, quote.currency, plan)
    order = Order.objects.create(
        number=next_number("HT"),
        title=title,
        quote=quote,
        opportunity=opportunity,
        customer_id=opportunity.customer_id,
        owner_id=opportunity.owner_id,
        team_id=opportunity.team_id,
        signed_on=signed_on,
        amount=amount,
        currency=quote.currency,
        rate_to_cny=quote.rate_to_cny,
        amount_cny=cny_amount(amount, quote.rate_to_cny),
        notes=(notes or "").strip(),
        created_by=actor,
    )
    Instalment.objects.bulk_create(
        Instalment(order=order, sequence=number, due_date=line.due_date, amount=line.amount, note=line.note)
        for number, line in enumerate(_ordered(plan), start=1)
    )
    if opportunity.closed_at is None:
        stage = won_stage()
        if stage is None:
            raise DomainError(_("No active won stage is set up; ask an administrator."), field="quote")
        opportunity_move_stage(actor=actor, opportunity=opportunity, stage=stage)
    return order


@transaction.atomic
def order_update_plan(*, actor, order: Order, version: int, plan: Sequence[PlannedInstalment]) -> Order:
    """Replace the payment plan of an order not yet fully paid. The instalments must still add up
    to the order amount; an instalment with money on it can be neither removed nor cut below what
    it has received."""
    current = _locked(order)
    if current.version != version:
        raise ConcurrentEditError(
            _(
                "Someone else changed this order (a payment or the plan) while you were editing. "
                "Your plan is kept below; check it against the order and save again."
            )
        )
    if current.status != Order.Status.ACTIVE:
        raise DomainError(_("Only the plan of an order in force and not fully paid can change."))
    existing = {instalment.pk: instalment for instalment in current.instalments.all()}
    unknown = {line.pk for line in plan if line.pk is not None} - set(existing)
    if unknown:
        raise DomainError(_("The plan changed meanwhile; reload the page."), field="instalments")
    _check_plan(current.amount, current.currency, plan)
    kept = {line.pk: line for line in plan if line.pk is not None}
    for pk, instalment in existing.items():
        line = kept.get(pk)
        if instalment.paid_amount > 0 and line is None:
            raise DomainError(
                _("Instalment %(sequence)s has received %(paid)s and cannot be removed.")
                % {"sequence": instalment.sequence, "paid": money(instalment.paid_amount, current.currency)},
                field="instalments",
            )
        if line is not None and line.amount < instalment.paid_amount:
            raise DomainError(
                _("Instalment %(sequence)s has received %(paid)s; its amount cannot be less.")
                % {"sequence": instalment.sequence, "paid": money(instalment.paid_amount, current.currency)},
                field="instalments",
            )
    Instalment.objects.filter(order=current).exclude(pk__in=list(kept)).delete()
    instalments = []
    for number, line in enumerate(_ordered(plan), start=1):
        instalment = existing.get(line.pk) if line.pk else Instalment(order=current)
        instalment.sequence, instalment.due_date = number, line.due_date
        instalment.amount, instalment.note = line.amount, line.note
        instalment.save()
        instalments.append(instalment)
    order_settle(current, timezone.now())
    return current


@transaction.atomic
def order_cancel(*, actor, order: Order, reason: str) -> Order:
    """Cancel an order in force (it then leaves the outstanding and overdue totals). An order with
    money received cannot be cancelled until its payments are voided. The reason is kept in the
    order's notes."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for cancelling."), field="reason")
    current = _locked(order)
    if current.status != Order.Status.ACTIVE:
        raise DomainError(_("Only an order in force can be cancelled."))
    if current.paid_amount > 0:
        raise DomainError(
            _("Payments were received on this order; a manager must void them before it can be cancelled.")
        )
    now = timezone.now()
    line = _("Cancelled on %(date)s by %(user)s: %(reason)s") % {
        "date": date_format(timezone.localtime(now), "SHORT_DATE_FORMAT"),
        "user": actor,
        "reason": reason,
    }
    current.notes = f"{current.notes}\n{line}".strip()
    current.status = Order.Status.CANCELLED
    current.version += 1
    current.save(update_fields=["notes", "status", "version", "updated_at"])
    return current


@transaction.atomic
def payment_record(
    *,
    actor,
    order: Order,
    received_on: date,
    amount: Decimal,
    method: str = Payment.Method.BANK,
    reference: str = "",
    note: str = "",
) -> Payment:
    """Record money received on an order in force: at most what is outstanding. Allocated to
    the oldest unsettled instalments; the order is completed when fully paid."""
    current = _locked(order)
    if current.status == Order.Status.CANCELLED:
        raise DomainError(_("This order was cancelled; no payment can be recorded on it."))
    if amount is None or amount <= 0:
        raise DomainError(_("Enter an amount greater than zero."), field="amount")
    amount = Decimal(amount).quantize(CENT)
    outstanding = current.amount - current.paid_amount
    if amount > outstanding:
        if outstanding <= 0:
            raise DomainError(_("This order is fully paid."), field="amount")
        raise DomainError(
            _("At most %(outstanding)s is outstanding on this order.")
            % {"outstanding": money(outstanding, current.currency)},
            field="amount",
        )
    if received_on is None:
        raise DomainError(_("Give the date the payment was received."), field="received_on")
    if received_on > timezone.localdate():
        raise DomainError(_("A payment cannot be received in the future."), field="received_on")
    if method not in Payment.Method.values:
        raise DomainError(_("Choose how the payment was made."), field="method")
    payment = Payment.objects.create(
        number=next_number("HK"),
        order=current,
        received_on=received_on,
        amount=amount,
        amount_cny=cny_amount(amount, current.rate_to_cny),
        method=method,
        reference=(reference or "").strip(),
        note=(note or "").strip(),
        recorded_by=actor,
    )
    order_settle(current, timezone.now())
    return payment


@transaction.atomic
def payment_void(*, actor, payment: Payment, reason: str) -> Payment:
    """Void a payment recorded by mistake: it stays listed, counts for nothing, and the order's
    received amount is re-allocated (a completed order is in force again)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for voiding."), field="reason")
    order = _locked(payment.order)
    current = Payment.objects.select_for_update().get(pk=payment.pk)
    if current.voided_at is not None:
        raise DomainError(_("This payment was already voided."))
    if order.status == Order.Status.CANCELLED:
        raise DomainError(_("This order was cancelled."))
    current.voided_at = timezone.now()
    current.void_reason = reason[:200]
    current.save(update_fields=["voided_at", "void_reason"])
    order_settle(order, current.voided_at)
    return current
