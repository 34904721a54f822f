"""Who reaches which ticket: out of scope is 404 on every ticket URL, in scope without the
permission is 403; agents see their queue's unassigned tickets, managers their team's."""

import pytest
from django.urls import reverse

from service.models import Ticket
from service.selectors import tickets_visible_to
from tests.factories.customers import CustomerFactory
from tests.factories.service import TicketAttachmentFactory, TicketFactory, queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ticket(rep, service_agent):
    return TicketFactory(customer=CustomerFactory(owner=rep), assignee=service_agent)


def ticket_urls(ticket: Ticket, attachment_pk: int) -> list[tuple[str, str]]:
    pk = {"pk": ticket.pk}
    return [
        ("get", reverse("service:ticket-detail", kwargs=pk)),
        ("get", reverse("service:ticket-edit", kwargs=pk)),
        ("post", reverse("service:ticket-edit", kwargs=pk)),
        ("post", reverse("service:ticket-comment", kwargs=pk)),
        ("get", reverse("service:ticket-assign", kwargs=pk)),
        ("post", reverse("service:ticket-assign", kwargs=pk)),
        ("get", reverse("service:ticket-resolve", kwargs=pk)),
        ("post", reverse("service:ticket-resolve", kwargs=pk)),
        *[
            ("post", reverse("service:ticket-status", kwargs=pk | {"action": action}))
            for action in ("start", "wait", "resume", "close", "reopen")
        ],
        ("get", reverse("service:ticket-attachment", kwargs=pk | {"attachment_pk": attachment_pk})),
    ]


def test_other_team_rep_gets_404_on_every_ticket_url(client, other_team_rep, ticket, media):
    attachment = TicketAttachmentFactory(ticket=ticket)
    client.force_login(other_team_rep)
    for method, address in ticket_urls(ticket, attachment.pk):
        assert getattr(client, method)(address).status_code == 404, address


def test_agent_of_another_queue_gets_404_on_a_held_ticket(client, agent, ticket, media):
    attachment = TicketAttachmentFactory(ticket=ticket)
    client.force_login(agent)
    for method, address in ticket_urls(ticket, attachment.pk):
        assert getattr(client, method)(address).status_code == 404, address


def test_director_sees_but_gets_403_on_writes(client, director, ticket, media):
    attachment = TicketAttachmentFactory(ticket=ticket)
    reading = {
        ticket.get_absolute_url(),
        reverse("service:ticket-attachment", kwargs={"pk": ticket.pk, "attachment_pk": attachment.pk}),
    }
    client.force_login(director)
    for method, address in ticket_urls(ticket, attachment.pk):
        expected = 200 if address in reading else 403
        assert getattr(client, method)(address).status_code == expected, address


def test_customer_owner_sees_the_ticket_but_may_not_work_on_it(client, rep, ticket):
    client.force_login(rep)
    assert client.get(ticket.get_absolute_url()).status_code == 200
    assert (
        client.post(reverse("service:ticket-status", kwargs={"pk": ticket.pk, "action": "start"})).status_code
        == 403
    )


def test_agent_sees_unassigned_tickets_of_their_queue_only(agent, rep):
    queue(Ticket.Type.COMPLAINT).agents.add(agent)
    customer = CustomerFactory(owner=rep)
    mine = TicketFactory(customer=customer, ticket_type=Ticket.Type.COMPLAINT)
    other_queue = TicketFactory(customer=customer, ticket_type=Ticket.Type.REQUEST)
    assert set(tickets_visible_to(agent)) == {mine}
    assert other_queue not in tickets_visible_to(agent)


def test_service_manager_sees_the_tickets_of_their_team(service_manager, service_agent, agent, rep):
    customer = CustomerFactory(owner=rep)
    team_ticket = TicketFactory(customer=customer, assignee=service_agent)
    other = TicketFactory(customer=customer, assignee=agent)
    visible = set(tickets_visible_to(service_manager))
    assert team_ticket in visible and other not in visible


def test_tickets_of_a_deleted_customer_are_hidden(client, service_agent, ticket):
    from django.utils import timezone

    ticket.customer.deleted_at = timezone.now()
    ticket.customer.save(update_fields=["deleted_at"])
    client.force_login(service_agent)
    assert client.get(ticket.get_absolute_url()).status_code == 404


def test_rep_may_open_tickets_but_director_may_not(client, rep, director):
    client.force_login(rep)
    assert client.get(reverse("service:ticket-create")).status_code == 200
    client.force_login(director)
    assert client.get(reverse("service:ticket-create")).status_code == 403
