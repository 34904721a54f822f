"""Writes of tickets (工单): open, edit, comment, assign and move through the status flow.

new → assigned → in progress ⇄ waiting on customer → resolved → closed; resolved or closed ones
can be reopened. Every change is a ``TicketEvent`` written in the same transaction. The clock
(``service.services.sla``) and dispatch (``service.services.dispatch``) are separate modules
imported inside the functions: they set fields and this module saves. Closing a ticket asks
``service.services.surveys`` for the satisfaction link.
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.errors import ConcurrentEditError, DomainError
from accounts.numbering import next_number
from customers.models import Contact, Customer
from customers.uploads import check_attachment
from service.models import Queue, ResolutionCategory, Ticket, TicketAttachment, TicketEvent

logger = logging.getLogger(__name__)

Status = Ticket.Status
OPEN = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING)
# What ticket_update may change; status, assignee and resolution have their own services.
EDITABLE_FIELDS = ["ticket_type", "priority", "channel", "contact", "subject", "description"]
# Changing these re-applies the service level.
SLA_FIELDS = {"ticket_type", "priority"}


def _locked(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",)).select_related("contact", "customer").get(pk=ticket.pk)
    )


def _event(ticket: Ticket, kind: str, actor, at: datetime, **fields: Any) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, at=at, **fields)


def _move(ticket: Ticket, to_status: str, actor, at: datetime, body: str = "") -> TicketEvent:
    """Set the status and record the change (the caller saves the ticket)."""
    from_status = ticket.status
    ticket.status = to_status
    return _event(
        ticket, TicketEvent.Kind.STATUS, actor, at, from_status=from_status, to_status=to_status, body=body
    )


def _refuse(ticket: Ticket, action: str) -> DomainError:
    """The refusal of a status action the ticket's current status does not allow."""
    messages = {
        "start": _("A ticket that is “%(status)s” cannot be started."),
        "wait": _("A ticket that is “%(status)s” cannot wait on the customer."),
        "resume": _("Only a ticket waiting on the customer can be resumed; this one is “%(status)s”."),
        "resolve": _("A ticket that is “%(status)s” cannot be resolved."),
        "close": _("Only a resolved ticket can be closed; this one is “%(status)s”."),
        "reopen": _("Only a resolved or closed ticket can be reopened; this one is “%(status)s”."),
    }
    return DomainError(messages[action] % {"status": ticket.get_status_display()})


def _check_contact(customer: Customer, contact: Contact | None) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise DomainError(_("Choose a contact of this customer."), field="contact")


