"""The managers' survey results (scope, filters, constant queries), resending a ticket's link, and
the quarterly survey of deal customers (idempotent, batched, resumable)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact
from service.models import SurveyInvitation
from service.services import surveys
from tests.factories.customers import CustomerFactory
from tests.factories.service import TicketFactory

pytestmark = pytest.mark.django_db

RESULTS = reverse("service:survey-list")
LINK = re.compile(r"/s/([A-Za-z0-9_-]+)/")


def answered(ticket, rating: int, comment: str = "", *, created=None) -> SurveyInvitation:
    now = timezone.now()
    return SurveyInvitation.objects.create(
        kind="ticket",
        token_hash=surveys.hash_token(f"t{ticket.pk}"),
        ticket=ticket,
        customer=ticket.customer,
        email="a@example.com",
        created_at=created or now,
        sent_at=created or now,
        expires_at=now + datetime.timedelta(days=14),
        answered_at=now,
        rating=rating,
        comment=comment,
    )


@pytest.fixture
def results_world(service_agent, other_team_rep, rep):
    """Surveys of the service team's tickets, and one of a ticket nobody of that team touched."""
    mine = [
        answered(
            TicketFactory(assignee=service_agent, status="closed", customer=CustomerFactory(owner=rep)), r, c
        )
        for r, c in [(5, "很满意"), (4, ""), (1, "等太久了")]
    ]
    foreign = TicketFactory(
        assignee=other_team_rep,
        status="closed",
        customer=CustomerFactory(owner=other_team_rep, name="外组客户"),
    )
    return mine, answered(foreign, 2, "外组的评论")


def test_service_manager_sees_every_survey(client, service_manager, results_world):
    """Service managers answer for satisfaction across the company (service.view_all_surveys)."""
    client.force_login(service_manager)

    response = client.get(RESULTS)

    assert response.status_code == 200
    results = response.context["results"]
    assert results.answered == 4
    assert "外组的评论" in response.content.decode()


def test_without_the_company_wide_permission_results_follow_scope(client, service_manager, results_world):
    from django.contrib.auth.models import Permission

    service_manager.groups.first().permissions.remove(Permission.objects.get(codename="view_all_surveys"))
    client.force_login(service_manager)

    response = client.get(RESULTS)

    results = response.context["results"]
    assert results.answered == 3 and round(results.average, 2) == round(10 / 3, 2)
    assert dict((rating, count) for rating, count, _percent in results.distribution) == {
        5: 1,
        4: 1,
        3: 0,
        2: 0,
        1: 1,
    }
    page = response.content.decode()
    assert "等太久了" in page and "外组的评论" not in page and "外组客户" not in page
    row = results.rows[0]
    assert row["invited"] == 3 and row["answered"] == 3 and row["low"] == 1 and row["rate"] == 100


def test_director_sees_every_survey(client, director, results_world):
    client.force_login(director)
    assert client.get(RESULTS).context["results"].answered == 4


def test_sales_reps_may_not_open_the_results(client, rep, results_world):
    client.force_login(rep)
    assert client.get(RESULTS).status_code == 403


def test_results_filter_by_quarter_and_kind(client, director, results_world, rep):
    old = TicketFactory(status="closed", customer=CustomerFactory(owner=rep))
    answered(old, 3, "去年的", created=timezone.now() - datetime.timedelta(days=400))
    client.force_login(director)
    period = surveys.period_of(timezone.now())

    this_quarter = client.get(RESULTS, {"period": period}).context["results"]
    quarterly = client.get(RESULTS, {"kind": "quarterly"}).context["results"]
    everything = client.get(RESULTS).context["results"]

    assert this_quarter.answered == 4 and everything.answered == 5
    assert quarterly.answered == 0 and quarterly.rows == []
    assert len({row["quarter"] for row in everything.rows}) == 2
    assert client.get(RESULTS, {"period": "1999Q9"}).status_code == 200  # ignored, not an error


