"""Tickets in the customers app's workflows: merge, the customer timeline, erasure, the
personal-data export and the customer page's panel."""

import datetime

import pytest
from django.utils import timezone

from customers import hooks
from customers.models import Customer
from customers.services import merge as merge_services
from customers.services.privacy import SCRUBBED, customer_erase, customer_personal_data
from service.models import Purchase, SurveyInvitation, Ticket, TicketAttachment, TicketEvent
from tests.factories.customers import CustomerFactory
from tests.factories.service import TicketAttachmentFactory, TicketEventFactory, TicketFactory

pytestmark = pytest.mark.django_db


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def invitation(customer: Customer, **fields) -> SurveyInvitation:
    values = {
        "kind": SurveyInvitation.Kind.QUARTERLY,
        "token_hash": f"{customer.pk:064d}"[-64:] if "token_hash" not in fields else fields.pop("token_hash"),
        "expires_at": timezone.now() + datetime.timedelta(days=14),
    }
    return SurveyInvitation.objects.create(customer=customer, **(values | fields))


def merge(lead, survivor: Customer, other: Customer) -> None:
    merge_services.customer_merge(
        actor=lead,
        survivor=fresh(survivor),
        merged=fresh(other),
        choices={},
        expected_versions={c.pk: fresh(c).version for c in (survivor, other)},
    )


def test_merging_moves_tickets_surveys_and_purchases(lead, rep, teammate):
    survivor, other = CustomerFactory(owner=rep), CustomerFactory(owner=teammate)
    ticket = TicketFactory(customer=other)
    handler = next(handler for handler in hooks.merge_handlers() if handler.name == "tickets")
    assert handler.count(other) == 1
    survey = invitation(other, kind=SurveyInvitation.Kind.TICKET, ticket=ticket, token_hash="a" * 64)
    quarterly = invitation(other, period="2026Q1", token_hash="b" * 64)
    clash = invitation(other, period="2026Q2", token_hash="c" * 64)
    invitation(survivor, period="2026Q2", token_hash="d" * 64)
    purchase = Purchase.objects.create(
        customer=other, purchased_on=timezone.localdate(), description="数控机床"
    )
    merge(lead, survivor, other)
    for record in (ticket, survey, quarterly, clash, purchase):
        record.refresh_from_db()
    assert ticket.customer == survivor and survey.customer == survivor and quarterly.customer == survivor
    assert purchase.customer == survivor
    # One quarterly survey per customer and quarter: the survivor's own stays, the other's stays put.
    assert clash.customer_id == other.pk


def test_timeline_shows_opened_status_and_replies_but_not_notes(rep, service_agent):
    customer = CustomerFactory(owner=rep)
    ticket = TicketFactory(customer=customer, assignee=service_agent, subject="设备异响")
    TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.CREATED, to_status="new", body="")
    TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.NOTE, body="内部：客户难缠")
    TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.REPLY, body="已安排上门")
    TicketEventFactory(
        ticket=ticket, kind=TicketEvent.Kind.STATUS, from_status="assigned", to_status="resolved", body=""
    )
    entries = [entry for entry in hooks.timeline_for(customer, rep) if entry.kind == "ticket"]
    assert len(entries) == 3
    text = " ".join(f"{entry.title} {entry.body}" for entry in entries)
    assert "已安排上门" in text and "内部" not in text and ticket.number in text
    assert all(entry.url == ticket.get_absolute_url() for entry in entries)


def test_timeline_leaves_out_tickets_the_user_cannot_see(rep, other_team_rep, director):
    customer = CustomerFactory(owner=rep, collaborators=[other_team_rep])
    ticket = TicketFactory(customer=customer)
    TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.CREATED, to_status="new", body="")
    assert [e for e in hooks.timeline_for(customer, director) if e.kind == "ticket"]
    assert not [e for e in hooks.timeline_for(customer, other_team_rep) if e.kind == "ticket"]


def test_erasure_scrubs_ticket_texts_and_files(
    lead, rep, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    customer = CustomerFactory(owner=rep)
    ticket = TicketFactory(
        customer=customer, subject="王先生投诉", description="手机 13800000000", resolution="已退款"
    )
    TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.REPLY, body="王先生您好")
    attachment = TicketAttachmentFactory(ticket=ticket)
    path = tmp_path / attachment.file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(actor=lead, customer=fresh(customer))
    ticket.refresh_from_db()
    assert ticket.subject == SCRUBBED and ticket.description == SCRUBBED and ticket.resolution == ""
    assert not ticket.events.exclude(body="").exists()
    assert not TicketAttachment.objects.exists() and not path.exists()
    assert ticket.number and ticket.status == Ticket.Status.NEW


def test_personal_data_includes_tickets_with_replies_but_not_internal_notes(rep):
    customer = CustomerFactory(owner=rep)
    ticket = TicketFactory(customer=customer, subject="发票问题")
    TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.REPLY, body="发票已重开")
    TicketEventFactory(ticket=ticket, kind=TicketEvent.Kind.NOTE, body="内部备注内容")
    data = customer_personal_data(customer)
    [record] = data["tickets"]
    assert record["subject"] == "发票问题" and record["number"] == ticket.number
    bodies = [event["body"] for event in record["events"]]
    assert bodies == ["发票已重开"]
    assert "purchases" in data and "surveys" in data


def test_customer_panel_shows_only_visible_tickets(client, rep, lead, service_agent):
    customer = CustomerFactory(owner=rep)
    TicketFactory(customer=customer, subject="可见的工单")
    client.force_login(rep)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "可见的工单" in page
