"""Sales KPIs (analytics.kpis.sales): funnel, forecast and collections, with hand-computed values.

The period is January 2026 in Asia/Shanghai. The rep's opportunities (stage moves in brackets):

- o1 100,000, created 2025-12-01 00:00 [线索 12-01, 需求分析 01-05, 方案报价 01-20, 赢单 01-31 23:30]
- o2  50,000, created 2026-01-03 [线索 01-03, 需求分析 01-10, 输单 01-15]
- o3 200,000 open 方案报价 50 %, closes 2026-02-15 [线索 01-02, 方案报价 01-08]
- o4  80,000 open 需求分析 25 %, closes 2026-03-10 [线索 2025-11-01, 需求分析 02-01 00:30]
- o5  30,000 open 需求分析 25 %, closes 2026-01-25 [线索 01-04, 需求分析 01-06, 线索 01-07, 需求分析 01-09]
- o8 on a customer in the recycle bin [线索 01-10]: never counted.

The teammate's o6 40,000 open 商务谈判 75 % [商务谈判 01-12]; the other team's o7 999,000
[线索 01-10, 赢单 01-11].
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.base import MONTH, period_of, scope_for
from analytics.kpis.sales import build_collections, build_forecast, build_funnel
from opportunities.models import Order
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, StageChangeFactory, stage
from tests.factories.orders import InstalmentFactory, OrderFactory, PaymentFactory, settle

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
JANUARY = period_of(MONTH, datetime.date(2026, 1, 15))
EMPTY_MONTH = period_of(MONTH, datetime.date(2024, 6, 1))


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def make_opportunity(
    owner, amount, created, moves, *, probability=None, close=None, customer=None, closed=None
):
    final = stage(moves[-1][0])
    opportunity = OpportunityFactory(
        customer=customer or CustomerFactory(owner=owner),
        owner=owner,
        stage=final,
        amount=Decimal(amount),
        probability=final.probability if probability is None else probability,
        expected_close_date=close or datetime.date(2026, 1, 31),
        created_at=created,
        closed_at=closed,
    )
    for name, when in moves:
        StageChangeFactory(opportunity=opportunity, to_stage=stage(name), changed_at=when)
    return opportunity


@pytest.fixture
def pipeline(rep, teammate, other_team_rep):
    return {
        "o1": make_opportunity(
            rep,
            100000,
            at(2025, 12, 1, 0, 0),
            [
                ("线索", at(2025, 12, 1, 0, 0)),
                ("需求分析", at(2026, 1, 5)),
                ("方案报价", at(2026, 1, 20)),
                ("赢单", at(2026, 1, 31, 23, 30)),  # the last evening of January, local time
            ],
            closed=at(2026, 1, 31, 23, 30),
        ),
        "o2": make_opportunity(
            rep,
            50000,
            at(2026, 1, 3, 10),
            [("线索", at(2026, 1, 3, 10)), ("需求分析", at(2026, 1, 10)), ("输单", at(2026, 1, 15))],
            closed=at(2026, 1, 15),
        ),
        "o3": make_opportunity(
            rep,
            200000,
            at(2026, 1, 2),
            [("线索", at(2026, 1, 2)), ("方案报价", at(2026, 1, 8))],
            probability=50,
            close=datetime.date(2026, 2, 15),
        ),
        "o4": make_opportunity(
            rep,
            80000,
            at(2025, 11, 1),
            # 00:30 local on February 1st is still January 31st in UTC: February's.
            [("线索", at(2025, 11, 1)), ("需求分析", at(2026, 2, 1, 0, 30))],
            probability=25,
            close=datetime.date(2026, 3, 10),
        ),
        "o5": make_opportunity(
            rep,
            30000,
            at(2026, 1, 4),
            [
                ("线索", at(2026, 1, 4)),
                ("需求分析", at(2026, 1, 6)),
                ("线索", at(2026, 1, 7)),
                ("需求分析", at(2026, 1, 9)),
            ],
            probability=25,
            close=datetime.date(2026, 1, 25),
        ),
        "o8": make_opportunity(
            rep,
            70000,
            at(2026, 1, 10),
            [("线索", at(2026, 1, 10))],
            customer=CustomerFactory(owner=rep, deleted_at=timezone.now()),
            close=datetime.date(2026, 2, 1),
        ),
        "o6": make_opportunity(
            teammate,
            40000,
            at(2025, 12, 15),
            [("商务谈判", at(2026, 1, 12))],
            probability=75,
            close=datetime.date(2026, 4, 1),
        ),
        "o7": make_opportunity(
            other_team_rep,
            999000,
            at(2026, 1, 10),
            [("线索", at(2026, 1, 10)), ("赢单", at(2026, 1, 11))],
            closed=at(2026, 1, 11),
        ),
    }


def figures(result) -> dict:
    return {figure.key: figure.value for figure in result.figures}


def table(result, key: str) -> dict:
    found = next(table for table in result.tables if table.key == key)
    label = found.label_column
    return {row[label]: row for row in found.rows}


# --- Funnel --------------------------------------------------------------------------------


def test_rep_funnel_counts_stage_entries_of_the_period_once_per_opportunity(rep, pipeline):
    result = build_funnel(scope_for(rep), JANUARY)
    rows = table(result, "funnel")

    assert list(rows) == ["线索", "需求分析", "方案报价", "商务谈判", "赢单", "输单"]
    # 线索: o2, o3, o5 (twice, once counted); o1's entry is December's, o8's customer is deleted.
    assert rows["线索"]["entered"] == 3
    assert rows["线索"]["amount"] == Decimal("280000.00")
    assert rows["线索"]["converted"] == 3
    assert rows["线索"]["conversion"] == 1.0
    # 需求分析: o1, o2, o5 (o4 entered on February 1st, local time); only o1 went further.
    assert rows["需求分析"]["entered"] == 3
    assert rows["需求分析"]["amount"] == Decimal("180000.00")
    assert rows["需求分析"]["converted"] == 1
    assert rows["需求分析"]["conversion"] == pytest.approx(1 / 3)
    # 方案报价: o1 (won at 23:30 on January 31st, inside the period) and o3.
    assert rows["方案报价"]["entered"] == 2
    assert rows["方案报价"]["amount"] == Decimal("300000.00")
    assert rows["方案报价"]["conversion"] == 0.5
    # No entry: zero, and no rate (division by zero).
    assert rows["商务谈判"]["entered"] == 0
    assert rows["商务谈判"]["conversion"] is None
    assert rows["赢单"]["entered"] == 1
    assert rows["赢单"]["amount"] == Decimal("100000.00")
    assert rows["赢单"]["conversion"] is None
    assert rows["输单"]["entered"] == 1
    assert rows["输单"]["amount"] == Decimal("50000.00")


def test_rep_funnel_pipeline_and_figures(rep, pipeline):
    result = build_funnel(scope_for(rep), JANUARY)
    rows = table(result, "pipeline")

    assert list(rows) == ["线索", "需求分析", "方案报价", "商务谈判"]
    assert rows["线索"] | {"_url": None} == {
        "stage": "线索",
        "count": 0,
        "amount": Decimal("0.00"),
        "weighted": Decimal("0.00"),
        "_url": None,
    }
    # o4 80,000 × 25 % + o5 30,000 × 25 %.
    assert (rows["需求分析"]["count"], rows["需求分析"]["amount"], rows["需求分析"]["weighted"]) == (
        2,
        Decimal("110000.00"),
        Decimal("27500.00"),
    )
    assert (rows["方案报价"]["count"], rows["方案报价"]["weighted"]) == (1, Decimal("100000.00"))
    values = figures(result)
    assert values["win_rate"] == 0.5  # o1 won, o2 lost
    assert values["won_amount"] == Decimal("100000.00")
    # o1: 2025-12-01 00:00 → 2026-01-31 23:30 = 61 days 23.5 hours.
    assert values["cycle_days"] == 62.0
    assert values["pipeline_amount"] == Decimal("310000.00")
    assert values["weighted_forecast"] == Decimal("127500.00")


def test_lead_funnel_counts_the_team_and_never_the_other_team(lead, pipeline):
    result = build_funnel(scope_for(lead), JANUARY)
    rows = table(result, "funnel")

    assert rows["线索"]["entered"] == 3  # not o7
    assert rows["商务谈判"]["entered"] == 1  # the teammate's o6
    assert rows["赢单"]["entered"] == 1
    values = figures(result)
    assert values["win_rate"] == 0.5
    assert values["pipeline_amount"] == Decimal("350000.00")
    assert values["weighted_forecast"] == Decimal("157500.00")


def test_teammate_funnel_never_counts_the_reps_records(teammate, pipeline):
    values = figures(build_funnel(scope_for(teammate), JANUARY))

    assert values["pipeline_amount"] == Decimal("40000.00")
    assert values["win_rate"] is None


def test_director_funnel_counts_every_team(director, pipeline):
    result = build_funnel(scope_for(director), JANUARY)

    assert table(result, "funnel")["线索"]["entered"] == 4
    values = figures(result)
    assert values["win_rate"] == pytest.approx(2 / 3)
    # (61 d 23.5 h + 1 d) / 2
    assert values["cycle_days"] == pytest.approx(31.5, abs=0.05)


def test_funnel_of_an_empty_period_has_no_rates(rep, pipeline):
    result = build_funnel(scope_for(rep), EMPTY_MONTH)

    assert all(row["entered"] == 0 for row in table(result, "funnel").values())
    assert all(row["conversion"] is None for row in table(result, "funnel").values())
    values = figures(result)
    assert values["win_rate"] is None
    assert values["cycle_days"] is None
    assert values["won_amount"] == Decimal("0.00")
    # The open pipeline is a balance of now: the same whatever the period.
    assert values["pipeline_amount"] == Decimal("310000.00")


def test_funnel_without_any_opportunity(rep):
    values = figures(build_funnel(scope_for(rep), JANUARY))

    assert values["win_rate"] is None
    assert values["pipeline_amount"] == Decimal("0.00")


def test_funnel_stage_row_drills_down_to_the_filtered_opportunity_list(client, rep, lead, pipeline):
    result = build_funnel(scope_for(lead), JANUARY)
    url = table(result, "pipeline")["方案报价"]["_url"]

    assert f"stage={stage('方案报价').pk}" in url
    assert "status=open" in url
    assert f"team={lead.team_id}" in url
    client.force_login(lead)
    response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert pipeline["o3"].number in content
    assert pipeline["o5"].number not in content


def test_rep_drill_down_carries_the_owner(rep, pipeline):
    url = next(
        figure for figure in build_funnel(scope_for(rep), JANUARY).figures if figure.key == "win_rate"
    ).drill_url

    assert url.startswith("/") and "status=won" in url and f"owner={rep.pk}" in url
    assert "team=" not in url


def test_funnel_runs_a_fixed_number_of_queries(rep, pipeline):
    scope = scope_for(rep)
    with CaptureQueriesContext(connection) as few:
        build_funnel(scope, JANUARY)
    for number in range(30):
        make_opportunity(
            rep,
            1000 + number,
            at(2026, 1, 2),
            [("线索", at(2026, 1, 2)), ("需求分析", at(2026, 1, 3)), ("赢单", at(2026, 1, 4))],
            closed=at(2026, 1, 4),
        )
    with CaptureQueriesContext(connection) as many:
        result = build_funnel(scope, JANUARY)
    assert len(many) == len(few) <= 4
    assert table(result, "funnel")["线索"]["entered"] == 33


# --- Forecast ------------------------------------------------------------------------------


def test_rep_forecast_by_expected_close_month(rep, pipeline):
    result = build_forecast(scope_for(rep), JANUARY)
    rows = table(result, "forecast")

    assert list(rows) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert (rows["2026-01"]["count"], rows["2026-01"]["weighted"]) == (1, Decimal("7500.00"))  # o5
    # o3 200,000 × 50 %; o8 (deleted customer) is not counted.
    assert (rows["2026-02"]["count"], rows["2026-02"]["amount"], rows["2026-02"]["weighted"]) == (
        1,
        Decimal("200000.00"),
        Decimal("100000.00"),
    )
    assert rows["2026-03"]["weighted"] == Decimal("20000.00")  # o4
    assert rows["2026-04"]["count"] == 0  # o6 is the teammate's
    assert figures(result)["forecast_total"] == Decimal("127500.00")
    assert "close_month=2026-02" in rows["2026-02"]["_url"]


def test_forecast_window_starts_at_the_period_month_and_lasts_six_months(rep):
    for day, amount in [
        (datetime.date(2026, 3, 31), 1000),
        (datetime.date(2026, 9, 1), 2000),
        (datetime.date(2026, 8, 31), 4000),
    ]:
        make_opportunity(
            rep, amount, at(2026, 1, 1), [("方案报价", at(2026, 1, 1))], probability=50, close=day
        )
    result = build_forecast(scope_for(rep), period_of(MONTH, datetime.date(2026, 3, 31)))
    rows = table(result, "forecast")

    assert list(rows) == ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    assert rows["2026-03"]["weighted"] == Decimal("500.00")
    assert rows["2026-08"]["weighted"] == Decimal("2000.00")
    assert figures(result)["forecast_total"] == Decimal("2500.00")


def test_lead_forecast_counts_the_team_only(lead, pipeline):
    rows = table(build_forecast(scope_for(lead), JANUARY), "forecast")

    assert rows["2026-04"]["weighted"] == Decimal("30000.00")  # o6 40,000 × 75 %
    assert sum(row["count"] for row in rows.values()) == 4


def test_forecast_runs_one_query(rep, pipeline):
    scope = scope_for(rep)
    with CaptureQueriesContext(connection) as queries:
        build_forecast(scope, JANUARY)
    assert len(queries) == 1


# --- Collections ---------------------------------------------------------------------------


def payment(order, amount, received_on, **fields):
    return PaymentFactory(order=order, amount=Decimal(amount), received_on=received_on, **fields)


@pytest.fixture
def orders(rep, teammate, other_team_rep):
    """The rep: A 100,000 signed 01-10 (paid 30,000 on 01-31, 10,000 on 02-01, 5,000 voided;
    plan 50,000 ten days overdue + 50,000 later); B USD 10,000 × 7.1 signed in December, unpaid,
    all five days overdue; C cancelled 20,000 signed 01-15 with an overdue plan; D 10,000 signed
    and paid on 01-20 (completed). The teammate: E 50,000 signed 01-05 and paid 01-06. The other
    team: F 500,000 signed 01-10."""
    today = timezone.localdate()

    def order_of(owner, amount, signed_on, **fields):
        opportunity = OpportunityFactory(customer=CustomerFactory(owner=owner), owner=owner)
        return OrderFactory(opportunity=opportunity, amount=Decimal(amount), signed_on=signed_on, **fields)

    a = order_of(rep, 100000, datetime.date(2026, 1, 10))
    InstalmentFactory(
        order=a, sequence=1, due_date=today - datetime.timedelta(days=10), amount=Decimal(50000)
    )
    InstalmentFactory(
        order=a, sequence=2, due_date=today + datetime.timedelta(days=30), amount=Decimal(50000)
    )
    payment(a, 30000, datetime.date(2026, 1, 31))
    payment(a, 10000, datetime.date(2026, 2, 1))
    payment(a, 5000, datetime.date(2026, 1, 15), voided_at=timezone.now())
    settle(a)
    b = order_of(rep, 10000, datetime.date(2025, 12, 20), currency="USD", rate_to_cny=Decimal("7.1"))
    InstalmentFactory(order=b, due_date=today - datetime.timedelta(days=5), amount=Decimal(10000))
    c = order_of(rep, 20000, datetime.date(2026, 1, 15), status=Order.Status.CANCELLED)
    InstalmentFactory(order=c, due_date=today - datetime.timedelta(days=5), amount=Decimal(20000))
    d = order_of(rep, 10000, datetime.date(2026, 1, 20))
    payment(d, 10000, datetime.date(2026, 1, 20))
    settle(d)
    e = order_of(teammate, 50000, datetime.date(2026, 1, 5))
    payment(e, 50000, datetime.date(2026, 1, 6))
    settle(e)
    f = order_of(other_team_rep, 500000, datetime.date(2026, 1, 10))
    payment(f, 100000, datetime.date(2026, 1, 12))
    settle(f)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_rep_collections(rep, orders):
    result = build_collections(scope_for(rep), JANUARY)
    values = figures(result)

    assert values["signed"] == Decimal("110000.00")  # A + D; C is cancelled, B was December's
    assert values["collected"] == Decimal("40000.00")  # 30,000 on Jan 31 + D's 10,000
    assert values["outstanding"] == Decimal("131000.00")  # A 60,000 + B 71,000
    assert values["overdue"] == Decimal("81000.00")  # A's first instalment 10,000 + B 71,000
    assert result.tables == []  # one person's numbers: no per-owner table


def test_lead_collections_by_owner(lead, rep, teammate, orders):
    result = build_collections(scope_for(lead), JANUARY)
    values = figures(result)

    assert values["signed"] == Decimal("160000.00")
    assert values["collected"] == Decimal("90000.00")
    rows = table(result, "collections_by_owner")
    assert set(rows) == {str(rep.display_name), str(teammate.display_name)}
    assert rows[teammate.display_name] | {"_url": None} == {
        "owner": teammate.display_name,
        "signed": Decimal("50000.00"),
        "collected": Decimal("50000.00"),
        "outstanding": Decimal("0.00"),
        "overdue": Decimal("0.00"),
        "_url": None,
    }
    assert rows[rep.display_name]["overdue"] == Decimal("81000.00")
    assert f"owner={rep.pk}" in rows[rep.display_name]["_url"]


def test_director_collections_count_every_team(director, orders):
    values = figures(build_collections(scope_for(director), JANUARY))

    assert values["signed"] == Decimal("660000.00")
    assert values["collected"] == Decimal("190000.00")
    assert values["outstanding"] == Decimal("531000.00")  # + F's 400,000


def test_collections_of_an_empty_period(rep, orders):
    values = figures(build_collections(scope_for(rep), EMPTY_MONTH))

    assert values["signed"] == Decimal("0.00")
    assert values["collected"] == Decimal("0.00")
    assert values["outstanding"] == Decimal("131000.00")  # balances of now


def test_collections_drill_down_to_the_order_list(client, rep, orders):
    result = build_collections(scope_for(rep), JANUARY)
    urls = {figure.key: figure.drill_url for figure in result.figures}

    assert "signed_from=2026-01-01" in urls["signed"] and "signed_to=2026-01-31" in urls["signed"]
    client.force_login(rep)
    content = client.get(urls["overdue"]).content.decode()
    assert orders["a"].number in content and orders["b"].number in content
    assert orders["d"].number not in content


def test_collections_run_a_fixed_number_of_queries(lead, orders):
    scope = scope_for(lead)
    with CaptureQueriesContext(connection) as queries:
        build_collections(scope, JANUARY)
    assert len(queries) == 3
