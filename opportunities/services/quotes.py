"""Writes of quotes (报价单): create, edit a draft, the status workflow, new versions, expiry.

Money follows the rules of ``opportunities.models.quotes`` (computed here, stored on the quote and
its lines): each amount is rounded once, to 0.01, half up. One more rule lives here: a product's
list price is in CNY; on a quote in another currency it becomes list price ÷ rate to CNY, rounded
to 0.01 half up (the unit price the form proposes; the rep may change it).

Status workflow::

    draft ──send──▶ sent ──accept──▶ accepted
                     │  └──reject──▶ rejected
                     └──(valid_until passed: quotes_expire)──▶ expired

Only quotes of an open opportunity are sent or accepted, and an opportunity has at most one
accepted quote. "New version" copies a draft, sent, rejected or expired quote into a new draft
with the same number and the next version; the old one is kept read-only (``superseded_at``).
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.errors import ConcurrentEditError, DomainError
from accounts.numbering import next_number
from customers.models import Contact
from opportunities.models import CENT, Opportunity, Product, Quote, QuoteLine, cny_amount

DEFAULT_TAX_RATE = Decimal("13.00")
DEFAULT_VALIDITY_DAYS = 30
MAX_LINES = 100
# The stored amounts have 16 digits, 2 after the point.
MAX_AMOUNT = Decimal("1e14")
HUNDRED = Decimal(100)

# The header fields a draft edit may change (the lines are replaced as a whole).
HEADER_FIELDS = ["title", "contact", "currency", "rate_to_cny", "tax_rate", "valid_until", "terms"]
LINE_FIELDS = ["product", "description", "unit", "quantity", "unit_price", "discount_percent"]


# Money ---------------------------------------------------------------------------------------


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_list_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """quantity × unit price, rounded to 0.01 (what the line costs before its discount)."""
    return _round(Decimal(quantity) * Decimal(unit_price))


def line_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity × unit price × (1 − discount % / 100), rounded once to 0.01 half up."""
    factor = (HUNDRED - Decimal(discount_percent)) / HUNDRED
    return _round(Decimal(quantity) * Decimal(unit_price) * factor)


@dataclass(frozen=True)
class Totals:
    list_total: Decimal
    discount_total: Decimal
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    total_cny: Decimal


def quote_totals(lines: list[dict[str, Any]], *, tax_rate: Decimal, rate_to_cny: Decimal) -> Totals:
    """The quote's totals from its lines (dicts with quantity, unit_price, discount_percent)."""
    list_total = sum((line_list_amount(line["quantity"], line["unit_price"]) for line in lines), Decimal(0))
    subtotal = sum(
        (line_amount(line["quantity"], line["unit_price"], line["discount_percent"]) for line in lines),
        Decimal(0),
    )
    tax_amount = _round(subtotal * Decimal(tax_rate) / HUNDRED)
    total = subtotal + tax_amount
    return Totals(
        list_total=list_total,
        discount_total=list_total - subtotal,
        subtotal=subtotal,
        tax_amount=tax_amount,
        total=total,
        total_cny=cny_amount(total, rate_to_cny),
    )


def price_in_currency(list_price: Decimal, rate_to_cny: Decimal) -> Decimal:
    """A CNY list price in the quote's currency: ÷ rate, rounded to 0.01 half up."""
    rate = Decimal(rate_to_cny or 0)
    if rate <= 0 or rate == 1:
        return Decimal(list_price)
    return _round(Decimal(list_price) / rate)


# Checks --------------------------------------------------------------------------------------


def default_title(opportunity: Opportunity) -> str:
    return _("%(name)s quote") % {"name": opportunity.name}


