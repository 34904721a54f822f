"""The service desk: tabs, filters, search, sort, constant queries, export within scope."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.exports import export_build
from accounts.models import Export
from service.models import Ticket
from tests.factories.customers import CustomerFactory
from tests.factories.customers_listing import export_rows
from tests.factories.service import TicketFactory, queue

pytestmark = pytest.mark.django_db

DESK = reverse("service:desk")
EXPORT = reverse("service:desk-export")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(rep, other_team_rep, service_agent, agent):
    queue(Ticket.Type.COMPLAINT).agents.add(service_agent)
    now = timezone.now()
    customer = CustomerFactory(owner=rep, name="华新精密机械")
    return {
        "mine": TicketFactory(customer=customer, assignee=service_agent, subject="我的工单"),
        "mine_done": TicketFactory(
            customer=customer,
            assignee=service_agent,
            subject="已解决的",
            status=Ticket.Status.RESOLVED,
            resolved_at=now,
        ),
        "unassigned": TicketFactory(
            customer=customer, ticket_type=Ticket.Type.COMPLAINT, subject="待分配投诉"
        ),
        "other_queue": TicketFactory(customer=customer, ticket_type=Ticket.Type.REQUEST, subject="别的队列"),
        "soon": TicketFactory(
            customer=customer,
            assignee=service_agent,
            subject="快超时",
            first_response_due=now + datetime.timedelta(minutes=30),
            resolution_due=now + datetime.timedelta(hours=8),
        ),
        "late": TicketFactory(
            customer=customer,
            assignee=service_agent,
            subject="已超时",
            first_responded_at=now,
            first_response_due=now - datetime.timedelta(hours=3),
            resolution_due=now - datetime.timedelta(minutes=1),
        ),
        "paused": TicketFactory(
            customer=customer,
            assignee=service_agent,
            subject="暂停中",
            status=Ticket.Status.WAITING,
            paused_at=now,
            resolution_due=now - datetime.timedelta(minutes=1),
        ),
        "elsewhere": TicketFactory(
            customer=CustomerFactory(owner=other_team_rep), assignee=agent, subject="别人的"
        ),
    }


def subjects(response) -> set[str]:
    return {ticket.subject for ticket in response.context["tickets"]}


def test_my_tickets_are_the_open_ones_i_hold(client, service_agent, world):
    client.force_login(service_agent)
    response = client.get(DESK)
    assert response.context["tab"] == "mine"
    assert subjects(response) == {"我的工单", "快超时", "已超时", "暂停中"}


def test_unassigned_lists_my_queues_tickets_nobody_holds(client, service_agent, world):
    client.force_login(service_agent)
    assert subjects(client.get(DESK, {"tab": "unassigned"})) == {"待分配投诉"}


def test_breaching_soon_lists_due_within_two_hours_or_overdue_not_paused(client, service_agent, world):
    client.force_login(service_agent)
    response = client.get(DESK, {"tab": "breaching"})
    assert subjects(response) == {"快超时", "已超时"}
    # Earliest resolution due first by default.
    assert [t.subject for t in response.context["tickets"]] == ["已超时", "快超时"]


def test_all_tab_is_the_scope_and_directors_see_everything(client, service_agent, director, world):
    client.force_login(service_agent)
    assert "别人的" not in subjects(client.get(DESK, {"tab": "all"}))
    client.force_login(director)
    response = client.get(DESK)
    assert response.context["tab"] == "all" and "别人的" in subjects(response)


def test_counts_on_the_tabs(client, service_agent, world):
    client.force_login(service_agent)
    tabs = {key: count for key, _label, count in client.get(DESK).context["tabs"]}
    assert tabs == {"mine": 4, "unassigned": 1, "breaching": 2, "all": None}


def test_filters_and_search(client, service_agent, director, world):
    client.force_login(director)
    assert subjects(client.get(DESK, {"tab": "all", "ticket_type": "complaint"})) == {"待分配投诉"}
    assert subjects(client.get(DESK, {"tab": "all", "status": "waiting"})) == {"暂停中"}
    assert subjects(client.get(DESK, {"tab": "all", "q": world["late"].number})) == {"已超时"}
    assert subjects(client.get(DESK, {"tab": "all", "q": "超时"})) == {"快超时", "已超时"}
    assert "别人的" not in subjects(client.get(DESK, {"tab": "all", "q": "华新"}))
    assert subjects(client.get(DESK, {"tab": "all", "assignee": service_agent.pk, "status": "resolved"})) == {
        "已解决的"
    }


def test_invalid_filter_shows_an_error_not_a_crash(client, service_agent, world):
    client.force_login(service_agent)
    response = client.get(DESK, {"tab": "all", "created_from": "not-a-date"})
    assert response.status_code == 200 and response.context["filter"].form.errors


def test_other_team_rep_does_not_see_tickets_of_others(client, other_team_rep, world):
    client.force_login(other_team_rep)
    assert subjects(client.get(DESK, {"tab": "all"})) == {"别人的"}


def test_htmx_desk_returns_the_results_fragment(client, service_agent, world):
    client.force_login(service_agent)
    response = client.get(DESK, {"tab": "all"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert 'id="ticket-results"' in page and "<html" not in page and "HX-Request" in response["Vary"]


@pytest.mark.parametrize("count", [1, 50])
def test_desk_queries_do_not_grow(client, service_agent, rep, count, django_assert_max_num_queries):
    for _ in range(count):
        TicketFactory(customer=CustomerFactory(owner=rep), assignee=service_agent)
    client.force_login(service_agent)
    # session, user, permissions ×2, queues, three tab counts, count, rows, filter choices, bell…
    with django_assert_max_num_queries(18):
        response = client.get(DESK, {"tab": "all"})
    assert len(response.context["tickets"]) == min(count, 25)


def test_export_contains_only_rows_in_scope(
    client, service_agent, world, media, django_capture_on_commit_callbacks
):
    client.force_login(service_agent)
    response = client.post(EXPORT, {"query": "tab=all", "format": "csv"})
    export = Export.objects.get(user=service_agent)
    assert response.status_code == 302 and export.kind == "tickets"
    assert export_build(export.pk) is True
    rows = export_rows(export)
    assert {row[2] for row in rows[1:]} == {
        "我的工单",
        "已解决的",
        "待分配投诉",
        "快超时",
        "已超时",
        "暂停中",
    }


def test_anonymous_is_sent_to_login(client):
    response = client.get(DESK)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_user_without_view_ticket_gets_403(client, service_agent, world):
    service_agent.groups.clear()
    client.force_login(service_agent)
    assert client.get(DESK).status_code == 403
