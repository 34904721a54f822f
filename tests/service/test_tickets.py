"""The ticket services: open (number, service level, dispatch, events, attachments), comment,
assign, the status flow with its refusals, optimistic locking."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.errors import ConcurrentEditError, DomainError
from service.models import Ticket, TicketAttachment, TicketEvent
from service.services import tickets as services
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.service import TicketFactory, category, queue

pytestmark = pytest.mark.django_db

Status = Ticket.Status
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
# Wednesday 10:00 in Asia/Shanghai: inside business hours.
WEDNESDAY = datetime.datetime(2026, 3, 4, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep, name="华新精密机械")


@pytest.fixture
def complaint_queue(service_agent):
    complaints = queue(Ticket.Type.COMPLAINT)
    complaints.agents.add(service_agent)
    return complaints


def open_ticket(actor, customer, **fields) -> Ticket:
    values = {
        "ticket_type": Ticket.Type.COMPLAINT,
        "subject": "发货延迟",
        "description": "订单已付款两周仍未发货。",
        "priority": Ticket.Priority.URGENT,
        "now": WEDNESDAY,
    }
    return services.ticket_create(actor=actor, customer=customer, **(values | fields))


def test_open_ticket_is_numbered_dispatched_and_has_due_times(rep, customer, complaint_queue, service_agent):
    ticket = open_ticket(rep, customer)
    ticket.refresh_from_db()
    assert ticket.number.startswith("S20260304")
    assert ticket.assignee == service_agent and ticket.team == service_agent.team
    assert ticket.status == Status.ASSIGNED and ticket.queue == complaint_queue
    # Urgent complaints: respond in 1 hour, resolve in 4 (around the clock).
    assert ticket.first_response_due == WEDNESDAY + datetime.timedelta(hours=1)
    assert ticket.resolution_due == WEDNESDAY + datetime.timedelta(hours=4)
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == [TicketEvent.Kind.CREATED, TicketEvent.Kind.ASSIGNED]
    assert ticket.events.get(kind="assigned").assignee == service_agent


def test_ticket_without_agents_waits_new_in_its_queue(rep, customer):
    ticket = open_ticket(rep, customer, ticket_type=Ticket.Type.CONSULTATION)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and ticket.assignee is None
    assert ticket.queue == queue(Ticket.Type.CONSULTATION)
    assert list(ticket.events.values_list("kind", flat=True)) == [TicketEvent.Kind.CREATED]


def test_contact_of_another_customer_is_refused(rep, customer):
    stranger = ContactFactory(customer=CustomerFactory(owner=rep))
    with pytest.raises(DomainError) as error:
        open_ticket(rep, customer, contact=stranger)
    assert error.value.field == "contact"
    assert not Ticket.objects.exists()


def test_attachments_are_stored_and_typed_by_content(rep, customer, media):
    upload = SimpleUploadedFile("截图.jpg", PNG, content_type="image/jpeg")
    ticket = open_ticket(rep, customer, uploads=[upload])
    attachment = ticket.attachments.get()
    assert attachment.content_type == "image/png" and attachment.original_name == "截图.jpg"
    assert attachment.file.name.startswith(f"tickets/{ticket.pk}/")
    assert (media / attachment.file.name).exists()


def test_refused_attachment_saves_nothing(rep, customer, media):
    good = SimpleUploadedFile("a.png", PNG)
    bad = SimpleUploadedFile("evil.png", b"<html><script>alert(1)</script>")
    with pytest.raises(DomainError) as error:
        open_ticket(rep, customer, uploads=[good, bad])
    assert error.value.field == "attachments" and "evil.png" in error.value.message
    assert not Ticket.objects.exists() and not TicketAttachment.objects.exists()
    assert not media.exists() or not any(media.rglob("*.*"))


def test_full_flow_start_wait_resume_resolve_close_reopen(service_agent, customer, complaint_queue):
    ticket = open_ticket(service_agent, customer)
    due = ticket.resolution_due
    later = WEDNESDAY + datetime.timedelta(minutes=10)
    ticket = services.ticket_start(actor=service_agent, ticket=ticket, now=later)
    assert ticket.status == Status.IN_PROGRESS and ticket.first_responded_at == later
    ticket = services.ticket_wait(actor=service_agent, ticket=ticket, note="等待客户提供订单号", now=later)
    assert ticket.status == Status.WAITING and ticket.paused_at == later
    resumed = later + datetime.timedelta(minutes=30)
    ticket = services.ticket_resume(actor=service_agent, ticket=ticket, now=resumed)
    assert ticket.paused_at is None and ticket.resolution_due == due + datetime.timedelta(minutes=30)
    ticket = services.ticket_resolve(
        actor=service_agent, ticket=ticket, resolution="已安排加急发货", category=category(), now=resumed
    )
    assert ticket.status == Status.RESOLVED and ticket.resolved_at == resumed
    ticket = services.ticket_close(actor=service_agent, ticket=ticket, now=resumed)
    assert ticket.status == Status.CLOSED and ticket.closed_at == resumed
    reopened_at = resumed + datetime.timedelta(days=1)
    ticket = services.ticket_reopen(
        actor=service_agent, ticket=ticket, reason="客户仍未收到货", now=reopened_at
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.reopen_count == 1
    assert ticket.resolved_at is None and ticket.closed_at is None
    assert ticket.resolution_due == reopened_at + datetime.timedelta(hours=4)
    moves = list(ticket.events.filter(kind="status").values_list("from_status", "to_status"))
    assert moves == [
        ("assigned", "in_progress"),
        ("in_progress", "waiting"),
        ("waiting", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "assigned"),
    ]


def test_reopened_ticket_nobody_holds_goes_back_to_new(rep, customer):
    ticket = TicketFactory(customer=customer, status=Status.RESOLVED, resolved_at=timezone.now())
    ticket = services.ticket_reopen(actor=rep, ticket=ticket)
    assert ticket.status == Status.NEW


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.NEW, "resume"),
        (Status.IN_PROGRESS, "start"),
        (Status.WAITING, "wait"),
        (Status.IN_PROGRESS, "close"),
        (Status.ASSIGNED, "reopen"),
        (Status.CLOSED, "start"),
    ],
)
def test_invalid_transitions_are_refused_with_a_message(service_agent, customer, status, action):
    ticket = TicketFactory(customer=customer, assignee=service_agent, status=status)
    with pytest.raises(DomainError) as error:
        services.ACTIONS[action](actor=service_agent, ticket=ticket)
    assert ticket.get_status_display() in error.value.message
    ticket.refresh_from_db()
    assert ticket.status == status and not ticket.events.exists()


def test_starting_a_new_ticket_takes_it(service_agent, customer):
    ticket = TicketFactory(customer=customer)
    ticket = services.ticket_start(actor=service_agent, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.assignee == service_agent and ticket.status == Status.IN_PROGRESS
    assert ticket.first_responded_at is not None


def test_resolve_needs_text_and_category(service_agent, customer):
    ticket = TicketFactory(customer=customer, assignee=service_agent, status=Status.IN_PROGRESS)
    with pytest.raises(DomainError) as error:
        services.ticket_resolve(actor=service_agent, ticket=ticket, resolution="  ", category=category())
    assert error.value.field == "resolution"
    with pytest.raises(DomainError) as error:
        services.ticket_resolve(actor=service_agent, ticket=ticket, resolution="已处理", category=None)
    assert error.value.field == "resolution_category"
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_resolving_a_waiting_ticket_restarts_the_clock_first(service_agent, customer):
    paused = timezone.now() - datetime.timedelta(hours=1)
    ticket = TicketFactory(
        customer=customer,
        assignee=service_agent,
        status=Status.WAITING,
        paused_at=paused,
        priority=Ticket.Priority.URGENT,
        resolution_due=paused + datetime.timedelta(hours=2),
    )
    ticket = services.ticket_resolve(
        actor=service_agent, ticket=ticket, resolution="已解决", category=category()
    )
    assert ticket.paused_at is None and ticket.status == Status.RESOLVED


def test_first_reply_is_the_first_response_and_is_emailed(
    service_agent, customer, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(customer=customer, email="wang@example.com", name="王经理")
    ticket = TicketFactory(customer=customer, contact=contact, assignee=service_agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_comment(actor=service_agent, ticket=ticket, body="您好，已为您加急处理。", reply=True)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["wang@example.com"] and ticket.number in mail.subject
    assert "您好，已为您加急处理。" in mail.body and "王经理" in mail.body
    first = ticket.first_responded_at
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_comment(actor=service_agent, ticket=ticket, body="补充说明", reply=True)
    ticket.refresh_from_db()
    assert ticket.first_responded_at == first and len(mailoutbox) == 2


def test_internal_note_is_not_emailed_nor_a_response(
    service_agent, customer, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(
        customer=customer, contact=ContactFactory(customer=customer), assignee=service_agent
    )
    with django_capture_on_commit_callbacks(execute=True):
        event = services.ticket_comment(actor=service_agent, ticket=ticket, body="客户语气激动", reply=False)
    ticket.refresh_from_db()
    assert event.kind == TicketEvent.Kind.NOTE and ticket.first_responded_at is None and not mailoutbox


def test_empty_comment_is_refused(service_agent, customer):
    ticket = TicketFactory(customer=customer)
    with pytest.raises(DomainError):
        services.ticket_comment(actor=service_agent, ticket=ticket, body="   ")


def test_assign_records_the_reassignment(service_agent, agent, customer):
    ticket = TicketFactory(customer=customer, assignee=service_agent)
    ticket = services.ticket_assign(actor=service_agent, ticket=ticket, assignee=agent)
    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.team is None
    event = ticket.events.get(kind="assigned")
    assert event.assignee == agent and event.actor == service_agent


def test_assign_to_a_sales_rep_is_refused(service_agent, rep, customer):
    ticket = TicketFactory(customer=customer, assignee=service_agent)
    with pytest.raises(DomainError):
        services.ticket_assign(actor=service_agent, ticket=ticket, assignee=rep)


def test_edit_with_a_stale_version_is_refused(service_agent, customer):
    ticket = TicketFactory(customer=customer)
    services.ticket_update(actor=service_agent, ticket=ticket, version=1, subject="新标题")
    with pytest.raises(ConcurrentEditError):
        services.ticket_update(actor=service_agent, ticket=ticket, version=1, subject="另一个标题")
    ticket.refresh_from_db()
    assert ticket.subject == "新标题" and ticket.version == 2


def test_raising_the_priority_reapplies_the_service_level(service_agent, customer):
    ticket = open_ticket(
        service_agent, customer, priority=Ticket.Priority.LOW, ticket_type=Ticket.Type.REQUEST
    )
    changed_at = WEDNESDAY + datetime.timedelta(minutes=5)
    ticket = services.ticket_update(
        actor=service_agent,
        ticket=ticket,
        version=ticket.version,
        priority=Ticket.Priority.URGENT,
        now=changed_at,
    )
    assert ticket.first_response_due == changed_at + datetime.timedelta(hours=2)
    note = ticket.events.get(kind="note").body
    assert "紧急" in note or "Urgent" in note


def test_unchanged_edit_keeps_the_version(service_agent, customer):
    ticket = TicketFactory(customer=customer, subject="相同")
    ticket = services.ticket_update(actor=service_agent, ticket=ticket, version=1, subject="相同")
    assert ticket.version == 1 and not ticket.events.exists()


def test_close_sends_the_satisfaction_survey(
    service_agent, customer, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(customer=customer, email="li@example.com")
    ticket = TicketFactory(
        customer=customer,
        contact=contact,
        assignee=service_agent,
        status=Status.RESOLVED,
        resolved_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        closed = services.ticket_close(actor=service_agent, ticket=ticket)
    assert ticket.surveys.count() == 1 and closed.survey_url is None


def test_close_without_any_address_hands_the_link_to_the_agent(service_agent, customer):
    Customer = type(customer)
    Customer.objects.filter(pk=customer.pk).update(email="")
    ticket = TicketFactory(
        customer=customer, assignee=service_agent, status=Status.RESOLVED, resolved_at=timezone.now()
    )
    closed = services.ticket_close(actor=service_agent, ticket=ticket)
    assert closed.survey_url and "/s/" in closed.survey_url
    # Closed again after a reopen: one survey per ticket, no new link.
    services.ticket_reopen(actor=service_agent, ticket=closed)
    services.ticket_resolve(actor=service_agent, ticket=closed, resolution="再次处理", category=category())
    again = services.ticket_close(actor=service_agent, ticket=closed)
    assert again.survey_url is None and ticket.surveys.count() == 1
