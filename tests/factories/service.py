"""Tickets and their parts as the services would leave them. For a ticket opened the real way
(numbered, service level applied, dispatched), call ``service.services.tickets.ticket_create``."""

import factory
from django.utils import timezone

from service.models import Queue, ResolutionCategory, Ticket, TicketAttachment, TicketEvent
from tests.factories.customers import CustomerFactory


def queue(ticket_type: str = Ticket.Type.REQUEST) -> Queue:
    """One of the default queues of migration 0002 (one per ticket type)."""
    return Queue.objects.get(ticket_type=ticket_type)


def category(name: str = "远程指导解决") -> ResolutionCategory:
    """One of the default resolution categories of migration 0002."""
    return ResolutionCategory.objects.get(name=name)


class TicketFactory(factory.django.DjangoModelFactory):
    """A new ticket, nobody holding it, waiting in its type's queue; pass ``assignee`` (and a
    status) for one being worked on. ``team`` follows the assignee as the services keep it."""

    class Meta:
        model = Ticket

    number = factory.Sequence(lambda n: f"S20260101{n:04d}")
    ticket_type = Ticket.Type.REQUEST
    customer = factory.SubFactory(CustomerFactory)
    channel = Ticket.Channel.PHONE
    subject = factory.Sequence(lambda n: f"设备无法开机{n}")
    description = "客户反映设备通电后无反应，需要远程排查。"
    priority = Ticket.Priority.NORMAL
    status = factory.LazyAttribute(
        lambda ticket: Ticket.Status.ASSIGNED if ticket.assignee else Ticket.Status.NEW
    )
    queue = factory.LazyAttribute(lambda ticket: Queue.objects.filter(ticket_type=ticket.ticket_type).first())
    assignee = None
    team = factory.LazyAttribute(lambda ticket: ticket.assignee.team if ticket.assignee else None)
    created_at = factory.LazyFunction(timezone.now)


class TicketEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketEvent

    ticket = factory.SubFactory(TicketFactory)
    kind = TicketEvent.Kind.NOTE
    body = "已电话联系客户。"


class TicketAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketAttachment

    ticket = factory.SubFactory(TicketFactory)
    file = factory.django.FileField(filename="screenshot.txt", data=b"hello")
    original_name = "故障截图.txt"
    content_type = "text/plain"
    size = 5
