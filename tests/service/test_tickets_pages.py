"""Ticket pages through the test client: open from the customer page or the desk (agents find any
customer, masked), the ticket page (due times, pause, timeline), comment, assign, resolve, status
buttons, edit with a stale version, attachments."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from service.models import Ticket, TicketEvent
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.service import (
    TicketAttachmentFactory,
    TicketEventFactory,
    TicketFactory,
    category,
    queue,
)

pytestmark = pytest.mark.django_db

CREATE = reverse("service:ticket-create")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def url(name: str, ticket: Ticket, **kwargs) -> str:
    return reverse(f"service:{name}", kwargs={"pk": ticket.pk, **kwargs})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep, name="华新精密机械", phone="13812345678")


@pytest.fixture
def ticket(customer, service_agent):
    return TicketFactory(
        customer=customer,
        assignee=service_agent,
        contact=ContactFactory(customer=customer, email="wang@example.com"),
        first_response_due=timezone.now() + datetime.timedelta(hours=1),
        resolution_due=timezone.now() + datetime.timedelta(hours=8),
    )


def test_customer_page_lists_tickets_and_offers_new_ticket(client, rep, customer, ticket):
    client.force_login(rep)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert 'id="customer-tickets"' in page and ticket.number in page
    assert f"{CREATE}?customer={customer.pk}" in page


def test_agent_finds_any_customer_with_the_phone_masked(client, agent, customer):
    client.force_login(agent)
    response = client.get(CREATE, {"q": "华新"})
    assert response.status_code == 200
    [row] = response.context["results"]
    assert row["name"] == "华新精密机械" and row["phone"] == "138******78"
    page = response.content.decode()
    assert "13812345678" not in page and "138******78" in page


def test_rep_finds_only_own_customers_unmasked(client, rep, other_team_rep, customer):
    CustomerFactory(owner=other_team_rep, name="华新物流")
    client.force_login(rep)
    results = client.get(CREATE, {"q": "华新"}).context["results"]
    assert [row["name"] for row in results] == ["华新精密机械"] and results[0]["phone"] == "13812345678"


def test_rep_gets_404_for_a_customer_out_of_scope(client, rep, other_team_rep):
    stranger = CustomerFactory(owner=other_team_rep)
    client.force_login(rep)
    assert client.get(CREATE, {"customer": stranger.pk}).status_code == 404


def test_agent_opens_a_ticket_with_attachments(client, agent, customer, media):
    contact = ContactFactory(customer=customer)
    client.force_login(agent)
    data = {
        "customer": customer.pk,
        "ticket_type": "complaint",
        "priority": 4,
        "channel": "phone",
        "contact": contact.pk,
        "subject": "发货延迟",
        "description": "两周未发货",
        "attachments": [SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.txt", "订单号 123".encode())],
    }
    response = client.post(CREATE, data)
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert ticket.created_by == agent and ticket.contact == contact and ticket.attachments.count() == 2
    assert client.get(ticket.get_absolute_url()).status_code == 200


def test_refused_file_keeps_what_was_typed(client, agent, customer, media):
    client.force_login(agent)
    data = {
        "customer": customer.pk,
        "ticket_type": "request",
        "priority": 2,
        "channel": "phone",
        "subject": "无法登录",
        "description": "提示密码错误",
        "attachments": [SimpleUploadedFile("x.png", b"<svg onload=alert(1)>")],
    }
    response = client.post(CREATE, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and not Ticket.objects.exists()
    page = response.content.decode()
    assert "无法登录" in page and "提示密码错误" in page and "x.png" in page


def test_missing_subject_shows_a_translated_error(client, agent, customer):
    client.force_login(agent)
    response = client.post(
        CREATE,
        {
            "customer": customer.pk,
            "ticket_type": "request",
            "priority": 2,
            "channel": "phone",
            "description": "x",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200 and response.context["form"].errors["subject"]
    assert "这个字段是必填项" in response.content.decode()


def test_ticket_page_shows_due_times_and_overdue(client, service_agent, customer):
    overdue = TicketFactory(
        customer=customer,
        assignee=service_agent,
        first_response_due=timezone.now() - datetime.timedelta(minutes=5),
        resolution_due=timezone.now() + datetime.timedelta(hours=3),
    )
    client.force_login(service_agent)
    response = client.get(overdue.get_absolute_url())
    assert response.context["response_overdue"] is True and response.context["resolution_overdue"] is False
    page = response.content.decode()
    assert 'id="ticket-response-due"' in page


def test_paused_ticket_shows_clock_paused_since(client, service_agent, customer):
    waiting = TicketFactory(
        customer=customer,
        assignee=service_agent,
        status=Ticket.Status.WAITING,
        paused_at=timezone.now(),
        resolution_due=timezone.now() - datetime.timedelta(hours=1),
    )
    client.force_login(service_agent)
    response = client.get(waiting.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.context["resolution_overdue"] is False
    assert 'id="ticket-paused"' in response.content.decode()


def test_reply_is_emailed_and_on_the_timeline(
    client, service_agent, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(service_agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("ticket-comment", ticket), {"kind": "reply", "body": "已安排工程师上门"})
    assert response.status_code == 302
    assert mailoutbox[0].to == ["wang@example.com"]
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "已安排工程师上门" in page and 'data-kind="reply"' in page


def test_empty_comment_shows_the_error_on_the_ticket_page(client, service_agent, ticket):
    client.force_login(service_agent)
    response = client.post(url("ticket-comment", ticket), {"kind": "note", "body": "  "})
    assert response.status_code == 400 and response.context["comment_form"].errors["body"]
    assert not ticket.events.exists()


def test_resolve_without_category_keeps_the_text(client, service_agent, ticket):
    client.force_login(service_agent)
    response = client.post(
        url("ticket-resolve", ticket), {"resolution": "远程重启后恢复"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400
    assert response.context["resolve_form"].errors["resolution_category"]
    assert "远程重启后恢复" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ASSIGNED


def test_resolve_then_close_through_the_buttons(client, service_agent, ticket):
    client.force_login(service_agent)
    client.post(url("ticket-resolve", ticket), {"resolution": "已修复", "resolution_category": category().pk})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED and ticket.resolution == "已修复"
    client.post(url("ticket-status", ticket, action="close"))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_invalid_status_button_shows_a_message(client, service_agent, ticket):
    client.force_login(service_agent)
    response = client.post(
        url("ticket-status", ticket, action="resume"), follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_unknown_status_action_is_404(client, service_agent, ticket):
    client.force_login(service_agent)
    assert client.post(url("ticket-status", ticket, action="explode")).status_code == 404


def test_wait_on_customer_pauses_the_clock(client, service_agent, ticket):
    client.force_login(service_agent)
    client.post(url("ticket-status", ticket, action="wait"), {"note": "等待客户提供序列号"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING and ticket.paused_at is not None
    assert ticket.events.get(kind="status").body == "等待客户提供序列号"


def test_assign_to_another_agent(client, service_agent, agent, ticket):
    client.force_login(service_agent)
    response = client.post(url("ticket-assign", ticket), {"assignee": agent.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_assign_choices_are_service_users_queue_first(client, service_agent, agent, rep, ticket):
    queue(ticket.ticket_type).agents.add(agent)
    client.force_login(service_agent)
    choices = list(client.get(ticket.get_absolute_url()).context["assign_form"].fields["assignee"].queryset)
    assert choices[0] == agent and rep not in choices and service_agent in choices


def test_edit_with_a_stale_version_keeps_the_input(client, service_agent, ticket):
    client.force_login(service_agent)
    data = {
        "version": 1,
        "ticket_type": ticket.ticket_type,
        "priority": 3,
        "channel": "email",
        "subject": "我的修改",
        "description": ticket.description,
    }
    Ticket.objects.filter(pk=ticket.pk).update(version=2)
    response = client.post(url("ticket-edit", ticket), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.non_field_errors() and form.data["subject"] == "我的修改" and form.data["version"] == "2"
    assert client.post(url("ticket-edit", ticket), form.data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "我的修改" and ticket.version == 3


def test_attachment_download_is_scoped_and_not_sniffed(client, service_agent, other_team_rep, ticket, media):
    attachment = TicketAttachmentFactory(ticket=ticket)
    download = url("ticket-attachment", ticket, attachment_pk=attachment.pk)
    client.force_login(service_agent)
    response = client.get(download)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"hello"
    other = TicketFactory(customer=ticket.customer)
    assert client.get(url("ticket-attachment", other, attachment_pk=attachment.pk)).status_code == 404
    client.force_login(other_team_rep)
    assert client.get(download).status_code == 404


def test_ticket_page_queries_do_not_grow(client, service_agent, ticket, django_assert_max_num_queries, media):
    client.force_login(service_agent)
    with django_assert_max_num_queries(30) as few:
        client.get(ticket.get_absolute_url())
    for index in range(20):
        TicketEventFactory(
            ticket=ticket, actor=service_agent, kind=TicketEvent.Kind.REPLY, body=f"回复{index}"
        )
        TicketAttachmentFactory(ticket=ticket, uploaded_by=service_agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(ticket.get_absolute_url())


def test_ticket_page_in_chinese(client, service_agent, ticket):
    client.force_login(service_agent)
    page = client.get(ticket.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "处理人" in page and "内部备注" in page and "回复客户" in page
