"""Reads of tickets: every ticket page and the service desk start from these, so scope is never
forgotten. ``Ticket.objects.visible_to`` holds the rules (service.models.tickets)."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import Permission
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.crypto import mask
from accounts.models import User
from customers import normalize
from customers.models import Contact, Customer
from customers.selectors import customers_visible_to
from service.models import (
    Queue,
    ResolutionCategory,
    SurveyInvitation,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketQuerySet,
)

if TYPE_CHECKING:
    from service.filters import TicketFilter

# "Breaching soon": due within this long, or already overdue.
BREACHING_WITHIN = timedelta(hours=2)
# The customer page's panel lists this many recent tickets.
PANEL_TICKETS = 5

TAB_MINE = "mine"
TAB_UNASSIGNED = "unassigned"
TAB_BREACHING = "breaching"
TAB_ALL = "all"
TABS = (TAB_MINE, TAB_UNASSIGNED, TAB_BREACHING, TAB_ALL)


def tickets_visible_to(user) -> TicketQuerySet:
    """Tickets in the user's scope whose customer is alive (not in the recycle bin)."""
    return Ticket.objects.visible_to(user).filter(customer__deleted_at__isnull=True)


def ticket_get(user, pk: int) -> Ticket:
    """The ticket, or 404 when it is outside the user's scope."""
    return get_object_or_404(
        tickets_visible_to(user).select_related(
            "customer", "contact", "assignee", "team", "queue", "resolution_category", "created_by"
        ),
        pk=pk,
    )


def ticket_timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's events, oldest first (the order a conversation is read in)."""
    return ticket.events.select_related("actor", "assignee").order_by("at", "pk")


def ticket_attachments(ticket: Ticket) -> QuerySet[TicketAttachment]:
    return ticket.attachments.select_related("uploaded_by").order_by("uploaded_at", "pk")


def ticket_surveys(ticket: Ticket) -> QuerySet[SurveyInvitation]:
    """The ticket's satisfaction survey (one per ticket; the list keeps the page simple)."""
    return ticket.surveys.order_by("-created_at", "-pk")


def ticket_rows(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What each row of the desk or the export shows, in one query."""
    return queryset.select_related("customer", "contact", "assignee", "queue")


def my_queue_ids(user) -> list[int]:
    if not hasattr(user, "_service_queue_ids"):
        user._service_queue_ids = list(Queue.objects.filter(agents=user).values_list("pk", flat=True))
    return user._service_queue_ids


def desk_tab_queryset(user, tab: str, *, now: datetime | None = None) -> TicketQuerySet:
    """One tab of the service desk over the user's scope (each served by an index of Ticket.Meta):
    mine (ticket_assignee_status), unassigned (ticket_unassigned), breaching soon (the partial
    due-time indexes ticket_response_due / ticket_resolution_due), all."""
    tickets = tickets_visible_to(user)
    if tab == TAB_MINE:
        return tickets.filter(assignee=user).open()
    if tab == TAB_UNASSIGNED:
        return tickets.filter(assignee__isnull=True).open()
    if tab == TAB_BREACHING:
        limit = (now or timezone.now()) + BREACHING_WITHIN
        # The two conditions repeat the partial indexes' predicates so the planner can use them.
        response = Q(
            first_response_due__lte=limit,
            first_responded_at__isnull=True,
            paused_at__isnull=True,
            resolved_at__isnull=True,
        )
        resolution = Q(resolution_due__lte=limit, resolved_at__isnull=True, paused_at__isnull=True)
        return tickets.filter(response | resolution).open()
    return tickets


def default_tab(user) -> str:
    """Agents start on their own tickets; those who only follow tickets on all they see."""
    return TAB_MINE if user.has_perm("service.change_ticket") else TAB_ALL


def desk_counts(user, *, now: datetime | None = None) -> dict[str, int]:
    """The badges of the tabs that call for action (three counts)."""
    return {
        tab: desk_tab_queryset(user, tab, now=now).count()
        for tab in (TAB_MINE, TAB_UNASSIGNED, TAB_BREACHING)
    }


def ticket_filter(*, actor, params: QueryDict, tab: str = TAB_ALL) -> "TicketFilter":
    from service.filters import TicketFilter

    return TicketFilter(params, queryset=desk_tab_queryset(actor, tab), actor=actor, tab=tab)


def ticket_list(*, actor, params: QueryDict) -> QuerySet[Ticket]:
    """The desk's filtered, sorted tickets (the export rebuilds it from the query string)."""
    tab = params.get("tab") if params.get("tab") in TABS else default_tab(actor)
    return ticket_rows(ticket_filter(actor=actor, params=params, tab=tab).qs)


def service_users() -> QuerySet[User]:
    """Active users who may work on tickets (service.change_ticket through a group, directly, or
    as superusers): whom a ticket can be assigned to."""
    permission = Permission.objects.filter(content_type__app_label="service", codename="change_ticket")
    allowed = User.objects.filter(
        Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission)
    )
    return User.objects.filter(is_active=True, pk__in=allowed.values("pk"))


