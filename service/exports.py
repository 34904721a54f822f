"""The service desk as an export (accounts.exports), rebuilt in the requester's scope.

Registered in ``ServiceConfig.ready()``. Whoever sees the desk may export what they see: the
export runs the desk's own scoped selector with the creator, loaded by id, in their language.
"""

from collections.abc import Iterator, Sequence

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.text import capfirst

from accounts.tabular import Cell
from customers.models import Customer
from service.models import Ticket
from service.selectors import ticket_list

TICKETS = "tickets"
EXPORT_PERMISSION = "service.view_ticket"
FETCH_SIZE = 1000

_COLUMNS = [
    (Ticket, "number"),
    (Ticket, "ticket_type"),
    (Ticket, "subject"),
    (Customer, "number"),
    (Ticket, "customer"),
    (Ticket, "contact"),
    (Ticket, "channel"),
    (Ticket, "priority"),
    (Ticket, "status"),
    (Ticket, "queue"),
    (Ticket, "assignee"),
    (Ticket, "created_at"),
    (Ticket, "first_response_due"),
    (Ticket, "first_responded_at"),
    (Ticket, "resolution_due"),
    (Ticket, "resolved_at"),
    (Ticket, "closed_at"),
    (Ticket, "response_breached_at"),
    (Ticket, "resolution_breached_at"),
    (Ticket, "reopen_count"),
]


def headers() -> list[str]:
    return [capfirst(str(model._meta.get_field(name).verbose_name)) for model, name in _COLUMNS]


def row(ticket: Ticket) -> list[Cell]:
    return [
        ticket.number,
        ticket.get_ticket_type_display(),
        ticket.subject,
        ticket.customer.number,
        ticket.customer.name,
        ticket.contact.name if ticket.contact else "",
        ticket.get_channel_display(),
        ticket.get_priority_display(),
        ticket.get_status_display(),
        str(ticket.queue) if ticket.queue else "",
        str(ticket.assignee) if ticket.assignee else "",
        ticket.created_at,
        ticket.first_response_due,
        ticket.first_responded_at,
        ticket.resolution_due,
        ticket.resolved_at,
        ticket.closed_at,
        ticket.response_breached_at,
        ticket.resolution_breached_at,
        ticket.reopen_count,
    ]


def build(user, params: dict) -> tuple[Sequence[str], Iterator[list[Cell]], int]:
    """``params``: ``{"query": "<the desk's query string, tab included>"}``."""
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    queryset = ticket_list(actor=user, params=QueryDict(params.get("query", "")))
    count = queryset.count()
    return headers(), (row(ticket) for ticket in queryset.iterator(chunk_size=FETCH_SIZE)), count
