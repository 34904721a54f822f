"""The service-level overview page: targets, business hours and the due counts of the reader's
scope; for service managers and administrators."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from tests.conftest import make_lead
from tests.factories.accounts import TeamFactory
from tests.factories.service import TicketFactory

pytestmark = pytest.mark.django_db

URL = reverse("service:sla-overview")


def overdue(assignee, count: int = 1, **fields):
    now = timezone.now()
    values = {
        "first_response_due": now - timedelta(minutes=10),
        "resolution_due": now + timedelta(minutes=20),  # due soon
        "priority": 4,
        "status": "assigned",
    } | fields
    return TicketFactory.create_batch(count, assignee=assignee, **values)


def counts(response, priority: int) -> tuple[str, str, str]:
    html = response.content.decode()
    row = html[html.index(f'data-priority="{priority}"') :]
    return tuple(
        row[row.index(f'data-count="{key}">') + len(f'data-count="{key}">') :].split("<", 1)[0]
        for key in ("response", "resolution", "soon")
    )


def test_service_manager_sees_targets_hours_and_the_due_counts_of_the_team(
    client, service_manager, service_agent, settings
):
    settings.SLA_WARNING_MINUTES = 60
    overdue(service_agent, 2)
    overdue(service_agent, priority=2, resolution_due=timezone.now() - timedelta(minutes=1))
    overdue(service_agent, paused_at=timezone.now(), status="waiting")  # paused: not counted
    client.force_login(service_manager)

    response = client.get(URL)

    assert response.status_code == 200
    assert counts(response, 4) == ("2", "0", "2")
    assert counts(response, 2) == ("1", "1", "0")
    assert counts(response, 1) == ("0", "0", "0")
    html = response.content.decode()
    assert "?tab=breaching&amp;priority=4" in html
    assert "13:30–18:00" in html  # the afternoon period of the default business hours
    assert reverse("admin:service_servicelevel_changelist") in html


def test_another_team_manager_does_not_count_these_tickets(client, service_agent):
    other_team = TeamFactory(name="客户服务二部")
    other_manager = make_lead(other_team, "other_service_manager")
    other_manager.groups.clear()
    other_manager.groups.add(*roles_group(roles.SERVICE_MANAGER))
    overdue(service_agent, 3)
    client.force_login(other_manager)

    response = client.get(URL)

    assert response.status_code == 200
    assert counts(response, 4) == ("0", "0", "0")


def roles_group(role):
    from django.contrib.auth.models import Group

    return [Group.objects.get(name=role.group_name)]


def test_administrator_sees_every_ticket_counted(client, administrator, service_agent):
    overdue(service_agent, 2)
    client.force_login(administrator)
    response = client.get(URL)
    assert response.status_code == 200
    assert counts(response, 4)[0] == "2"


@pytest.mark.parametrize("persona", ["service_agent", "rep", "director"])
def test_users_who_may_not_see_service_levels_get_403(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_the_page_queries_do_not_grow_with_the_tickets(
    client, service_manager, service_agent, django_assert_max_num_queries
):
    overdue(service_agent, 1)
    client.force_login(service_manager)
    with django_assert_max_num_queries(30) as one:
        client.get(URL)
    overdue(service_agent, 20, priority=3)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(URL)
    assert counts(response, 3)[0] == "20"


def test_post_is_not_allowed(client, service_manager):
    client.force_login(service_manager)
    assert client.post(URL).status_code == 405


def test_a_team_lead_of_sales_sees_no_service_levels(client, lead):
    client.force_login(lead)
    assert client.get(URL).status_code == 403