def default_valid_until(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + datetime.timedelta(days=DEFAULT_VALIDITY_DAYS)


def _check_header(quote: Quote) -> None:
    if not (quote.title or "").strip():
        raise DomainError(_("Give the quote a title."), field="title")
    quote.title = quote.title.strip()
    if quote.currency == Opportunity.Currency.CNY:
        quote.rate_to_cny = Decimal(1)
    elif not quote.rate_to_cny or quote.rate_to_cny <= 0:
        raise DomainError(_("Enter the rate to CNY for a quote in another currency."), field="rate_to_cny")
    if quote.tax_rate is None or not (0 <= quote.tax_rate <= 100):
        raise DomainError(_("Enter a tax rate from 0 to 100."), field="tax_rate")
    if quote.valid_until is None:
        raise DomainError(_("Give the date the quote is valid until."), field="valid_until")
    if quote.contact_id is not None and quote.contact.customer_id != quote.opportunity.customer_id:
        raise DomainError(_("Choose a contact of this customer."), field="contact")


def _check_open(opportunity: Opportunity, message: str) -> None:
    if opportunity.closed_at is not None:
        raise DomainError(message)


def _clean_lines(
    lines: list[dict[str, Any]], *, rate_to_cny: Decimal, allowed_inactive: set[int]
) -> list[dict[str, Any]]:
    """Lines with what the product fills in (empty description, unit or unit price), checked."""
    if not lines:
        raise DomainError(_("A quote needs at least one line."), field="lines")
    if len(lines) > MAX_LINES:
        raise DomainError(_("A quote has at most %(count)d lines.") % {"count": MAX_LINES}, field="lines")
    cleaned = []
    for number, line in enumerate(lines, start=1):
        product: Product | None = line.get("product")
        if product is not None and not product.active and product.pk not in allowed_inactive:
            raise DomainError(
                _("Line %(number)d: %(product)s is no longer sold.") % {"number": number, "product": product},
                field="lines",
            )
        description = (line.get("description") or "").strip() or (product.name if product else "")
        if not description:
            raise DomainError(
                _("Line %(number)d: choose a product or enter a description.") % {"number": number},
                field="lines",
            )
        unit_price = line.get("unit_price")
        if unit_price is None and product is not None:
            unit_price = price_in_currency(product.list_price, rate_to_cny)
        if unit_price is None or unit_price < 0:
            raise DomainError(
                _("Line %(number)d: enter a unit price of zero or more.") % {"number": number}, field="lines"
            )
        quantity = line.get("quantity")
        if quantity is None or quantity <= 0:
            raise DomainError(
                _("Line %(number)d: the quantity must be more than zero.") % {"number": number}, field="lines"
            )
        discount = line.get("discount_percent")
        discount = Decimal(0) if discount is None else discount
        if not (0 <= discount <= 100):
            raise DomainError(
                _("Line %(number)d: the discount is between 0 and 100%%.") % {"number": number}, field="lines"
            )
        if line_list_amount(quantity, unit_price) >= MAX_AMOUNT:
            raise DomainError(
                _("Line %(number)d: the amount is too large.") % {"number": number}, field="lines"
            )
        cleaned.append(
            {
                "product": product,
                "description": description[:300],
                "unit": ((line.get("unit") or "").strip() or (product.unit if product else ""))[:20],
                "quantity": quantity,
                "unit_price": unit_price,
                "discount_percent": discount,
            }
        )
    return cleaned


def _apply_totals(quote: Quote, lines: list[dict[str, Any]]) -> None:
    totals = quote_totals(lines, tax_rate=quote.tax_rate, rate_to_cny=quote.rate_to_cny)
    if totals.total >= MAX_AMOUNT or totals.total_cny >= MAX_AMOUNT:
        raise DomainError(_("The quote's total is too large."), field="lines")
    for name, value in totals.__dict__.items():
        setattr(quote, name, value)


def _write_lines(quote: Quote, lines: list[dict[str, Any]]) -> None:
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=position,
            amount=line_amount(line["quantity"], line["unit_price"], line["discount_percent"]),
            **line,
        )
        for position, line in enumerate(lines, start=1)
    )


# Create and edit -----------------------------------------------------------------------------


@transaction.atomic
def quote_create(
    *,
    actor,
    opportunity: Opportunity,
    lines: list[dict[str, Any]],
    title: str = "",
    contact: Contact | None = None,
    currency: str | None = None,
    rate_to_cny: Decimal | None = None,
    tax_rate: Decimal | None = None,
    valid_until: datetime.date | None = None,
    terms: str = "",
) -> Quote:
    """A new draft quote (version 1) on an open opportunity; the currency and rate default to the
    opportunity's, the tax rate to 13%, the validity to 30 days."""
    opportunity = (
        Opportunity.objects.select_for_update(of=("self",)).select_related("customer").get(pk=opportunity.pk)
    )
    _check_open(opportunity, _("Quotes are made for open opportunities; reopen this one first."))
    quote = Quote(
        opportunity=opportunity,
        contact=contact,
        title=title or default_title(opportunity),
        currency=currency or opportunity.currency,
        rate_to_cny=rate_to_cny
        if rate_to_cny is not None
        else (
            opportunity.rate_to_cny if (currency or opportunity.currency) == opportunity.currency else None
        ),
        tax_rate=DEFAULT_TAX_RATE if tax_rate is None else tax_rate,
        valid_until=valid_until or default_valid_until(),
        terms=(terms or "").strip(),
        created_by=actor,
    )
    _check_header(quote)
    cleaned = _clean_lines(lines, rate_to_cny=quote.rate_to_cny, allowed_inactive=set())
    _apply_totals(quote, cleaned)
    quote.number = next_number("Q")
    quote.version = 1
    quote.save()
    _write_lines(quote, cleaned)
    return quote


