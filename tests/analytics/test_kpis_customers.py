"""Customer KPIs (analytics.kpis.customers), with hand-computed values for January 2026
(Asia/Shanghai).

The rep's customers (lifecycle history in brackets, interactions after "·"):

- c1 [potential 2025-10-01, intent 2025-12-01, deal 2026-01-31 23:30] · 01-10
- c2 [intent 2025-11-01] · 01-05
- c3 [intent 2025-11-01, deal 01-20] · 2026-02-01 00:30 (February's, local time)
- c4 [deal 2025-12-01, lost 01-15]
- c5 [intent 2025-12-01, lost 2026-02-01 00:30]
- c6 [potential 2025-10-01, lost 01-10]
- c7 created 01-03 [potential 01-03, intent 01-04, deal 01-06] · 01-05
- c8 created 2025-06-01 in the deal stage, no history (imported)
- c9 in the recycle bin [intent 2025-11-01, lost 01-10]
- n1 created 2026-01-31 23:30 (class A, source 1), n2 created 2026-02-01 00:30, n3 created 01-15
  (class B, no source)

So: in intent or deal at the start c1 c2 c3 c4 c5 c8 (6), lost since c4 → churn 1/6; intent
customers followed c1 c2 c7 (3), deal since c1 c7 → conversion 2/3; new c7 n1 n3.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext

from analytics.base import MONTH, period_of, scope_for
from analytics.kpis.customers import build_customers
from customers.models import Customer, Source, StageChange
from opportunities.models import Order
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import InteractionFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
JANUARY = period_of(MONTH, datetime.date(2026, 1, 15))
EMPTY_MONTH = period_of(MONTH, datetime.date(2024, 6, 1))


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def customer(owner, created, history=(), *, stage=None, **fields) -> Customer:
    """A customer with its lifecycle history; its stage is the last one of the history."""
    current = history[-1][0] if history else (stage or Customer.Stage.POTENTIAL)
    made = CustomerFactory(
        owner=owner,
        created_at=created,
        stage=current,
        stage_changed_at=history[-1][1] if history else None,
        **fields,
    )
    previous = ""
    for to_stage, when in history:
        StageChange.objects.create(customer=made, from_stage=previous, to_stage=to_stage, changed_at=when)
        previous = to_stage
    return made


def followed(made: Customer, when: datetime.datetime) -> None:
    InteractionFactory(customer=made, occurred_at=when)


def sources() -> list[Source]:
    return list(Source.objects.order_by("order", "name")[:2])


@pytest.fixture
def lifecycle(rep, teammate, other_team_rep):
    first, second = sources()
    autumn = at(2025, 10, 1)
    made = {
        "c1": customer(
            rep,
            autumn,
            [("potential", autumn), ("intent", at(2025, 12, 1)), ("deal", at(2026, 1, 31, 23, 30))],
        ),
        "c2": customer(rep, autumn, [("intent", at(2025, 11, 1))]),
        "c3": customer(rep, autumn, [("intent", at(2025, 11, 1)), ("deal", at(2026, 1, 20))]),
        "c4": customer(rep, autumn, [("deal", at(2025, 12, 1)), ("lost", at(2026, 1, 15))]),
        "c5": customer(rep, autumn, [("intent", at(2025, 12, 1)), ("lost", at(2026, 2, 1, 0, 30))]),
        "c6": customer(rep, autumn, [("potential", autumn), ("lost", at(2026, 1, 10))]),
        "c7": customer(
            rep,
            at(2026, 1, 3),
            [("potential", at(2026, 1, 3)), ("intent", at(2026, 1, 4)), ("deal", at(2026, 1, 6))],
            source=second,
            value_class="C",
        ),
        "c8": customer(rep, at(2025, 6, 1), stage="deal"),
        "c9": customer(
            rep, autumn, [("intent", at(2025, 11, 1)), ("lost", at(2026, 1, 10))], deleted_at=timezone.now()
        ),
        "n1": customer(rep, at(2026, 1, 31, 23, 30), source=first, value_class="A"),
        "n2": customer(rep, at(2026, 2, 1, 0, 30), source=first, value_class="A"),
        "n3": customer(rep, at(2026, 1, 15), source=None, value_class="B"),
        "t1": customer(teammate, autumn, [("intent", at(2025, 11, 1)), ("lost", at(2026, 1, 12))]),
        "t2": customer(teammate, at(2026, 1, 20), source=first, value_class="A"),
        "x1": customer(
            other_team_rep, at(2026, 1, 5), [("intent", at(2025, 11, 1)), ("lost", at(2026, 1, 12))]
        ),
    }
    followed(made["c1"], at(2026, 1, 10))
    followed(made["c2"], at(2026, 1, 5))
    followed(made["c3"], at(2026, 2, 1, 0, 30))
    followed(made["c7"], at(2026, 1, 5))
    return made


def figures(result) -> dict:
    return {figure.key: figure.value for figure in result.figures}


def table(result, key: str) -> dict:
    found = next(table for table in result.tables if table.key == key)
    return {row[found.label_column]: row for row in found.rows}


def test_rep_new_customers_by_source_and_class(rep, lifecycle):
    first, second = sources()
    result = build_customers(scope_for(rep), JANUARY)

    assert figures(result)["new_customers"] == 3  # c7, n1 (23:30 on January 31st), n3
    by_source = table(result, "customers_by_source")
    assert {label: row["count"] for label, row in by_source.items()} == {
        first.name: 1,
        second.name: 1,
        gettext("No source"): 1,
    }
    assert by_source[gettext("No source")]["_url"] is None
    by_class = table(result, "customers_by_class")
    assert [row["count"] for row in by_class.values()] == [1, 1, 1]


def test_rep_conversion_and_churn(rep, lifecycle):
    values = figures(build_customers(scope_for(rep), JANUARY))

    assert values["conversion_rate"] == pytest.approx(2 / 3)
    assert values["churn_rate"] == pytest.approx(1 / 6)


def test_lead_counts_the_team_and_never_the_other_team(lead, lifecycle):
    result = build_customers(scope_for(lead), JANUARY)
    values = figures(result)

    assert values["new_customers"] == 4  # + t2; not x1
    assert values["churn_rate"] == pytest.approx(2 / 7)  # + t1
    assert values["conversion_rate"] == pytest.approx(2 / 3)
    assert table(result, "customers_by_class")[str(Customer.ValueClass.A.label)]["count"] == 2


def test_teammate_never_counts_the_reps_customers(teammate, lifecycle):
    values = figures(build_customers(scope_for(teammate), JANUARY))

    assert values["new_customers"] == 1
    assert values["churn_rate"] == 1.0
    assert values["conversion_rate"] is None  # no intent customer followed: no rate


def test_director_counts_every_team(director, lifecycle):
    values = figures(build_customers(scope_for(director), JANUARY))

    assert values["new_customers"] == 5
    # x1 was created in January: not a customer at the period start.
    assert values["churn_rate"] == pytest.approx(2 / 7)


def test_empty_period_has_no_rates(rep, lifecycle):
    result = build_customers(scope_for(rep), EMPTY_MONTH)
    values = figures(result)

    assert values["new_customers"] == 0
    assert values["conversion_rate"] is None
    assert values["churn_rate"] is None
    assert values["repurchase_rate"] is None
    assert table(result, "customers_by_source") == {}
    assert all(row["count"] == 0 for row in table(result, "customers_by_class").values())


def test_repurchase_rate_counts_orders_signed_before_the_period_ends(rep, teammate, lifecycle):
    def order(made, signed_on, **fields):
        opportunity = OpportunityFactory(customer=made, owner=made.owner)
        return OrderFactory(opportunity=opportunity, signed_on=signed_on, **fields)

    order(lifecycle["c1"], datetime.date(2025, 12, 1))
    order(lifecycle["c1"], datetime.date(2026, 1, 31))
    order(lifecycle["c4"], datetime.date(2025, 11, 1))
    order(lifecycle["c4"], datetime.date(2026, 1, 5), status=Order.Status.CANCELLED)
    order(lifecycle["c8"], datetime.date(2026, 1, 10))
    order(lifecycle["c8"], datetime.date(2026, 2, 1))
    order(lifecycle["t1"], datetime.date(2026, 1, 2))
    order(lifecycle["t1"], datetime.date(2026, 1, 3))

    assert figures(build_customers(scope_for(rep), JANUARY))["repurchase_rate"] == pytest.approx(1 / 3)
    assert figures(build_customers(scope_for(lead_of(teammate)), JANUARY))["repurchase_rate"] == 0.5
    assert figures(build_customers(scope_for(rep), period_of(MONTH, datetime.date(2026, 2, 1))))[
        "repurchase_rate"
    ] == pytest.approx(2 / 3)
    assert figures(build_customers(scope_for(rep), period_of(MONTH, datetime.date(2025, 12, 1))))[
        "repurchase_rate"
    ] == pytest.approx(0.0)


def lead_of(user):
    return user.team.lead


def test_new_customers_drill_down_to_the_customer_list(client, rep, lifecycle):
    result = build_customers(scope_for(rep), JANUARY)
    url = next(figure.drill_url for figure in result.figures if figure.key == "new_customers")

    assert "created_from=2026-01-01" in url and "created_to=2026-01-31" in url and f"owner={rep.pk}" in url
    client.force_login(rep)
    content = client.get(url).content.decode()
    assert lifecycle["n1"].number in content
    assert lifecycle["n3"].number in content
    assert lifecycle["n2"].number not in content
    class_a = table(result, "customers_by_class")[str(Customer.ValueClass.A.label)]["_url"]
    content = client.get(class_a).content.decode()
    assert lifecycle["n1"].number in content and lifecycle["n3"].number not in content


def test_customers_section_runs_a_fixed_number_of_queries(lead, rep, lifecycle):
    scope = scope_for(lead)
    with CaptureQueriesContext(connection) as few:
        build_customers(scope, JANUARY)
    for number in range(30):
        made = customer(rep, at(2025, 10, 1), [("intent", at(2025, 11, 1)), ("lost", at(2026, 1, 2))])
        followed(made, at(2026, 1, 1 + number % 28))
        OrderFactory(
            opportunity=OpportunityFactory(customer=made, owner=rep), signed_on=datetime.date(2026, 1, 2)
        )
    with CaptureQueriesContext(connection) as many:
        values = figures(build_customers(scope, JANUARY))
    assert len(many) == len(few) == 4
    assert values["churn_rate"] == pytest.approx(32 / 37)
    assert values["conversion_rate"] == pytest.approx(2 / 33)
