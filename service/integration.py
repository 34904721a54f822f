"""How the service app joins the customers app's workflows (customers.hooks): the customer
timeline, merging two customers, erasing personal data and the personal-data export.

Transfers register nothing: a ticket belongs to its assignee, not to the customer's owner, and
the new owner sees the customer's tickets through ``Ticket.objects.visible_to`` (customer owner).
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers import hooks
from customers.models import Customer
from customers.services.privacy import SCRUBBED, plain_record
from service.models import Purchase, SurveyInvitation, Ticket, TicketAttachment, TicketEvent
from service.selectors import tickets_visible_to

# What the customer timeline shows of a ticket: internal notes and assignments stay on the ticket.
TIMELINE_KINDS = [TicketEvent.Kind.CREATED, TicketEvent.Kind.STATUS, TicketEvent.Kind.REPLY]


def timeline_entries(customer: Customer, user, limit: int) -> list[hooks.TimelineEntry]:
    """Opened, status changes and replies of the customer's tickets the user may see (one query)."""
    events = (
        TicketEvent.objects.filter(
            ticket__in=tickets_visible_to(user).filter(customer=customer).values("pk"),
            kind__in=TIMELINE_KINDS,
        )
        .select_related("ticket", "actor")
        .order_by("-at", "-pk")[:limit]
    )
    entries = []
    for event in events:
        ticket = event.ticket
        values = {"number": ticket.number, "subject": ticket.subject}
        body = ""
        if event.kind == TicketEvent.Kind.CREATED:
            title, icon = _("Ticket opened: %(number)s %(subject)s") % values, "life-preserver"
            body = ticket.get_ticket_type_display()
        elif event.kind == TicketEvent.Kind.REPLY:
            title, icon = _("Reply on ticket %(number)s") % values, "reply"
            body = event.body
        else:
            values["status"] = event.get_to_status_display()
            title, icon = _("Ticket %(number)s: %(status)s") % values, "arrow-repeat"
            body = event.body
        entries.append(
            hooks.TimelineEntry(
                at=event.at,
                kind="ticket",
                icon=icon,
                title=title,
                body=body,
                url=ticket.get_absolute_url(),
                actor=str(event.actor or ""),
            )
        )
    return entries


def move_tickets(survivor: Customer, merged: Customer, actor) -> int:
    return Ticket.objects.filter(customer=merged).update(customer=survivor)


def count_tickets(customer: Customer) -> int:
    return Ticket.objects.filter(customer=customer).count()


def move_surveys(survivor: Customer, merged: Customer, actor) -> int:
    """Ticket surveys follow their tickets; a quarterly survey moves unless the survivor has one
    for the same quarter (one per customer and quarter): that one stays with the merged record."""
    taken = SurveyInvitation.objects.filter(customer=survivor, kind=SurveyInvitation.Kind.QUARTERLY).values(
        "period"
    )
    movable = SurveyInvitation.objects.filter(customer=merged).exclude(
        kind=SurveyInvitation.Kind.QUARTERLY, period__in=taken
    )
    return movable.update(customer=survivor)


def count_surveys(customer: Customer) -> int:
    return SurveyInvitation.objects.filter(customer=customer).count()


def move_purchases(survivor: Customer, merged: Customer, actor) -> int:
    return Purchase.objects.filter(customer=merged).update(customer=survivor)


def count_purchases(customer: Customer) -> int:
    return Purchase.objects.filter(customer=customer).count()


def erase_texts(customer: Customer, actor) -> int:
    """PIPL erasure: what the customer told us and what we wrote back (subjects, descriptions,
    resolutions, replies and notes, survey comments) and the files they sent. Numbers, types,
    statuses and timings stay for the service statistics."""
    tickets = Ticket.objects.filter(customer=customer)
    changed = tickets.update(subject=SCRUBBED, description=SCRUBBED, resolution="")
    TicketEvent.objects.filter(ticket__in=tickets).exclude(body="").update(body="")
    SurveyInvitation.objects.filter(customer=customer).update(comment="", email="")
    attachments = TicketAttachment.objects.filter(ticket__in=tickets)
    files = [(attachment.file.storage, attachment.file.name) for attachment in attachments]
    attachments.delete()
    # The files go only once the rows are surely gone.
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])
    return changed


def personal_data_tickets(customer: Customer) -> list[dict]:
    """The customer's tickets with what was said to them (replies) and the status changes;
    internal notes are the staff's working notes and stay out."""
    records = []
    tickets = (
        Ticket.objects.filter(customer=customer)
        .select_related("contact", "assignee", "team", "queue", "resolution_category", "created_by")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    events = TicketEvent.objects.filter(
        ticket__customer=customer, kind__in=[*TIMELINE_KINDS, TicketEvent.Kind.RATING]
    ).select_related("actor")
    by_ticket: dict[int, list[dict]] = {}
    for event in events.order_by("at", "pk"):
        by_ticket.setdefault(event.ticket_id, []).append(
            plain_record(event, exclude={"id", "ticket", "assignee"})
        )
    for ticket in tickets:
        record = plain_record(ticket, exclude={"id", "customer", "version"})
        record["events"] = by_ticket.get(ticket.pk, [])
        record["attachments"] = [
            plain_record(attachment, exclude={"id", "ticket", "file"})
            for attachment in ticket.attachments.all()
        ]
        records.append(record)
    return records


def personal_data_surveys(customer: Customer) -> list[dict]:
    return [
        plain_record(invitation, exclude={"id", "customer", "token_hash", "created_by"})
        for invitation in SurveyInvitation.objects.filter(customer=customer)
        .select_related("ticket", "contact")
        .order_by("created_at", "pk")
    ]


def personal_data_purchases(customer: Customer) -> list[dict]:
    return [
        plain_record(purchase, exclude={"id", "customer"})
        for purchase in Purchase.objects.filter(customer=customer).select_related("created_by")
    ]


def register() -> None:
    hooks.register_timeline("service", timeline_entries)
    hooks.register_merge(hooks.MergeHandler("tickets", gettext_lazy("Tickets"), move_tickets, count_tickets))
    hooks.register_merge(
        hooks.MergeHandler("surveys", gettext_lazy("Satisfaction surveys"), move_surveys, count_surveys)
    )
    hooks.register_merge(
        hooks.MergeHandler("purchases", gettext_lazy("Purchases"), move_purchases, count_purchases)
    )
    hooks.register_erase("service", erase_texts)
    hooks.register_personal_data("tickets", personal_data_tickets)
    hooks.register_personal_data("surveys", personal_data_surveys)
    hooks.register_personal_data("purchases", personal_data_purchases)
