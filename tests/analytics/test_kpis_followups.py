"""Follow-up KPIs (analytics.kpis.followups) on a small hand-counted data set for January 2026.

rep (team A), their tasks due in January:
  t1 due 10 Jan 10:00, done 09:00          on time
  t2 due 12 Jan, done 13 Jan               late  → overdue
  t3 due 20 Jan, still open                overdue, open overdue at the end of January
  t4 due 31 Jan 23:30 (local), done at due on time (month-end boundary, done exactly on time)
  t5 due 15 Jan, cancelled                 not counted
  t6 due 1 Feb 00:30 (local), open         February (though 31 Jan in UTC)
  t7 due 20 Dec 2025, done 3 Feb           not due in January; still open at its end
teammate (team A): t8 due 5 Jan, done on time.  other_team_rep (team B): t9 due 6 Jan, open.

rep: due 4, on time 2 (50 %), overdue 2 (50 %), open overdue at month end 2 (t3, t7).
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from analytics.base import Period, period_of, rate, scope_for
from analytics.kpis import followups
from customers.models import Customer
from interactions.models import FollowUpTask, Interaction
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import InteractionFactory, TaskFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
JANUARY = Period("month", datetime.date(2026, 1, 1), datetime.date(2026, 2, 1))
DONE, OPEN, CANCELLED = FollowUpTask.Status.DONE, FollowUpTask.Status.OPEN, FollowUpTask.Status.CANCELLED


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def figures(result) -> dict:
    return {figure.key: figure for figure in result.figures}


def values(result) -> dict:
    return {figure.key: figure.value for figure in result.figures}


def tables(result) -> dict:
    return {table.key: table for table in result.tables}


@pytest.fixture
def data(rep, teammate, other_team_rep):
    # rep's customers: one with a next step, one without, one lost (never "without a next step").
    customer = CustomerFactory(owner=rep, next_follow_up_at=timezone.now())
    CustomerFactory(owner=rep)
    CustomerFactory(owner=rep, stage=Customer.Stage.LOST)
    deleted = CustomerFactory(owner=rep, deleted_at=timezone.now())
    mate_customer = CustomerFactory(owner=teammate)
    other_customer = CustomerFactory(owner=other_team_rep)

    phone, visit, wechat = Interaction.Method.PHONE, Interaction.Method.VISIT, Interaction.Method.WECHAT
    InteractionFactory(customer=customer, method=phone, occurred_at=at(1, 5))
    InteractionFactory(customer=customer, method=phone, occurred_at=at(1, 31, 23, 30))  # month end
    InteractionFactory(customer=customer, method=visit, occurred_at=at(1, 20))
    InteractionFactory(customer=customer, method=phone, occurred_at=at(2, 1, 0, 30))  # February
    InteractionFactory(customer=customer, method=phone, occurred_at=at(12, 31, 23, 59, year=2025))
    InteractionFactory(customer=deleted, method=phone, occurred_at=at(1, 6))  # in the recycle bin
    InteractionFactory(customer=mate_customer, method=wechat, occurred_at=at(1, 7))
    InteractionFactory(customer=other_customer, method=phone, occurred_at=at(1, 8))

    def task(owner_customer, due, status=OPEN, completed=None):
        return TaskFactory(customer=owner_customer, due_at=due, status=status, completed_at=completed)

    task(customer, at(1, 10), DONE, at(1, 10, 9))  # t1
    task(customer, at(1, 12), DONE, at(1, 13))  # t2
    task(customer, at(1, 20))  # t3
    task(customer, at(1, 31, 23, 30), DONE, at(1, 31, 23, 30))  # t4
    task(customer, at(1, 15), CANCELLED)  # t5
    task(customer, at(2, 1, 0, 30))  # t6
    task(customer, at(12, 20, year=2025), DONE, at(2, 3))  # t7
    task(deleted, at(1, 9))  # recycle bin: not counted
    task(mate_customer, at(1, 5), DONE, at(1, 4))  # t8
    task(other_customer, at(1, 6))  # t9


def test_rep_sees_own_follow_up_figures_for_january(data, rep):
    result = followups.build(scope_for(rep), JANUARY)
    assert values(result) == {
        "interactions": 3,
        "tasks_due": 4,
        "timeliness": 0.5,
        "overdue_rate": 0.5,
        "overdue": 2,
        "open_overdue": 2,
        "without_next_step": 1,
    }
    by_method = {row["method"]: row["count"] for row in tables(result)["interactions_by_method"].rows}
    assert by_method["电话"] == 2 and by_method["拜访"] == 1 and sum(by_method.values()) == 3
    # One person's numbers: no per-owner breakdown.
    assert "followups_by_owner" not in tables(result)


def test_record_at_2330_on_the_last_day_belongs_to_that_month(data, rep):
    february = Period("month", datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))
    result = values(followups.build(scope_for(rep), february))
    # February: the interaction at 00:30 on 1 Feb; t6 (due 00:30 on 1 Feb, still open).
    assert result["interactions"] == 1
    assert result["tasks_due"] == 1
    assert result["overdue"] == 1
    # Open at the end of February: t3 and t6 (t7 was done on 3 Feb).
    assert result["open_overdue"] == 2


def test_manager_sees_team_figures_with_per_owner_breakdown(data, lead, rep, teammate):
    result = followups.build(scope_for(lead), JANUARY)
    assert values(result) == {
        "interactions": 4,
        "tasks_due": 5,
        "timeliness": 3 / 5,
        "overdue_rate": 2 / 5,
        "overdue": 2,
        "open_overdue": 2,
        "without_next_step": 2,
    }
    rows = {row["owner"]: row for row in tables(result)["followups_by_owner"].rows}
    assert set(rows) == {str(rep), str(teammate)}  # never another team's rep
    assert {key: rows[str(rep)][key] for key in ("interactions", "tasks_due", "on_time", "overdue")} == {
        "interactions": 3,
        "tasks_due": 4,
        "on_time": 2,
        "overdue": 2,
    }
    assert rows[str(rep)]["timeliness"] == 0.5
    assert rows[str(teammate)]["timeliness"] == 1.0
    assert tables(result)["followups_by_owner"].chart == "bar"


def test_director_sees_every_team(data, director):
    result = values(followups.build(scope_for(director), JANUARY))
    assert result["interactions"] == 5
    assert result["tasks_due"] == 6
    assert result["timeliness"] == rate(3, 6)
    assert result["open_overdue"] == 3
    assert result["without_next_step"] == 3


def test_other_team_rep_never_counts_team_a_records(data, other_team_rep):
    result = values(followups.build(scope_for(other_team_rep), JANUARY))
    assert result["interactions"] == 1
    assert result["tasks_due"] == 1
    assert result["timeliness"] == 0.0
    assert result["overdue_rate"] == 1.0


def test_empty_period_has_no_rates(data, rep):
    march = Period("month", datetime.date(2025, 3, 1), datetime.date(2025, 4, 1))
    result = values(followups.build(scope_for(rep), march))
    assert result["interactions"] == 0
    assert result["tasks_due"] == 0
    # Division by zero: None (shown as "—"), never 0.
    assert result["timeliness"] is None
    assert result["overdue_rate"] is None


def test_running_period_counts_only_tasks_already_due(data, rep):
    # On 15 January at noon, t3 (due 20 Jan) is not late yet.
    now = at(1, 15, 12)
    result = values(followups.build(scope_for(rep), JANUARY, now=now))
    assert result["tasks_due"] == 2  # t1, t2
    assert result["timeliness"] == 0.5
    assert result["overdue_rate"] == 0.5


def test_future_period_is_empty(data, rep):
    result = values(followups.build(scope_for(rep), JANUARY, now=at(12, 1, year=2025)))
    assert result["tasks_due"] == 0
    assert result["timeliness"] is None


def test_overdue_drill_down_lists_the_same_open_overdue_tasks(client, rep, teammate):
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    TaskFactory(customer=customer, due_at=now - datetime.timedelta(days=2))
    TaskFactory(customer=customer, due_at=now - datetime.timedelta(hours=1))
    TaskFactory(customer=customer, due_at=now + datetime.timedelta(days=1))
    TaskFactory(customer=CustomerFactory(owner=teammate), due_at=now - datetime.timedelta(days=1))
    figure = figures(followups.build(scope_for(rep), period_of("month")))["open_overdue"]
    assert figure.value == 2
    assert f"owner={rep.pk}" in figure.drill_url and "overdue=on" in figure.drill_url
    client.force_login(rep)
    listed = client.get(figure.drill_url)
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == 2


def test_interactions_drill_down_lists_the_period(client, data, rep):
    figure = figures(followups.build(scope_for(rep), JANUARY))["interactions"]
    assert "occurred_from=2026-01-01" in figure.drill_url and "occurred_to=2026-01-31" in figure.drill_url
    client.force_login(rep)
    listed = client.get(figure.drill_url)
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == 3


def test_manager_drill_down_filters_the_team(data, lead, team_a):
    figure = figures(followups.build(scope_for(lead), JANUARY))["overdue"]
    assert f"team={team_a.pk}" in figure.drill_url
    assert "owner=" not in figure.drill_url


def test_query_count_does_not_grow_with_rows(lead, rep, teammate, django_assert_max_num_queries):
    for owner in (rep, teammate):
        customer = CustomerFactory(owner=owner)
        for day in range(1, 29):
            InteractionFactory(customer=customer, occurred_at=at(1, day))
            TaskFactory(customer=customer, due_at=at(1, day), status=DONE, completed_at=at(1, day, 9))
    scope = scope_for(lead)
    with django_assert_max_num_queries(6):
        result = followups.build(scope, JANUARY)
    assert values(result)["tasks_due"] == 56
    assert values(result)["timeliness"] == 1.0


def test_section_is_registered_for_sales_and_directors(rep, director, service_manager):
    from analytics.base import section, sections_for

    followups.register()
    assert section("followups").build is followups.build
    assert "followups" in [s.key for s in sections_for(rep)]
    assert "followups" in [s.key for s in sections_for(director)]
    # Service managers have no follow-up records to look at.
    assert "followups" not in [s.key for s in sections_for(service_manager)]