def assignee_choices(ticket: Ticket | None = None) -> QuerySet[User]:
    """Service users, the agents of the ticket's queue first."""
    users = service_users().select_related("team")
    if ticket is not None and ticket.queue_id:
        members = Queue.agents.through.objects.filter(queue_id=ticket.queue_id).values("user_id")
        users = users.annotate(
            in_queue=Case(When(pk__in=members, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("in_queue", "display_name", "username")
    else:
        users = users.order_by("display_name", "username")
    return users


def assignee_filter_choices(actor) -> QuerySet[User]:
    """The desk's assignee filter: service users (names of colleagues, not of customers)."""
    return service_users().order_by("display_name", "username")


def queue_choices() -> QuerySet[Queue]:
    return Queue.objects.filter(active=True).order_by("ticket_type")


def resolution_category_choices() -> QuerySet[ResolutionCategory]:
    return ResolutionCategory.objects.filter(active=True).order_by("order", "name")


def contact_choices(customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.order_by("-is_primary", "name", "pk")


# Finding the customer of a new ticket.


def finds_any_customer(user) -> bool:
    """Service staff (who work tickets) open tickets for any customer calling in, not only for
    the customers they own; they see minimal data of the others (see ticket_customer_search)."""
    return user.has_perm("service.change_ticket")


def ticket_customers(user) -> QuerySet[Customer]:
    """The customers ``user`` may open a ticket for."""
    if finds_any_customer(user):
        return Customer.objects.alive()
    return customers_visible_to(user)


def ticket_customer_get(user, pk: int) -> Customer:
    return get_object_or_404(ticket_customers(user), pk=pk)


def ticket_customer_search(user, query: str, *, limit: int = 20) -> tuple[list[dict], bool]:
    """Customers matching a name, number or phone, as minimal rows: name, number and the phone,
    masked unless the customer is in the user's own scope. At most ``limit``; and whether more."""
    needle = normalize.search_needle(query)
    if not needle:
        return [], False
    rows = list(
        ticket_customers(user)
        .filter(search_text__contains=needle)
        .order_by("name", "pk")
        .values("pk", "name", "number", "phone")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    own = set(
        customers_visible_to(user).filter(pk__in=[row["pk"] for row in rows]).values_list("pk", flat=True)
    )
    results = [
        {
            "pk": row["pk"],
            "name": row["name"],
            "number": row["number"],
            "phone": row["phone"] if row["pk"] in own else mask(row["phone"], keep_start=3, keep_end=2),
            "own": row["pk"] in own,
        }
        for row in rows
    ]
    return results, more


def customer_in_scope(user, customer: Customer) -> bool:
    """Whether the user may open the customer's page (the ticket page links it only then)."""
    return customers_visible_to(user).filter(pk=customer.pk).exists()


def customer_tickets(customer: Customer, user, *, limit: int = PANEL_TICKETS) -> tuple[list[Ticket], int]:
    """The customer's newest tickets the user may see, and how many open ones there are."""
    tickets = tickets_visible_to(user).filter(customer=customer)
    rows = list(tickets.select_related("assignee").order_by("-created_at", "-pk")[:limit])
    return rows, tickets.open().count()
