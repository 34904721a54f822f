"""Reads of orders, payment plans and payments: every order page starts from these.

Money in CNY over many orders (the list's totals, the customer panel, the collections panel) is
summed in SQL: ``amount_cny`` as stored, outstanding as Σ (amount − received) × the order's rate
rounded once at the end, received as their difference, so the three always add up and a fully
paid order contributes exactly nothing outstanding. Cancelled orders count for nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from accounts.access import Scope, led_team_ids, scope_of
from accounts.models import User
from customers.models import Customer
from opportunities.models import CENT, Instalment, Opportunity, Order, OrderQuerySet, Payment, Quote

if TYPE_CHECKING:
    from opportunities.filters_orders import OrderFilter

MONEY = DecimalField(max_digits=24, decimal_places=8)
ZERO = Value(Decimal(0), output_field=MONEY)
# The collections panel: instalments due within this many days, and at most this many rows.
COLLECTIONS_DAYS = 14
COLLECTIONS_ROWS = 10
# The customer panel lists the newest orders; the totals count them all.
CUSTOMER_PANEL_ROWS = 5


def orders_visible_to(user) -> OrderQuerySet:
    """Orders in the user's scope whose customer is alive (not deleted or merged away)."""
    return Order.objects.visible_to(user).filter(customer__deleted_at__isnull=True)


def order_get(user, pk: int) -> Order:
    """The order, or 404 when it is outside the user's scope."""
    return get_object_or_404(
        orders_visible_to(user).select_related(
            "customer", "opportunity", "quote", "owner", "team", "created_by"
        ),
        pk=pk,
    )


def quote_for_order(user, quote_pk: int) -> Quote:
    """The quote to turn into an order (with its order, if it has one), or 404 out of scope."""
    queryset = Quote.objects.visible_to(user).filter(opportunity__customer__deleted_at__isnull=True)
    return get_object_or_404(
        queryset.select_related("opportunity__customer", "opportunity__stage", "order"), pk=quote_pk
    )


def quote_order(quote: Quote) -> Order | None:
    """The order a quote became (loaded with the quote by ``quote_for_order``), if any."""
    try:
        return quote.order
    except Order.DoesNotExist:
        return None


def payment_get(user, pk: int) -> Payment:
    """A payment, through its order's scope (404 outside it)."""
    return get_object_or_404(
        Payment.objects.filter(order__in=orders_visible_to(user)).select_related(
            "order__customer", "recorded_by"
        ),
        pk=pk,
    )


# --- One order ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalmentState:
    key: str
    label: str
    css: str  # a Bootstrap contextual colour


_STATES = {
    "paid": (pgettext_lazy("instalment status", "Paid"), "success"),
    "partly_paid": (pgettext_lazy("instalment status", "Partly paid"), "info"),
    "due": (pgettext_lazy("instalment status", "Due"), "secondary"),
    "overdue": (pgettext_lazy("instalment status", "Overdue"), "danger"),
    "cancelled": (pgettext_lazy("instalment status", "Cancelled"), "light"),
}


def instalment_state(instalment: Instalment, order: Order, today: date) -> InstalmentState:
    if instalment.settled_at is not None:
        key = "paid"
    elif order.status == Order.Status.CANCELLED:
        key = "cancelled"
    elif instalment.due_date < today:
        key = "overdue"
    elif instalment.paid_amount > 0:
        key = "partly_paid"
    else:
        key = "due"
    label, css = _STATES[key]
    return InstalmentState(key, str(label), css)


def order_instalments(order: Order, today: date) -> list[Instalment]:
    """The plan, oldest first, each with ``state`` and ``outstanding_now``; one query."""
    instalments = list(order.instalments.all())
    for instalment in instalments:
        instalment.state = instalment_state(instalment, order, today)
    return instalments


def overdue_of(order: Order, instalments: list[Instalment]) -> Decimal:
    """What is overdue on one order (its plan already loaded)."""
    return sum(
        (instalment.outstanding for instalment in instalments if instalment.state.key == "overdue"),
        Decimal(0),
    )