def _line_summary(line: QuoteLine | dict[str, Any]) -> str:
    get = line.get if isinstance(line, dict) else lambda name: getattr(line, name)
    return (
        f"{get('description')} × {Decimal(get('quantity')).normalize():f} @ {get('unit_price')}"
        f" −{Decimal(get('discount_percent')).normalize():f}%"
    )


def quote_snapshot(quote: Quote, lines=None) -> dict[str, str]:
    """What an edit form showed: names the fields someone else changed meanwhile."""
    values = {
        name: "" if getattr(quote, name) in (None, "") else str(getattr(quote, name))
        for name in HEADER_FIELDS
    }
    for name in ("rate_to_cny", "tax_rate"):
        values[name] = f"{Decimal(getattr(quote, name)).normalize():f}"
    rows = quote.lines.all() if lines is None else lines
    values["lines"] = "; ".join(_line_summary(line) for line in rows)
    return values


def _label(name: str) -> str:
    if name == "lines":
        return _("Line items")
    return capfirst(str(Quote._meta.get_field(name).verbose_name))


def stale_quote_message(current: Quote, seen: dict[str, str] | None) -> str:
    now_values = quote_snapshot(current)
    changed = [name for name, value in now_values.items() if seen and name in seen and seen[name] != value]
    if not changed:
        return _(
            "Someone else saved this quote while you were editing. Your input is kept below; "
            "check it and save again."
        )
    parts = "; ".join(
        _label(name)
        if name == "lines"
        else _("%(field)s: “%(old)s” → “%(new)s”")
        % {"field": _label(name), "old": seen[name], "new": now_values[name]}
        for name in changed
    )
    return _(
        "Someone else saved this quote while you were editing. They changed: %(changes)s. "
        "Your input is kept below; check it and save again to overwrite."
    ) % {"changes": parts}


def _locked(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("opportunity", "opportunity__customer", "contact")
        .get(pk=quote.pk)
    )


@transaction.atomic
def quote_update(
    *,
    actor,
    quote: Quote,
    lock_version: int,
    lines: list[dict[str, Any]],
    seen: dict[str, str] | None = None,
    **header: Any,
) -> Quote:
    """Save an edit of a draft read at ``lock_version``; its lines are replaced. If someone saved
    since, refuse with a message naming what they changed (``seen``: what the form showed)."""
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise TypeError(f"Not an editable quote field: {', '.join(sorted(unknown))}")
    current = _locked(quote)
    if not current.is_editable:
        raise DomainError(_("Only a draft can be edited; make a new version to change this quote."))
    if current.lock_version != lock_version:
        raise ConcurrentEditError(stale_quote_message(current, seen))
    for name, value in header.items():
        setattr(current, name, value)
    current.terms = (current.terms or "").strip()
    _check_header(current)
    # A product taken off the price list may stay on the draft that already quoted it.
    already = set(current.lines.exclude(product=None).values_list("product_id", flat=True))
    cleaned = _clean_lines(lines, rate_to_cny=current.rate_to_cny, allowed_inactive=already)
    _apply_totals(current, cleaned)
    current.lock_version = lock_version + 1
    current.save()
    current.lines.all().delete()
    _write_lines(current, cleaned)
    return current


# Status --------------------------------------------------------------------------------------


def _refuse_superseded(quote: Quote) -> None:
    if quote.superseded_at is not None:
        raise DomainError(
            _("Version %(version)d was replaced by a newer version; work on the newest one.")
            % {"version": quote.version}
        )


def _refuse_past_validity(quote: Quote, today: datetime.date) -> None:
    if quote.valid_until < today:
        raise DomainError(
            _("This quote was valid until %(date)s; make a new version with a new date.")
            % {"date": quote.valid_until.isoformat()}
        )


@transaction.atomic
def quote_send(*, actor, quote: Quote) -> Quote:
    """draft → sent (the quote went to the customer)."""
    current = _locked(quote)
    _refuse_superseded(current)
    if current.status != Quote.Status.DRAFT:
        raise DomainError(
            _("Only a draft can be marked as sent; this quote is %(status)s.")
            % {"status": current.get_status_display()}
        )
    _check_open(current.opportunity, _("Only quotes of an open opportunity can be sent."))
    if not current.lines.exists():
        raise DomainError(_("A quote needs at least one line."))
    now = timezone.now()
    _refuse_past_validity(current, timezone.localdate(now))
    current.status = Quote.Status.SENT
    current.sent_at = now
    current.lock_version += 1
    current.save()
    return current