def _check_uploads(uploads: Iterable[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """Every upload checked before anything is stored, so a refused file saves nothing."""
    checked = []
    for upload in uploads:
        try:
            detected = check_attachment(upload)
        except ValidationError as error:
            raise DomainError(" ".join(error.messages), field="attachments") from error
        checked.append((upload, detected.content_type))
    return checked


def _store_uploads(ticket: Ticket, checked: list[tuple[UploadedFile, str]], actor) -> list[TicketAttachment]:
    stored = []
    for upload, content_type in checked:
        attachment = TicketAttachment(
            ticket=ticket,
            original_name=upload.name[:255],
            content_type=content_type,
            size=upload.size,
            uploaded_by=actor,
        )
        # Stored last, after every check: the files are named at random under the ticket's folder.
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


@transaction.atomic
def ticket_create(
    *,
    actor,
    customer: Customer,
    ticket_type: str,
    subject: str,
    description: str,
    priority: int = Ticket.Priority.NORMAL,
    channel: str = Ticket.Channel.PHONE,
    contact: Contact | None = None,
    uploads: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket: numbered ``S<date><seq>``, service level applied, dispatched to the
    least-loaded agent of its type's queue (or left new in the queue's "unassigned")."""
    from service.services import dispatch, sla

    if customer.deleted_at is not None:
        raise DomainError(_("This customer has been deleted."), field="customer")
    _check_contact(customer, contact)
    if not subject.strip():
        raise DomainError(_("Enter a subject."), field="subject")
    checked = _check_uploads(uploads)
    now = now or timezone.now()
    ticket = Ticket(
        ticket_type=ticket_type,
        customer=customer,
        contact=contact,
        channel=channel,
        subject=subject.strip(),
        description=description.strip(),
        priority=priority,
        status=Status.NEW,
        created_by=actor,
        created_at=now,
    )
    ticket.queue = Queue.objects.filter(ticket_type=ticket_type, active=True).first()
    sla.sla_apply(ticket, now)
    assignee = dispatch.dispatch_auto(ticket, actor=actor, now=now)
    ticket.number = next_number("S", day=timezone.localdate(now))
    ticket.save()
    _event(ticket, TicketEvent.Kind.CREATED, actor, now, to_status=Status.NEW)
    if assignee is not None:
        _event(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            actor,
            now,
            from_status=Status.NEW,
            to_status=ticket.status,
            assignee=assignee,
            body=_("Dispatched automatically (queue: %(queue)s).") % {"queue": ticket.queue},
        )
    _store_uploads(ticket, checked, actor)
    return ticket


def _label(name: str) -> str:
    return capfirst(str(Ticket._meta.get_field(name).verbose_name))


def _display(ticket: Ticket, name: str) -> str:
    if name == "contact":
        return str(ticket.contact or "—")
    getter = getattr(ticket, f"get_{name}_display", None)
    return str(getter() if getter else getattr(ticket, name))


@transaction.atomic
def ticket_update(
    *, actor, ticket: Ticket, version: int, now: datetime | None = None, **changes: Any
) -> Ticket:
    """Save an edit made on a form read at ``version`` (optimistic locking). A new priority or type
    re-applies the service level; the change is noted on the ticket's timeline."""
    from service.services import sla

    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not an editable ticket field: {', '.join(sorted(unknown))}")
    current = _locked(ticket)
    if current.version != version:
        raise ConcurrentEditError(
            _(
                "Someone else saved this ticket while you were editing. Your input is kept below; "
                "check it and save again."
            )
        )
    if "contact" in changes:
        _check_contact(current.customer, changes["contact"])
    if "subject" in changes and not changes["subject"].strip():
        raise DomainError(_("Enter a subject."), field="subject")
    now = now or timezone.now()
    notes = []
    sla_changed = False
    for name, value in changes.items():
        if getattr(current, name) == value:
            continue
        sla_changed = sla_changed or name in SLA_FIELDS
        before = _display(current, name)
        setattr(current, name, value)
        if name != "description":
            notes.append(
                _("%(field)s: “%(old)s” → “%(new)s”")
                % {"field": _label(name), "old": before, "new": _display(current, name)}
            )
        else:
            notes.append(_("%(field)s changed") % {"field": _label(name)})
    if sla_changed:
        if "ticket_type" in changes and current.assignee_id is None:
            # Nobody holds it: it waits in the queue of its new type.
            current.queue = Queue.objects.filter(ticket_type=current.ticket_type, active=True).first()
        if current.is_open:
            _reapply_sla(current, now, sla)
    if not notes:
        return current
    current.version = version + 1
    current.save()
    _event(current, TicketEvent.Kind.NOTE, actor, now, body="\n".join(notes))
    return current


def _reapply_sla(ticket: Ticket, now: datetime, sla) -> None:
    """New targets counted from the change (sla.sla_apply: a waiting ticket's pause restarts now;
    a missed target stays missed)."""
    sla.sla_apply(ticket, now)


@transaction.atomic
def ticket_comment(
    *,
    actor,
    ticket: Ticket,
    body: str,
    reply: bool = False,
    uploads: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> TicketEvent:
    """An internal note, or a reply to the customer (e-mailed to the contact when they have an
    address). The first reply is the ticket's first response."""
    from service.services import sla

    body = body.strip()
    if not body:
        raise DomainError(_("Write something first."), field="body")
    checked = _check_uploads(uploads)
    now = now or timezone.now()
    current = _locked(ticket)
    kind = TicketEvent.Kind.REPLY if reply else TicketEvent.Kind.NOTE
    event = _event(current, kind, actor, now, body=body)
    if reply and current.first_responded_at is None:
        sla.sla_first_response(current, now)
        current.save(update_fields=["first_responded_at", "updated_at"])
    _store_uploads(current, checked, actor)
    if reply and current.contact is not None and current.contact.email:
        transaction.on_commit(lambda: send_reply(event.pk))
    return event


def send_reply(event_pk: int) -> bool:
    """E-mail a reply to the ticket's contact, in the site's language (the customer has no
    account to choose one). A mail server failure is logged, never undoes the reply."""
    event = (
        TicketEvent.objects.select_related("ticket__contact", "ticket__customer", "actor")
        .filter(pk=event_pk, kind=TicketEvent.Kind.REPLY)
        .first()
    )
    if event is None or event.ticket.contact is None or not event.ticket.contact.email:
        return False
    ticket = event.ticket
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        context = {
            "ticket": ticket,
            "event": event,
            "contact": ticket.contact,
            "site_name": settings.SITE_NAME,
        }
        subject = " ".join(render_to_string("emails/ticket_reply_subject.txt", context).split())
        text = render_to_string("emails/ticket_reply_body.txt", context)
        html = render_to_string("emails/ticket_reply_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[ticket.contact.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        logger.exception("The reply on ticket %s could not be e-mailed", ticket.number)
        return False
    return True


@transaction.atomic
def ticket_assign(*, actor, ticket: Ticket, assignee, now: datetime | None = None) -> Ticket:
    """Give the ticket to ``assignee`` (reassignment is recorded by dispatch.assign)."""
    from service.services import dispatch

    current = _locked(ticket)
    # dispatch.assign refuses inactive users, non-agents, closed tickets and the same assignee.
    dispatch.assign(current, assignee, actor=actor, now=now or timezone.now())
    return current


@transaction.atomic
def ticket_start(*, actor, ticket: Ticket, now: datetime | None = None) -> Ticket:
    """In progress. A ticket nobody holds goes to the one who starts it; the assignee starting
    work is the first response."""
    from service.services import dispatch, sla

    now = now or timezone.now()
    current = _locked(ticket)
    if current.status not in (Status.NEW, Status.ASSIGNED):
        raise _refuse(current, "start")
    if current.assignee_id is None:
        dispatch.assign(current, actor, actor=actor, now=now)
    _move(current, Status.IN_PROGRESS, actor, now)
    if current.assignee_id == actor.pk and current.first_responded_at is None:
        sla.sla_first_response(current, now)
    current.save()
    return current


@transaction.atomic
def ticket_wait(*, actor, ticket: Ticket, note: str = "", now: datetime | None = None) -> Ticket:
    """Waiting on the customer: the service-level clock stops until the ticket resumes."""
    from service.services import sla

    now = now or timezone.now()
    current = _locked(ticket)
    if current.status not in (Status.ASSIGNED, Status.IN_PROGRESS):
        raise _refuse(current, "wait")
    _move(current, Status.WAITING, actor, now, body=note.strip())
    sla.sla_pause(current, now)
    current.save()
    return current


@transaction.atomic
def ticket_resume(*, actor, ticket: Ticket, now: datetime | None = None) -> Ticket:
    """Back to work: the due times move later by the time spent waiting."""
    from service.services import sla

    now = now or timezone.now()
    current = _locked(ticket)
    if current.status != Status.WAITING:
        raise _refuse(current, "resume")
    sla.sla_resume(current, now)
    _move(current, Status.IN_PROGRESS, actor, now)
    current.save()
    return current


@transaction.atomic
def ticket_resolve(
    *,
    actor,
    ticket: Ticket,
    resolution: str,
    category: ResolutionCategory | None,
    now: datetime | None = None,
) -> Ticket:
    """Resolved, with what was done (处理结果) and its category, both required."""
    from service.services import sla

    resolution = (resolution or "").strip()
    if not resolution:
        raise DomainError(_("Describe how the ticket was resolved."), field="resolution")
    if category is None:
        raise DomainError(_("Choose a resolution category."), field="resolution_category")
    if not category.active:
        raise DomainError(_("This resolution category is no longer in use."), field="resolution_category")
    now = now or timezone.now()
    current = _locked(ticket)
    if current.status not in OPEN:
        raise _refuse(current, "resolve")
    if current.paused_at is not None:
        sla.sla_resume(current, now)
    current.resolution = resolution
    current.resolution_category = category
    current.resolved_at = now
    _move(current, Status.RESOLVED, actor, now, body=resolution)
    current.save()
    return current


@transaction.atomic
def ticket_close(*, actor, ticket: Ticket, now: datetime | None = None) -> Ticket:
    """Closed; the customer is sent the satisfaction link (service.services.surveys). The returned
    ticket carries ``survey_url``: the link to pass on by hand when nobody could be mailed."""
    now = now or timezone.now()
    current = _locked(ticket)
    if current.status != Status.RESOLVED:
        raise _refuse(current, "close")
    current.closed_at = now
    _move(current, Status.CLOSED, actor, now)
    current.save()
    from service.services.surveys import survey_for_closed_ticket

    # The link itself only when there is no address to mail it to: the agent passes it on (the
    # token is stored hashed, so this is the only moment it exists in clear).
    link = survey_for_closed_ticket(current, actor=actor, now=now)
    current.survey_url = link.url if link is not None else None
    return current


@transaction.atomic
def ticket_reopen(*, actor, ticket: Ticket, reason: str = "", now: datetime | None = None) -> Ticket:
    """Open again after resolution or closing: back to its assignee (or new in the queue), with a
    fresh resolution target counted from now."""
    from service.services import sla

    now = now or timezone.now()
    current = _locked(ticket)
    if current.status not in (Status.RESOLVED, Status.CLOSED):
        raise _refuse(current, "reopen")
    current.reopen_count += 1
    current.resolved_at = None
    current.closed_at = None
    current.paused_at = None
    _move(current, Status.ASSIGNED if current.assignee_id else Status.NEW, actor, now, body=reason.strip())
    sla.sla_apply(current, now)
    current.save()
    return current


ACTIONS = {
    "start": ticket_start,
    "wait": ticket_wait,
    "resume": ticket_resume,
    "close": ticket_close,
    "reopen": ticket_reopen,
}


def available_actions(ticket: Ticket) -> list[str]:
    """The status actions the ticket page offers (the services check again on the locked row)."""
    status = ticket.status
    actions = []
    if status in (Status.NEW, Status.ASSIGNED):
        actions.append("start")
    if status in (Status.ASSIGNED, Status.IN_PROGRESS):
        actions.append("wait")
    if status == Status.WAITING:
        actions.append("resume")
    if status in OPEN:
        actions.append("resolve")
    if status == Status.RESOLVED:
        actions.append("close")
    if status in (Status.RESOLVED, Status.CLOSED):
        actions.append("reopen")
    return actions