def order_payments(order: Order) -> QuerySet[Payment]:
    return order.payments.select_related("recorded_by").order_by("-received_on", "-pk")


# --- Lists and totals -----------------------------------------------------------------------


def _overdue_expression(today: date) -> Case:
    """Per order row: what is overdue on it (0 for orders not in force), one correlated SUM."""
    overdue = (
        Instalment.objects.filter(order=OuterRef("pk"), settled_at__isnull=True, due_date__lt=today)
        .order_by()
        .values("order")
        .annotate(total=Sum(F("amount") - F("paid_amount")))
        .values("total")[:1]
    )
    return Case(
        When(status=Order.Status.ACTIVE, then=Coalesce(Subquery(overdue, output_field=MONEY), ZERO)),
        default=ZERO,
        output_field=MONEY,
    )


def outstanding_cny_expression() -> ExpressionWrapper:
    """Per order: outstanding in CNY; the list's "outstanding" sort (see the requested index)."""
    return ExpressionWrapper((F("amount") - F("paid_amount")) * F("rate_to_cny"), output_field=MONEY)


def order_rows(queryset: QuerySet[Order], today: date) -> QuerySet[Order]:
    """What each row of the list, the panels or the export shows, in one query."""
    return queryset.select_related("customer", "opportunity", "owner", "team").annotate(
        overdue=_overdue_expression(today)
    )


def order_filter(*, actor, params: QueryDict) -> "OrderFilter":
    from opportunities.filters_orders import OrderFilter

    return OrderFilter(params, queryset=orders_visible_to(actor), actor=actor)


def order_list(*, actor, params: QueryDict, today: date) -> QuerySet[Order]:
    return order_rows(order_filter(actor=actor, params=params).qs, today)


@dataclass(frozen=True)
class Totals:
    count: int
    contract: Decimal
    received: Decimal
    outstanding: Decimal
    overdue: Decimal


def order_totals(queryset: QuerySet[Order], today: date) -> Totals:
    """Contract amount, received, outstanding and overdue in CNY of the orders in force or
    completed among ``queryset``, in one query."""
    overdue_cny = ExpressionWrapper(_overdue_expression(today) * F("rate_to_cny"), output_field=MONEY)
    row = (
        queryset.exclude(status=Order.Status.CANCELLED)
        .order_by()
        .aggregate(
            count=Count("pk"),
            contract=Coalesce(Sum("amount_cny"), ZERO),
            outstanding=Coalesce(Sum(outstanding_cny_expression()), ZERO),
            overdue=Coalesce(Sum(overdue_cny), ZERO),
        )
    )
    contract = Decimal(row["contract"]).quantize(CENT)
    outstanding = cny_round(row["outstanding"])
    return Totals(
        count=row["count"],
        contract=contract,
        received=contract - outstanding,
        outstanding=outstanding,
        overdue=cny_round(row["overdue"]),
    )


def cny_round(value) -> Decimal:
    """A sum of exact products, rounded once (the rule of ``cny_amount``)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def order_owner_choices(actor) -> QuerySet[User]:
    """Users owning an order the actor can see (never names from out of scope)."""
    owned = orders_visible_to(actor).filter(owner=OuterRef("pk"))
    return User.objects.filter(Exists(owned)).order_by("display_name", "username")


def has_overdue_condition(today: date) -> Exists:
    return Exists(
        Instalment.objects.filter(order=OuterRef("pk"), settled_at__isnull=True, due_date__lt=today)
    )


# --- Panels on other pages ------------------------------------------------------------------


def opportunity_orders(opportunity: Opportunity, user, today: date | None = None) -> list[Order]:
    """The opportunity page's orders, in one query."""
    today = today or timezone.localdate()
    orders = orders_visible_to(user).filter(opportunity=opportunity)
    return list(order_rows(orders, today).order_by("-signed_on", "-pk"))