def test_results_take_the_same_queries_for_one_or_many_surveys(
    client, director, rep, django_assert_max_num_queries
):
    client.force_login(director)
    answered(TicketFactory(status="closed", customer=CustomerFactory(owner=rep)), 4, "好")
    with django_assert_max_num_queries(8) as one:
        client.get(RESULTS)
    for index in range(30):
        answered(
            TicketFactory(status="closed", customer=CustomerFactory(owner=rep)), 1 + index % 5, f"评论{index}"
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(RESULTS)


# --- Resend ---------------------------------------------------------------------------------


@pytest.fixture
def closed_ticket(service_agent, rep):
    customer = CustomerFactory(owner=rep, email="")
    ticket = TicketFactory(customer=customer, assignee=service_agent, status="closed")
    surveys.survey_for_closed_ticket(ticket, actor=service_agent)
    return ticket


def test_agent_gets_a_new_link_to_copy(client, service_agent, closed_ticket):
    client.force_login(service_agent)
    old_hash = SurveyInvitation.objects.get().token_hash

    response = client.post(reverse("service:survey-resend", args=[closed_ticket.pk]))

    assert response.status_code == 200
    token = LINK.search(response.content.decode()).group(1)
    invitation = SurveyInvitation.objects.get()
    assert invitation.token_hash == surveys.hash_token(token) != old_hash


def test_other_team_rep_gets_404_for_resend(client, other_team_rep, closed_ticket):
    client.force_login(other_team_rep)
    assert client.post(reverse("service:survey-resend", args=[closed_ticket.pk])).status_code == 404


def test_director_may_see_but_not_resend(client, director, closed_ticket):
    client.force_login(director)
    assert client.post(reverse("service:survey-resend", args=[closed_ticket.pk])).status_code == 403


def test_resend_is_post_only(client, service_agent, closed_ticket):
    client.force_login(service_agent)
    assert client.get(reverse("service:survey-resend", args=[closed_ticket.pk])).status_code == 405


def test_an_answered_survey_is_not_resent(client, service_agent, closed_ticket):
    SurveyInvitation.objects.update(answered_at=timezone.now(), rating=5)
    client.force_login(service_agent)

    response = client.post(reverse("service:survey-resend", args=[closed_ticket.pk]))

    assert response.status_code == 302 and response.url == closed_ticket.get_absolute_url()


# --- The quarterly survey -------------------------------------------------------------------


@pytest.fixture
def deal_customers(rep):
    with_email = CustomerFactory(owner=rep, stage="deal", email="boss@example.com")
    via_contact = CustomerFactory(owner=rep, stage="deal", email="")
    Contact.objects.create(customer=via_contact, name="采购部李经理", email="li@example.com", is_primary=True)
    CustomerFactory(owner=rep, stage="deal", email="")  # no address: not invited
    CustomerFactory(owner=rep, stage="intent", email="x@example.com")  # not a deal customer
    CustomerFactory(owner=rep, stage="deal", email="gone@example.com", deleted_at=timezone.now())
    return with_email, via_contact


def test_quarterly_survey_invites_deal_customers_once_per_quarter(deal_customers, mailoutbox):
    with_email, via_contact = deal_customers
    now = datetime.datetime(2026, 11, 20, 2, 0, tzinfo=datetime.UTC)

    assert surveys.quarterly_surveys_run(now=now) == (2, 2)
    assert surveys.quarterly_surveys_run(now=now + datetime.timedelta(days=1)) == (0, 0)

    invitations = SurveyInvitation.objects.filter(kind="quarterly")
    assert {(i.customer, i.period, i.email) for i in invitations} == {
        (with_email, "2026Q4", "boss@example.com"),
        (via_contact, "2026Q4", "li@example.com"),
    }
    assert all(invitation.sent_at for invitation in invitations)
    assert sorted(message.to[0] for message in mailoutbox) == ["boss@example.com", "li@example.com"]
    assert "/s/" in mailoutbox[0].body
    # Next quarter, again once.
    assert surveys.quarterly_surveys_run(now=datetime.datetime(2027, 1, 5, 2, 0, tzinfo=datetime.UTC))[0] == 2
    assert invitations.filter(period="2027Q1").count() == 2


def test_quarterly_planning_works_in_batches_and_resumes(deal_customers):
    now = timezone.now()
    assert surveys.quarterly_surveys_plan(now=now, batch=1) == 2
    assert surveys.quarterly_surveys_plan(now=now, batch=1) == 0
    assert SurveyInvitation.objects.filter(kind="quarterly", sent_at=None).count() == 2


def test_a_quarterly_answer_through_the_mailed_link(deal_customers, mailoutbox, client):
    surveys.quarterly_surveys_run()
    token = LINK.search(mailoutbox[0].body).group(1)

    page = client.get(f"/s/{token}/")
    assert page.status_code == 200 and "survey-ticket" not in page.content.decode()
    client.post(f"/s/{token}/", {"rating": "5"})

    assert SurveyInvitation.objects.filter(kind="quarterly", rating=5).count() == 1


def test_the_quarter_is_taken_in_the_local_time_zone():
    # 31 Dec 2026 20:00 UTC is already 1 January 2027 in Shanghai.
    assert surveys.period_of(datetime.datetime(2026, 12, 31, 20, 0, tzinfo=datetime.UTC)) == "2027Q1"
    start, end = surveys.period_bounds("2026Q4")
    assert (start.month, end.year, end.month) == (10, 2027, 1)
