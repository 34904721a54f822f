"""The home page of those who work on tickets: their open tickets and the desk's badges."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from service.models import Ticket
from tests.factories.accounts import UserFactory
from tests.factories.service import TicketFactory

pytestmark = pytest.mark.django_db


def test_an_agent_sees_their_open_tickets_running_clocks_first(client, service_agent):
    now = timezone.now()
    late = TicketFactory(
        assignee=service_agent, subject="超时的工单", resolution_due=now - datetime.timedelta(hours=1)
    )
    paused = TicketFactory(
        assignee=service_agent,
        subject="等客户回复",
        status=Ticket.Status.WAITING,
        paused_at=now,
        resolution_due=now - datetime.timedelta(days=1),
    )
    TicketFactory(assignee=service_agent, subject="已经关闭", status=Ticket.Status.CLOSED)
    TicketFactory(assignee=UserFactory(role=roles.SERVICE_AGENT), subject="别人的工单")
    client.force_login(service_agent)

    page = client.get(reverse("home")).content.decode()

    assert 'id="workbench-tickets"' in page
    assert page.index(late.subject) < page.index(paused.subject)
    assert "已经关闭" not in page and "别人的工单" not in page
    assert f'data-ticket="{late.pk}"' in page


def test_the_panel_costs_the_same_queries_for_many_tickets(
    client, service_agent, django_assert_max_num_queries
):
    client.force_login(service_agent)
    client.get(reverse("home"))
    with django_assert_max_num_queries(14) as captured:
        client.get(reverse("home"))
    few = len(captured)
    TicketFactory.create_batch(20, assignee=service_agent)
    with django_assert_max_num_queries(few):
        client.get(reverse("home"))


def test_sales_reps_who_only_follow_tickets_do_not_get_the_panel(client, rep):
    client.force_login(rep)
    assert 'id="workbench-tickets"' not in client.get(reverse("home")).content.decode()
