"""Service KPIs (analytics.kpis.service) on a small hand-counted data set for January 2026.

Customers: c_rep (rep, team A), c_mate (teammate, team A), c_other (other_team_rep, team B).
Tickets (held by service_agent of 客户服务部 unless said otherwise):
  T1 c_rep   request      opened  5 Jan 10:00, response +2 h, resolved 6 Jan 10:00 (+24 h)
  T2 c_rep   complaint    opened 31 Jan 23:30 (local), response +1 h, response target missed 1 Feb
  T3 c_mate  after-sales  opened 10 Jan, nobody holds it, no response, resolution missed 12 Jan
  T4 c_other request      opened  8 Jan 10:00, response +4 h, resolved 9 Jan 16:00 (+30 h)
  T5 c_rep   request      opened 31 Dec 10:00, resolved 2 Jan 10:00 (+48 h), response missed 1 Jan
  T6 c_rep   request      opened  1 Feb 00:30 (local; still 31 Jan in UTC)
Survey answers: S1 T1 5 (7 Jan), S2 T2 3 (31 Jan 23:30), S3 T4 4 (10 Jan), S6 T3 1 (1 Feb 00:30);
quarterly: S4 c_rep 4 (3 Jan), S5 c_other 2 (4 Jan); S7 unanswered.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from analytics.base import Period, scope_for
from analytics.kpis import service
from service.models import SurveyInvitation, Ticket
from tests.factories.customers import CustomerFactory
from tests.factories.service import TicketFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
JANUARY = Period("month", datetime.date(2026, 1, 1), datetime.date(2026, 2, 1))
HOUR = datetime.timedelta(hours=1)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def values(result) -> dict:
    return {figure.key: figure.value for figure in result.figures}


def figures(result) -> dict:
    return {figure.key: figure for figure in result.figures}


def answer(customer, rating, answered_at, *, ticket=None, period="") -> SurveyInvitation:
    kind = SurveyInvitation.Kind.TICKET if ticket else SurveyInvitation.Kind.QUARTERLY
    count = SurveyInvitation.objects.count()
    return SurveyInvitation.objects.create(
        kind=kind,
        token_hash=f"{count + 1:064d}",
        ticket=ticket,
        customer=customer,
        period=period,
        expires_at=timezone.now() + datetime.timedelta(days=30),
        answered_at=answered_at,
        rating=rating,
    )


@pytest.fixture
def data(rep, teammate, other_team_rep, service_agent):
    c_rep = CustomerFactory(owner=rep)
    c_mate = CustomerFactory(owner=teammate)
    c_other = CustomerFactory(owner=other_team_rep)
    request, complaint = Ticket.Type.REQUEST, Ticket.Type.COMPLAINT
    t1 = TicketFactory(
        customer=c_rep,
        assignee=service_agent,
        created_at=at(1, 5),
        first_responded_at=at(1, 5) + 2 * HOUR,
        resolved_at=at(1, 6),
        status=Ticket.Status.RESOLVED,
    )
    t2 = TicketFactory(
        customer=c_rep,
        ticket_type=complaint,
        assignee=service_agent,
        created_at=at(1, 31, 23, 30),
        first_responded_at=at(2, 1, 0, 30),
        response_breached_at=at(2, 1, 0, 10),
    )
    t3 = TicketFactory(
        customer=c_mate,
        ticket_type=Ticket.Type.AFTER_SALES,
        created_at=at(1, 10),
        resolution_breached_at=at(1, 12),
    )
    t4 = TicketFactory(
        customer=c_other,
        ticket_type=request,
        assignee=service_agent,
        created_at=at(1, 8),
        first_responded_at=at(1, 8) + 4 * HOUR,
        resolved_at=at(1, 9, 16),
        status=Ticket.Status.RESOLVED,
    )
    TicketFactory(
        customer=c_rep,
        assignee=service_agent,
        created_at=at(12, 31, year=2025),
        resolved_at=at(1, 2),
        response_breached_at=at(1, 1),
        status=Ticket.Status.RESOLVED,
    )
    TicketFactory(customer=c_rep, created_at=at(2, 1, 0, 30))
    answer(c_rep, 5, at(1, 7), ticket=t1)
    answer(c_rep, 3, at(1, 31, 23, 30), ticket=t2)
    answer(c_other, 4, at(1, 10), ticket=t4)
    answer(c_mate, 1, at(2, 1, 0, 30), ticket=t3)
    answer(c_rep, 4, at(1, 3), period="2025Q4")
    answer(c_other, 2, at(1, 4), period="2025Q4")
    answer(c_mate, None, None, period="2025Q3")


def test_rep_sees_the_tickets_of_their_customers(data, rep):
    assert values(service.build(scope_for(rep), JANUARY)) == {
        "tickets_opened": 2,  # T1, T2 (T6 is February's, T5 December's)
        "first_response_hours": 1.5,  # (2 + 1) / 2
        "resolution_hours": 36.0,  # T1 24 h, T5 48 h
        "sla_breaches": 1,  # T5 on 1 Jan; T2's on 1 Feb is February's
        "breach_rate": 0.5,  # T2 of T1, T2
        "complaint_rate": 0.5,
        "csat_ticket": 4.0,  # S1 5, S2 3
        "csat_ticket_satisfied": 0.5,
        "csat_quarterly": 4.0,  # S4
        "csat_quarterly_satisfied": 1.0,
    }


def test_sales_manager_sees_the_tickets_of_the_team_customers(data, lead):
    result = values(service.build(scope_for(lead), JANUARY))
    assert result["tickets_opened"] == 3  # T1, T2, T3
    assert result["first_response_hours"] == 1.5
    assert result["resolution_hours"] == 36.0
    assert result["sla_breaches"] == 2  # T3, T5
    assert result["breach_rate"] == 2 / 3
    assert result["complaint_rate"] == 1 / 3
    assert result["csat_ticket"] == 4.0  # S1 5, S2 3 (S6 of T3 is February's)
    assert result["csat_ticket_satisfied"] == 0.5
    assert result["csat_quarterly"] == 4.0  # S4 (S7 unanswered)


def test_service_agent_sees_the_tickets_they_hold(data, service_agent):
    result = values(service.build(scope_for(service_agent), JANUARY))
    assert result["tickets_opened"] == 3  # T1, T2, T4
    assert result["first_response_hours"] == round(7 / 3, 2)  # (2 + 1 + 4) / 3
    assert result["resolution_hours"] == 34.0  # (24 + 30 + 48) / 3
    assert result["csat_ticket"] == 4.0  # S1, S2, S3
    assert result["csat_ticket_satisfied"] == 2 / 3
    # Quarterly surveys have no ticket: an agent has none.
    assert result["csat_quarterly"] is None
    assert result["csat_quarterly_satisfied"] is None


def test_service_manager_sees_the_tickets_of_their_team(data, service_manager):
    result = values(service.build(scope_for(service_manager), JANUARY))
    assert result["tickets_opened"] == 3  # T1, T2, T4 (T3 is held by nobody)


def test_other_team_never_counts_team_a_tickets(data, other_lead, teammate):
    result = values(service.build(scope_for(other_lead), JANUARY))
    assert result["tickets_opened"] == 1  # T4
    assert result["resolution_hours"] == 30.0
    assert result["csat_quarterly"] == 2.0
    assert result["csat_quarterly_satisfied"] == 0.0
    mate = values(service.build(scope_for(teammate), JANUARY))
    assert mate["tickets_opened"] == 1  # T3
    assert mate["complaint_rate"] == 0.0
    assert mate["first_response_hours"] is None  # no response yet
    assert mate["resolution_hours"] is None
    assert mate["csat_ticket"] is None


def test_director_sees_all_tickets(data, director):
    result = values(service.build(scope_for(director), JANUARY))
    assert result["tickets_opened"] == 4
    assert result["first_response_hours"] == round(7 / 3, 2)
    assert result["resolution_hours"] == 34.0
    assert result["sla_breaches"] == 2
    assert result["breach_rate"] == 0.5
    assert result["complaint_rate"] == 0.25
    assert result["csat_ticket"] == 4.0
    assert result["csat_quarterly"] == 3.0
    assert result["csat_quarterly_satisfied"] == 0.5


def test_month_end_boundary_follows_local_time(data, director):
    february = Period("month", datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))
    result = values(service.build(scope_for(director), february))
    assert result["tickets_opened"] == 1  # T6 at 00:30 on 1 Feb (T2 at 23:30 on 31 Jan is January's)
    assert result["sla_breaches"] == 1  # T2's response target missed at 00:10 on 1 Feb
    assert result["csat_ticket"] == 1.0  # S6


def test_empty_period_has_no_rates(data, director):
    march = Period("month", datetime.date(2025, 3, 1), datetime.date(2025, 4, 1))
    result = values(service.build(scope_for(director), march))
    assert result["tickets_opened"] == 0
    assert result["sla_breaches"] == 0
    for key in (
        "first_response_hours",
        "resolution_hours",
        "breach_rate",
        "complaint_rate",
        "csat_ticket",
        "csat_ticket_satisfied",
        "csat_quarterly",
        "csat_quarterly_satisfied",
    ):
        assert result[key] is None, key


def test_tickets_by_type_table(data, director):
    table = {t.key: t for t in service.build(scope_for(director), JANUARY).tables}["tickets_by_type"]
    rows = {row["ticket_type"]: (row["opened"], row["breached"]) for row in table.rows}
    assert rows == {"服务请求": (2, 0), "投诉": (1, 1), "售后": (1, 1), "咨询": (0, 0)}
    assert table.chart == "bar" and table.label_column == "ticket_type"
    assert all("ticket_type=" in row["_url"] for row in table.rows)


def test_tickets_opened_drill_down_lists_the_same_tickets(client, data, rep):
    figure = figures(service.build(scope_for(rep), JANUARY))["tickets_opened"]
    assert "created_from=2026-01-01" in figure.drill_url and "created_to=2026-01-31" in figure.drill_url
    client.force_login(rep)
    listed = client.get(figure.drill_url)
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == 2


def test_agent_drill_down_filters_by_assignee(data, director, service_agent):
    scope = scope_for(director, owner_id=service_agent.pk)
    figure = figures(service.build(scope, JANUARY))["tickets_opened"]
    assert figure.value == 3
    assert f"assignee={service_agent.pk}" in figure.drill_url


def test_query_count_does_not_grow_with_rows(lead, rep, service_agent, django_assert_max_num_queries):
    customer = CustomerFactory(owner=rep)
    for day in range(1, 29):
        TicketFactory(
            customer=customer,
            assignee=service_agent,
            created_at=at(1, day),
            first_responded_at=at(1, day) + HOUR,
            resolved_at=at(1, day) + 3 * HOUR,
            status=Ticket.Status.RESOLVED,
        )
    scope = scope_for(lead)
    with django_assert_max_num_queries(5):
        result = values(service.build(scope, JANUARY))
    assert result["tickets_opened"] == 28
    assert result["first_response_hours"] == 1.0
    assert result["resolution_hours"] == 3.0


def test_section_is_shown_to_ticket_viewers_and_directors(rep, director, service_agent):
    from analytics.base import section, sections_for

    service.register()
    assert section("service").build is service.build
    for user in (rep, director, service_agent):
        assert "service" in [s.key for s in sections_for(user)]
