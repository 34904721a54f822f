"""Dispatch (派单): automatically to the least-loaded agent of the ticket type's queue, or by hand
to a chosen agent (a reassignment is recorded on the ticket's timeline).

Least loaded: among the queue's active members who may handle tickets (service.change_ticket),
the one with the fewest open tickets (any queue); on a tie the one whose last assignment is the
oldest (never assigned counts as oldest), then the lowest pk. One query.

Two tickets dispatched at the same moment may both go to the same agent (no lock is taken on the
agents: the counts even out over the next dispatches, which is what least-loaded promises).
"""

import datetime

from django.contrib.auth.models import Permission
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import User
from service.models import Queue, Ticket, TicketEvent

HANDLE_PERMISSION = "service.change_ticket"
CLOSED_STATUSES = [Ticket.Status.RESOLVED, Ticket.Status.CLOSED]


def may_handle_q() -> Q:
    """Users who hold service.change_ticket (directly, through a role, or as superuser), in SQL."""
    app_label, codename = HANDLE_PERMISSION.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    through_roles = User.groups.through.objects.filter(user=OuterRef("pk"), group__permissions__in=permission)
    direct = User.user_permissions.through.objects.filter(user=OuterRef("pk"), permission__in=permission)
    return Q(is_superuser=True) | Q(Exists(through_roles)) | Q(Exists(direct))


def agents_by_load(queue: Queue) -> models.QuerySet[User]:
    """The queue's active agents who may handle tickets, least loaded first (``open_tickets``
    annotated). Open tickets are counted through the (assignee, status, created) index."""
    open_tickets = (
        Ticket.objects.filter(assignee=OuterRef("pk"))
        .exclude(status__in=CLOSED_STATUSES)
        .order_by()
        .values("assignee")
        .annotate(count=Count("pk"))
        .values("count")
    )
    last_assigned = (
        TicketEvent.objects.filter(kind=TicketEvent.Kind.ASSIGNED, assignee=OuterRef("pk"))
        .order_by("-at")
        .values("at")[:1]
    )
    return (
        User.objects.filter(service_queues=queue, is_active=True)
        .filter(may_handle_q())
        .annotate(
            open_tickets=Coalesce(Subquery(open_tickets), Value(0)),
            last_assigned_at=Subquery(last_assigned),
        )
        .order_by("open_tickets", F("last_assigned_at").asc(nulls_first=True), "pk")
    )


def least_loaded_agent(queue: Queue) -> User | None:
    """The agent the queue's next ticket goes to; None when it has nobody active."""
    return agents_by_load(queue).first()


def queue_for(ticket_type: str) -> Queue | None:
    """The active queue of a ticket type (one per type)."""
    return Queue.objects.filter(ticket_type=ticket_type, active=True).first()


def least_loaded_agent_for_type(ticket_type: str) -> User | None:
    """The least-loaded agent of ``ticket_type``'s active queue (e.g. who makes the after-sales
    call of a purchase); None without a queue or an active agent."""
    queue = queue_for(ticket_type)
    return least_loaded_agent(queue) if queue else None


def dispatch_auto(ticket: Ticket, *, actor: User | None, now: datetime.datetime) -> User | None:
    """Put a new ticket in its type's queue and, when the queue dispatches automatically, give it
    to the least-loaded agent (status assigned). Nobody found: the ticket waits unassigned in the
    queue (status new). Returns the agent; no save, no event (the caller records them)."""
    queue = queue_for(ticket.ticket_type)
    ticket.queue = queue
    agent = least_loaded_agent(queue) if queue is not None and queue.auto_dispatch else None
    if agent is None:
        ticket.assignee = None
        ticket.team_id = None
        ticket.status = Ticket.Status.NEW
        return None
    ticket.assignee = agent
    ticket.team_id = agent.team_id
    ticket.status = Ticket.Status.ASSIGNED
    return agent


@transaction.atomic
def assign(ticket: Ticket, user: User, *, actor: User, now: datetime.datetime) -> TicketEvent:
    """Give ``ticket`` to ``user`` (an active user who may handle tickets): a new ticket becomes
    assigned, one in progress or waiting on the customer keeps its status. Saves the ticket and
    records the assignment on its timeline; raises DomainError when it cannot be done."""
    if not user.is_active:
        raise DomainError(
            _("%(name)s is inactive and cannot take tickets.") % {"name": user}, field="assignee"
        )
    if not user.has_perm(HANDLE_PERMISSION):
        raise DomainError(
            _("%(name)s may not handle tickets: choose a service agent.") % {"name": user}, field="assignee"
        )
    # Locked: a concurrent assignment or status move waits, so the status below is the current one.
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.status in CLOSED_STATUSES:
        raise DomainError(_("A resolved or closed ticket cannot be reassigned; reopen it first."))
    if locked.assignee_id == user.pk:
        raise DomainError(_("%(name)s already handles this ticket.") % {"name": user}, field="assignee")
    status = Ticket.Status.ASSIGNED if locked.status == Ticket.Status.NEW else locked.status
    Ticket.objects.filter(pk=ticket.pk).update(
        assignee=user, team_id=user.team_id, status=status, updated_at=now
    )
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.ASSIGNED,
        actor=actor,
        at=now,
        assignee=user,
        from_status=locked.status if status != locked.status else "",
        to_status=status if status != locked.status else "",
    )
    ticket.assignee, ticket.team_id, ticket.status, ticket.updated_at = user, user.team_id, status, now
    return event
