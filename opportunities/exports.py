"""The opportunity list as an export (accounts.exports), rebuilt in the requester's scope.

Registered in ``OpportunitiesConfig.ready()`` with the export permission the customer list uses;
the view permission of opportunities is checked here too, when the worker builds the file.
"""

from collections.abc import Iterator, Sequence

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.text import capfirst

from accounts.tabular import Cell
from customers.models import Customer
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_list

OPPORTUNITIES = "opportunities"
EXPORT_PERMISSION = "customers.export_customer"
VIEW_PERMISSION = "opportunities.view_opportunity"
FETCH_SIZE = 1000

_COLUMNS = [
    (Opportunity, "number"),
    (Opportunity, "name"),
    (Customer, "number"),
    (Opportunity, "customer"),
    (Opportunity, "stage"),
    (Opportunity, "amount"),
    (Opportunity, "currency"),
    (Opportunity, "rate_to_cny"),
    (Opportunity, "amount_cny"),
    (Opportunity, "probability"),
    (Opportunity, "expected_close_date"),
    (Opportunity, "next_step"),
    (Opportunity, "next_step_date"),
    (Opportunity, "owner"),
    (Opportunity, "team"),
    (Opportunity, "source"),
    (Opportunity, "lost_reason"),
    (Opportunity, "closed_at"),
    (Opportunity, "created_at"),
]


def headers() -> list[str]:
    return [capfirst(str(model._meta.get_field(name).verbose_name)) for model, name in _COLUMNS]


def row(opportunity: Opportunity) -> list[Cell]:
    return [
        opportunity.number,
        opportunity.name,
        opportunity.customer.number,
        opportunity.customer.name,
        str(opportunity.stage),
        opportunity.amount,
        opportunity.currency,
        opportunity.rate_to_cny,
        opportunity.amount_cny,
        opportunity.probability,
        opportunity.expected_close_date,
        opportunity.next_step,
        opportunity.next_step_date,
        str(opportunity.owner),
        str(opportunity.team) if opportunity.team else "",
        str(opportunity.source) if opportunity.source else "",
        str(opportunity.lost_reason) if opportunity.lost_reason else "",
        opportunity.closed_at,
        opportunity.created_at,
    ]


def build(user, params: dict) -> tuple[Sequence[str], Iterator[list[Cell]], int]:
    """``params``: ``{"query": "<the opportunity list's query string>"}``."""
    if not user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    queryset = opportunity_list(actor=user, params=QueryDict(params.get("query", "")))
    count = queryset.count()
    return headers(), (row(opportunity) for opportunity in queryset.iterator(chunk_size=FETCH_SIZE)), count