def customer_collections(customer: Customer, user, today: date) -> dict:
    """The customer page's "Orders & collections": open opportunities (count and amount), the
    newest orders and the totals in CNY of all of them, in two queries (the totals are window
    aggregates over all the customer's orders, carried by the rows; no row, nothing to total)."""
    opportunities = (
        Opportunity.objects.visible_to(user)
        .filter(customer=customer, closed_at__isnull=True)
        .aggregate(count=Count("pk"), amount=Coalesce(Sum("amount_cny"), ZERO))
    )
    counted = ~Q(status=Order.Status.CANCELLED)
    overdue_cny = ExpressionWrapper(_overdue_expression(today) * F("rate_to_cny"), output_field=MONEY)
    rows = list(
        order_rows(orders_visible_to(user).filter(customer=customer), today)
        .annotate(
            all_count=Window(Count("pk")),
            contract_total=Window(Sum("amount_cny", filter=counted)),
            outstanding_total=Window(Sum(outstanding_cny_expression(), filter=counted)),
            overdue_total=Window(Sum(overdue_cny, filter=counted)),
        )
        .order_by("-signed_on", "-pk")[:CUSTOMER_PANEL_ROWS]
    )
    first = rows[0] if rows else None
    contract = Decimal(first.contract_total or 0).quantize(CENT) if first else Decimal("0.00")
    outstanding = cny_round(first.outstanding_total if first else 0)
    return {
        "open_count": opportunities["count"],
        "open_amount": Decimal(opportunities["amount"]).quantize(CENT),
        "orders": rows,
        "more_orders": bool(first) and first.all_count > len(rows),
        "totals": Totals(
            count=first.all_count if first else 0,
            contract=contract,
            received=contract - outstanding,
            outstanding=outstanding,
            overdue=cny_round(first.overdue_total if first else 0),
        ),
    }


def collections_scope(user) -> Q:
    """Whose instalments the collections panel shows: a rep their own orders', a lead also the
    teams' they lead, an all-scope user everyone's."""
    scope = scope_of(user)
    if scope is Scope.ALL:
        return Q()
    condition = Q(order__owner=user)
    if scope is Scope.TEAM and (team_ids := led_team_ids(user)):
        condition |= Q(order__team_id__in=team_ids)
    return condition


def collections(user, today: date, *, days: int = COLLECTIONS_DAYS, limit: int = COLLECTIONS_ROWS) -> dict:
    """Unsettled instalments of orders in force, overdue or due within ``days``: the first
    ``limit`` (oldest due first) with the counts and totals in CNY of them all, in one query
    (window aggregates over the whole set; the partial index on unsettled due dates serves it)."""
    horizon = today + timedelta(days=days)
    late, coming = Q(due_date__lt=today), Q(due_date__gte=today)
    outstanding_cny = ExpressionWrapper(
        (F("amount") - F("paid_amount")) * F("order__rate_to_cny"), output_field=MONEY
    )
    rows = list(
        Instalment.objects.filter(
            collections_scope(user),
            settled_at__isnull=True,
            due_date__lte=horizon,
            order__status=Order.Status.ACTIVE,
            order__customer__deleted_at__isnull=True,
        )
        .select_related("order__customer", "order__owner")
        .annotate(
            overdue_count=Window(Count("pk", filter=late)),
            overdue_total=Window(Sum(outstanding_cny, filter=late)),
            upcoming_count=Window(Count("pk", filter=coming)),
            upcoming_total=Window(Sum(outstanding_cny, filter=coming)),
        )
        .order_by("due_date", "order_id", "sequence")[:limit]
    )
    for instalment in rows:
        instalment.is_late = instalment.due_date < today
        instalment.days = abs((instalment.due_date - today).days)
    first = rows[0] if rows else None
    overdue_count = first.overdue_count if first else 0
    upcoming_count = first.upcoming_count if first else 0
    return {
        "rows": rows,
        "overdue_count": overdue_count,
        "overdue": cny_round(first.overdue_total if first else 0),
        "upcoming_count": upcoming_count,
        "upcoming": cny_round(first.upcoming_total if first else 0),
        "more": max(overdue_count + upcoming_count - len(rows), 0),
        "days": days,
    }
