"""The customer table as an export (accounts.exports): the filtered list or a selection, in scope.

Registered in ``CustomersConfig.ready()``. Runs in a worker with the creator's language active,
so the headers are Chinese in zh-hans. ID-card and bank-card numbers are never exported.
"""

from collections.abc import Iterator, Sequence

from django.db.models import Model
from django.http import QueryDict
from django.utils.text import capfirst

from accounts.tabular import Cell
from customers.models import Contact, Customer
from customers.selectors import customer_list, customer_rows, customers_visible_to

KIND = "customers"
# Rows fetched from the database at a time (a server-side cursor; prefetches run per chunk).
FETCH_SIZE = 1000

# (model, field) whose verbose name heads each column, in order; the Contact ones are the primary contact's.
_COLUMNS: list[tuple[type[Model], str]] = [
    (Customer, "number"),
    (Customer, "name"),
    (Customer, "kind"),
    (Customer, "value_class"),
    (Customer, "stage"),
    (Customer, "industry"),
    (Customer, "source"),
    (Customer, "phone"),
    (Customer, "email"),
    (Contact, "is_primary"),  # the primary contact's name
    (Contact, "title"),
    (Customer, "region"),
    (Customer, "province"),
    (Customer, "city"),
    (Customer, "address"),
    (Customer, "owner"),
    (Customer, "team"),
    (Customer, "expected_annual_value"),
    (Customer, "tags"),
    (Customer, "created_at"),
    (Customer, "first_contact_date"),
]


def headers() -> list[str]:
    """Column headers in the active language (the verbose names the forms show)."""
    return [capfirst(str(model._meta.get_field(name).verbose_name)) for model, name in _COLUMNS]


def row(customer: Customer) -> list[Cell]:
    contact = customer.primary_contacts[0] if customer.primary_contacts else None
    return [
        customer.number,
        customer.name,
        customer.get_kind_display(),
        customer.get_value_class_display(),
        customer.get_stage_display(),
        str(customer.industry) if customer.industry else "",
        str(customer.source) if customer.source else "",
        customer.phone,
        customer.email,
        contact.name if contact else "",
        contact.title if contact else "",
        customer.get_region_display(),
        customer.province,
        customer.city,
        customer.address,
        str(customer.owner),
        str(customer.team) if customer.team else "",
        customer.expected_annual_value,
        "、".join(tag.name for tag in customer.tags.all()),
        customer.created_at,
        customer.first_contact_date,
    ]


def build(user, params: dict) -> tuple[Sequence[str], Iterator[list[Cell]], int]:
    """``params``: ``{"query": "<list query string>"}`` or ``{"ids": [...]}`` (the selection)."""
    if "ids" in params:
        ids = [int(pk) for pk in params["ids"]]
        queryset = customer_rows(customers_visible_to(user).filter(pk__in=ids).order_by("number"))
    else:
        queryset = customer_list(actor=user, params=QueryDict(params.get("query", "")))
    count = queryset.count()
    rows = (row(customer) for customer in queryset.iterator(chunk_size=FETCH_SIZE))
    return headers(), rows, count
