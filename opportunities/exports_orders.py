"""The order list as an export (accounts.exports), rebuilt in the requester's scope.

Registered in ``OpportunitiesConfig.ready()`` with the export permission the other lists use;
the view permission of orders is checked here too, when the worker builds the file.
"""

from collections.abc import Iterator, Sequence

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.tabular import Cell
from customers.models import Customer
from opportunities.models import CENT, Opportunity, Order, Quote
from opportunities.selectors_orders import order_list

ORDERS = "orders"
EXPORT_PERMISSION = "customers.export_customer"
VIEW_PERMISSION = "opportunities.view_order"
FETCH_SIZE = 1000


def _label(model, name: str) -> str:
    return capfirst(str(model._meta.get_field(name).verbose_name))


def headers() -> list[str]:
    return [
        _label(Order, "number"),
        capfirst(pgettext("document title", "Title")),
        _label(Customer, "number"),
        _label(Order, "customer"),
        _label(Opportunity, "number"),
        _label(Quote, "number"),
        _label(Order, "status"),
        _label(Order, "signed_on"),
        _label(Order, "amount"),
        _label(Order, "currency"),
        _label(Order, "rate_to_cny"),
        _label(Order, "amount_cny"),
        _label(Order, "paid_amount"),
        capfirst(_("outstanding")),
        capfirst(_("overdue")),
        _label(Order, "owner"),
        _label(Order, "team"),
        _label(Order, "created_at"),
    ]


def row(order: Order) -> list[Cell]:
    return [
        order.number,
        order.title,
        order.customer.number,
        order.customer.name,
        order.opportunity.number,
        order.quote.number if order.quote else "",
        order.get_status_display(),
        order.signed_on,
        order.amount,
        order.currency,
        order.rate_to_cny,
        order.amount_cny,
        order.paid_amount,
        order.outstanding if order.status != Order.Status.CANCELLED else 0,
        order.overdue.quantize(CENT),
        str(order.owner),
        str(order.team) if order.team else "",
        order.created_at,
    ]


def build(user, params: dict) -> tuple[Sequence[str], Iterator[list[Cell]], int]:
    """``params``: ``{"query": "<the order list's query string>"}``."""
    if not user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    queryset = order_list(
        actor=user, params=QueryDict(params.get("query", "")), today=timezone.localdate()
    ).select_related("quote")
    count = queryset.count()
    return headers(), (row(order) for order in queryset.iterator(chunk_size=FETCH_SIZE)), count