@transaction.atomic
def quote_accept(*, actor, quote: Quote) -> Quote:
    """sent → accepted; an opportunity has at most one accepted quote (its row is locked, so two
    accepted at the same moment cannot both pass)."""
    opportunity = Opportunity.objects.select_for_update(of=("self",)).get(pk=quote.opportunity_id)
    current = _locked(quote)
    _refuse_superseded(current)
    if current.status != Quote.Status.SENT:
        raise DomainError(
            _("Only a sent quote can be accepted; this quote is %(status)s.")
            % {"status": current.get_status_display()}
        )
    _check_open(opportunity, _("Only quotes of an open opportunity can be accepted."))
    now = timezone.now()
    _refuse_past_validity(current, timezone.localdate(now))
    accepted = (
        Quote.objects.filter(opportunity=opportunity, status=Quote.Status.ACCEPTED)
        .exclude(pk=current.pk)
        .first()
    )
    if accepted is not None:
        raise DomainError(
            _("Another version or quote of this opportunity is already accepted (%(quote)s).")
            % {"quote": accepted}
        )
    current.status = Quote.Status.ACCEPTED
    current.decided_at = now
    current.lock_version += 1
    current.save()
    return current


@transaction.atomic
def quote_reject(*, actor, quote: Quote) -> Quote:
    """sent → rejected (the customer said no; a new version may follow)."""
    current = _locked(quote)
    _refuse_superseded(current)
    if current.status != Quote.Status.SENT:
        raise DomainError(
            _("Only a sent quote can be marked as rejected; this quote is %(status)s.")
            % {"status": current.get_status_display()}
        )
    current.status = Quote.Status.REJECTED
    current.decided_at = timezone.now()
    current.lock_version += 1
    current.save()
    return current


NEW_VERSION_FROM = {Quote.Status.DRAFT, Quote.Status.SENT, Quote.Status.REJECTED, Quote.Status.EXPIRED}


@transaction.atomic
def quote_new_version(*, actor, quote: Quote) -> Quote:
    """Copy the quote and its lines into a new draft with the same number and the next version;
    the old version is kept, read-only, marked superseded."""
    current = _locked(quote)
    _refuse_superseded(current)
    if current.status not in NEW_VERSION_FROM:
        raise DomainError(
            _("An accepted quote is final; it cannot get a new version.")
            if current.status == Quote.Status.ACCEPTED
            else _("This quote cannot get a new version.")
        )
    _check_open(current.opportunity, _("Quotes are made for open opportunities; reopen this one first."))
    now = timezone.now()
    today = timezone.localdate(now)
    lines = list(current.lines.order_by("position", "pk"))
    newest = (
        Quote.objects.filter(number=current.number).order_by("-version").values_list("version", flat=True)
    )
    copy = Quote(
        number=current.number,
        version=newest[0] + 1,
        opportunity=current.opportunity,
        contact=current.contact,
        title=current.title,
        currency=current.currency,
        rate_to_cny=current.rate_to_cny,
        tax_rate=current.tax_rate,
        valid_until=current.valid_until if current.valid_until >= today else default_valid_until(today),
        terms=current.terms,
        list_total=current.list_total,
        discount_total=current.discount_total,
        subtotal=current.subtotal,
        tax_amount=current.tax_amount,
        total=current.total,
        total_cny=current.total_cny,
        created_by=actor,
        created_at=now,
    )
    current.superseded_at = now
    current.lock_version += 1
    current.save(update_fields=["superseded_at", "lock_version", "updated_at"])
    copy.save()
    QuoteLine.objects.bulk_create(
        QuoteLine(quote=copy, **{name: getattr(line, name) for name in [*LINE_FIELDS, "position", "amount"]})
        for line in lines
    )
    return copy


def quotes_expire(now: datetime.datetime | None = None) -> int:
    """Sent quotes whose ``valid_until`` has passed become expired, in one UPDATE (served by the
    partial index on sent quotes' ``valid_until``); running it again changes nothing."""
    now = now or timezone.now()
    return Quote.objects.filter(status=Quote.Status.SENT, valid_until__lt=timezone.localdate(now)).update(
        status=Quote.Status.EXPIRED, updated_at=now
    )
