"""The report pages (analytics.views): filters and scope, the generic rendering of a section's
figures and tables, the per-section page and the CSV/XLSX downloads.

The KPI modules register their own sections; these tests register a tiny "demo" section of their
own (customers created in the period) in an otherwise empty registry, so they do not depend on
them. Hand-counted data set (custom period March 2026, Asia/Shanghai):

  rep:            c1 1 Mar (class A), c2 31 Mar 23:30 local (class B, i.e. 15:30 UTC: still March),
                  c3 1 Apr 00:30 local (31 Mar 16:30 UTC: April), c4 20 Feb (class A: previous period)
  teammate:       c5 10 Mar (class A)
  other_team_rep: c6 10 Mar, c7 11 Mar (class A)

rep in March: 2 new (c1, c2), 50 % class A, previous period (29 Jan–28 Feb) 1 → +100 %.
lead (team A) in March: 3 new (c1, c2, c5), 2/3 class A.  director: 5 new.
"""

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Q
from django.urls import reverse
from openpyxl import load_workbook

from analytics import base, exports
from analytics.base import MONEY, PERCENT, Column, Figure, Section, SectionResult, Table, rate
from analytics.templatetags.analytics import kpi, kpi_change
from customers.models import Customer
from tests.factories.customers import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DASHBOARD = reverse("analytics:dashboard")
MARCH = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}
APRIL = {"period": "custom", "start": "2026-04-01", "end": "2026-04-30"}


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def build_demo(scope: base.Scope, period: base.Period) -> SectionResult:
    """Two queries, whatever the number of customers: the totals, and the rows per owner."""
    start, end = period.bounds()
    created = Customer.objects.filter(scope.q(), created_at__gte=start, created_at__lt=end)
    totals = created.aggregate(new=Count("pk"), class_a=Count("pk", filter=Q(value_class="A")))
    rows = [
        {
            "owner": row["owner__username"],
            "new": row["new"],
            "share": rate(row["class_a"], row["new"]),
            "_url": reverse("customers:customer-list") + f"?owner={row['owner']}",
        }
        for row in created.values("owner", "owner__username")
        .annotate(new=Count("pk"), class_a=Count("pk", filter=Q(value_class="A")))
        .order_by("owner__username")
    ]
    return SectionResult(
        figures=[
            Figure(
                "new",
                "New customers",
                totals["new"],
                help="Customers created in the period",
                drill_url=reverse("customers:customer-list") + "?created=period",
            ),
            Figure("class_a", "Share of class A", rate(totals["class_a"], totals["new"]), unit=PERCENT),
            Figure("lost", "Lost customers", 0, lower_is_better=True),
        ],
        tables=[
            Table(
                "by_owner",
                "New customers by owner",
                [Column("owner", "Owner", ""), Column("new", "New"), Column("share", "Class A", PERCENT)],
                rows,
                chart="bar",
                label_column="owner",
                value_columns=["new"],
            )
        ],
    )


@pytest.fixture
def registry(monkeypatch):
    """An empty section registry with the demo section in it (restored after the test)."""
    monkeypatch.setattr(base, "_sections", {})
    base.register(Section("demo", "Demo customers", build_demo, order=1))
    return base


@pytest.fixture
def data(rep, teammate, other_team_rep):
    return {
        "c1": CustomerFactory(owner=rep, created_at=at(3, 1, 0, 0), value_class="A"),
        "c2": CustomerFactory(owner=rep, created_at=at(3, 31, 23, 30), value_class="B"),
        "c3": CustomerFactory(owner=rep, created_at=at(4, 1, 0, 30), value_class="A"),
        "c4": CustomerFactory(owner=rep, created_at=at(2, 20), value_class="A"),
        "c5": CustomerFactory(owner=teammate, created_at=at(3, 10), value_class="A"),
        "c6": CustomerFactory(owner=other_team_rep, created_at=at(3, 10), value_class="C"),
        "c7": CustomerFactory(owner=other_team_rep, created_at=at(3, 11), value_class="A"),
    }


def figure_value(page: str, key: str) -> str:
    """The shown value of a figure card (link text or plain text), whitespace-trimmed."""
    import re

    card = page.split(f'data-figure="{key}"', 1)[1]
    value = card.split("data-value>", 1)[1].split("</div>", 1)[0]
    return re.sub(r"<[^>]+>", "", value).strip()


def get(client, user, url=DASHBOARD, **params):
    client.force_login(user)
    return client.get(url, params)


# Who may open what


def test_anonymous_visitor_is_sent_to_login(client, registry):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_rep_sees_only_their_own_numbers(client, registry, data, rep):
    response = get(client, rep, **MARCH)
    page = response.content.decode()
    assert response.status_code == 200
    assert figure_value(page, "new") == "2"  # c1 and c2, not teammate's c5 nor team B's
    assert figure_value(page, "class_a") == "50%"
    assert "Your own numbers" in page
    assert "other_team_rep" not in page and "teammate" not in page
    assert 'name="team"' not in page and 'name="owner"' not in page


@pytest.mark.parametrize("param", ["owner", "team"])
def test_rep_gets_404_for_anyone_elses_numbers(client, registry, rep, teammate, team_a, param):
    value = teammate.pk if param == "owner" else team_a.pk
    assert get(client, rep, **MARCH, **{param: value}).status_code == 404


def test_rep_may_name_themselves_as_owner(client, registry, data, rep):
    response = get(client, rep, **MARCH, owner=rep.pk)
    assert figure_value(response.content.decode(), "new") == "2"


def test_garbage_team_is_404(client, registry, lead):
    assert get(client, lead, team="abc").status_code == 404


def test_lead_sees_their_team_and_may_narrow_to_a_member(client, registry, data, lead, rep, team_a):
    page = get(client, lead, **MARCH).content.decode()
    assert figure_value(page, "new") == "3"  # c1, c2, c5
    assert figure_value(page, "class_a") == "66.7%"
    assert "The teams you lead" in page
    page = get(client, lead, **MARCH, team=team_a.pk).content.decode()
    assert figure_value(page, "new") == "3"
    page = get(client, lead, **MARCH, owner=rep.pk).content.decode()
    assert figure_value(page, "new") == "2"


def test_lead_gets_404_for_another_team_or_its_people(client, registry, lead, team_b, other_team_rep):
    assert get(client, lead, team=team_b.pk).status_code == 404
    assert get(client, lead, owner=other_team_rep.pk).status_code == 404


def test_lead_is_offered_only_their_team_and_people(client, registry, data, lead, rep, team_a, team_b):
    form = get(client, lead).context["form"]
    assert list(form.fields["team"].queryset) == [team_a]
    assert rep in form.fields["owner"].queryset
    assert "other_team_rep" not in {user.username for user in form.fields["owner"].queryset}


def test_director_sees_every_team_or_one(client, registry, data, director, team_b):
    assert figure_value(get(client, director, **MARCH).content.decode(), "new") == "5"
    page = get(client, director, **MARCH, team=team_b.pk).content.decode()
    assert figure_value(page, "new") == "2"
    assert "Team: 华南销售组" in page


def test_owner_outside_the_chosen_team_is_a_form_error(client, registry, director, team_a, other_team_rep):
    response = get(client, director, **MARCH, team=team_a.pk, owner=other_team_rep.pk)
    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert response.context["sections"] == []


def test_nonexistent_owner_is_404(client, registry, director):
    assert get(client, director, owner=999999).status_code == 404


# Periods


def test_record_at_2330_on_the_last_day_belongs_to_that_month(client, registry, data, rep):
    assert figure_value(get(client, rep, **MARCH).content.decode(), "new") == "2"  # c1, c2 (23:30)
    page = get(client, rep, **APRIL).content.decode()
    assert figure_value(page, "new") == "1"  # c3 at 00:30 on 1 April, though 31 March in UTC


def test_empty_period_shows_a_dash_for_rates(client, registry, data, rep):
    page = get(client, rep, period="custom", start="2025-06-01", end="2025-06-30").content.decode()
    assert figure_value(page, "new") == "0"
    assert figure_value(page, "class_a") == "—"  # 0 of 0: not computable, never 0 %


def test_change_against_the_previous_period(client, registry, data, rep):
    response = get(client, rep, **MARCH)
    figures = {figure.key: figure for figure in response.context["sections"][0].figures}
    # Custom March (31 days) is compared with the 31 days before: 29 Jan – 28 Feb, with c4.
    assert figures["new"].previous == 1
    assert figures["new"].change == pytest.approx(1.0)
    assert figures["class_a"].previous == 1.0
    page = response.content.decode()
    assert "2026-01-29 – 2026-02-28" in page
    assert 'data-good="true"' in page and "+100%" in page


def test_this_month_is_the_default_period(client, registry, rep):
    period = get(client, rep).context["filters"].period
    assert period.kind == "month" and period.start.day == 1


@pytest.mark.parametrize(
    "params",
    [
        {"period": "custom"},
        {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"},
        {"period": "custom", "start": "2020-01-01", "end": "2026-01-01"},
        {"period": "decade"},
    ],
)
def test_bad_period_is_a_form_error_not_a_crash(client, registry, rep, params):
    response = get(client, rep, **params)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["sections"] == []


@pytest.mark.parametrize("kind", ["week", "month", "quarter", "year"])
def test_every_period_kind_renders(client, registry, data, director, kind):
    assert get(client, director, period=kind).status_code == 200


# Rendering


def test_figure_links_to_its_records_and_shows_its_formula(client, registry, data, rep):
    page = get(client, rep, **MARCH).content.decode()
    assert 'href="/customers/?created=period"' in page
    assert "Customers created in the period" in page
    assert "<details" in page


def test_table_rows_link_to_their_records_and_feed_the_chart(client, registry, data, lead, rep):
    response = get(client, lead, **MARCH)
    table = response.context["sections"][0].tables[0]
    assert table.chart["labels"] == ["rep", "teammate"]
    assert table.chart["datasets"][0]["data"] == [2, 1]
    assert table.chart["urls"][0] == f"/customers/?owner={rep.pk}"
    page = response.content.decode()
    assert 'id="chart-demo-by_owner" type="application/json"' in page
    assert 'data-chart="chart-demo-by_owner"' in page
    assert f'<a href="/customers/?owner={rep.pk}">rep</a>' in page
    assert "chart.umd.min.js" in page and "analytics-charts.js" in page


def test_empty_table_has_no_chart_and_says_so(client, registry, rep):
    response = get(client, rep, period="custom", start="2025-06-01", end="2025-06-30")
    assert response.context["sections"][0].tables[0].chart is None
    assert "Nothing in this period." in response.content.decode()


def test_section_page_and_link_keep_the_filter(client, registry, data, lead, team_a):
    page = get(client, lead, **MARCH, team=team_a.pk).content.decode()
    url = reverse("analytics:section", args=["demo"])
    assert f'href="{url}?period=custom&amp;start=2026-03-01&amp;end=2026-03-31&amp;team={team_a.pk}"' in page
    response = get(client, lead, url, **MARCH, team=team_a.pk)
    assert response.status_code == 200
    assert figure_value(response.content.decode(), "new") == "3"


def test_unknown_section_is_404_and_a_forbidden_one_403(client, registry, rep):
    registry.register(Section("secret", "Secret", build_demo, allowed=lambda user: user.is_superuser))
    assert get(client, rep, reverse("analytics:section", args=["nope"])).status_code == 404
    assert get(client, rep, reverse("analytics:section", args=["secret"])).status_code == 403
    assert "Secret" not in get(client, rep).content.decode()


def test_navigation_offers_reports(client, registry, rep):
    page = get(client, rep, reverse("home")).content.decode()
    assert f'href="{DASHBOARD}"' in page


# Downloads


def export_url(table: str) -> str:
    return reverse("analytics:section-export", args=["demo", table])


def test_table_downloads_as_csv_in_the_viewers_scope(client, registry, data, lead):
    response = get(client, lead, export_url("by_owner"), **MARCH, format="csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="demo-by_owner-20260301.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["Owner", "New", "Class A (%)"], ["rep", "2", "50.0"], ["teammate", "1", "100.0"]]


def test_rep_download_counts_only_their_records(client, registry, data, rep, teammate):
    response = get(client, rep, export_url("by_owner"), **MARCH, format="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Owner", "New", "Class A (%)"],
        ["rep", 2, 50.0],
    ]
    assert get(client, rep, export_url("by_owner"), owner=teammate.pk, format="csv").status_code == 404


def test_figures_download_with_previous_values(client, registry, data, rep):
    response = get(client, rep, export_url("figures"), **MARCH, format="csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Figure", "Value", "Previous period", "Change (%)"]
    assert rows[1][:4] == ["New customers", "2", "1", "100.0"]
    assert rows[2][:4] == ["Share of class A", "50.0", "100.0", "-50.0"]


@pytest.mark.parametrize(("table", "fmt"), [("nope", "csv"), ("by_owner", "pdf")])
def test_unknown_table_or_format_is_404(client, registry, rep, table, fmt):
    assert get(client, rep, export_url(table), format=fmt).status_code == 404


# Formatting


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (None, "count", "—"),
        (None, PERCENT, "—"),
        (1234, "count", "1,234"),
        (0.256, PERCENT, "25.6%"),
        (0.0, PERCENT, "0%"),
        (1, PERCENT, "100%"),
        (1234.5, MONEY, "¥1,234.50"),
        (650000, MONEY, "¥650,000"),
        (12.25, "hours", "12.2 h"),
        (3.0, "days", "3 d"),
        (4.256, "score", "4.26"),
        ("华东销售一组", "", "华东销售一组"),
    ],
)
def test_values_are_shown_by_unit(value, unit, shown):
    assert kpi(value, unit) == shown


def test_a_rise_of_a_lower_is_better_figure_is_red():
    worse = Figure("overdue", "Overdue", 6, previous=4, lower_is_better=True)
    better = Figure("won", "Won", 6, previous=4)
    assert "text-danger" in kpi_change(worse) and "+50%" in kpi_change(worse)
    assert "text-success" in kpi_change(better)
    assert "text-success" in kpi_change(Figure("overdue", "Overdue", 2, previous=4, lower_is_better=True))
    assert "—" in kpi_change(Figure("new", "New", 3, previous=0))  # no change over nothing


# Query budget


def test_the_page_adds_a_constant_number_of_queries_around_the_sections(
    client, registry, rep, lead, teammate, django_assert_max_num_queries
):
    client.force_login(lead)
    for index in range(50):
        CustomerFactory(owner=rep if index % 2 else teammate, created_at=at(3, 1 + index % 28))
    client.get(DASHBOARD, MARCH)  # warm the caches of the session and permissions
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_section:
        client.get(DASHBOARD, MARCH)
    registry.register(Section("demo2", "Demo 2", build_demo, order=2))
    registry.register(Section("demo3", "Demo 3", build_demo, order=3))
    with CaptureQueriesContext(connection) as three_sections:
        client.get(DASHBOARD, MARCH)
    # Each demo section takes 2 queries a build, built for the period and the one before.
    assert len(three_sections) - len(one_section) == 2 * 2 * 2
    around = len(one_section) - 2 * 2
    assert around <= 10, [query["sql"] for query in one_section.captured_queries]
    # Naming an owner checks them against the viewer's reach: a few queries more, still constant.
    with django_assert_max_num_queries(len(three_sections) + 4):
        client.get(DASHBOARD, {**MARCH, "owner": rep.pk})


# Charts and headers of any section


def test_chart_data_plots_percentages_as_0_to_100_with_unit_affixes():
    from analytics.views import chart_data

    table = Table(
        "stages",
        "Stages",
        [
            Column("stage", "Stage", ""),
            Column("amount", "Amount (CNY)", MONEY),
            Column("rate", "Rate", PERCENT),
        ],
        [{"stage": "线索", "amount": Decimal("1234.50"), "rate": 0.125, "_url": "/x/"}, {"stage": "赢单"}],
        chart="funnel",
        label_column="stage",
        value_columns=["amount", "rate"],
    )
    chart = chart_data(table)
    assert chart["type"] == "funnel"
    assert chart["labels"] == ["线索", "赢单"]
    amount, share = chart["datasets"]
    assert (amount["data"], amount["prefix"], amount["suffix"]) == ([1234.5, None], "¥", "")
    assert (share["data"], share["suffix"]) == ([12.5, None], "%")
    assert chart["urls"] == ["/x/", ""]


def test_export_header_names_the_unit_once():
    from analytics.exports import table_rows

    result = SectionResult(
        tables=[Table("t", "T", [Column("amount", "Amount (CNY)", MONEY), Column("paid", "Paid", MONEY)], [])]
    )
    headers, rows, name = table_rows(Section("demo", "Demo", build_demo), result, "t")
    assert headers == ["Amount (CNY)", "Paid (CNY)"]
    assert rows == [] and name == "demo-t"


# The sections the KPI modules register (whatever is registered when the suite runs)


@pytest.mark.parametrize("persona", ["rep", "lead", "director", "agent"])
def test_every_registered_section_renders_for_every_role(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get(DASHBOARD, {"period": "month"})
    assert response.status_code == 200
    shown = {rendered.section.key for rendered in response.context["sections"]}
    assert shown == {section.key for section in base.sections_for(user)}
    for rendered in response.context["sections"]:
        key = rendered.section.key
        assert client.get(reverse("analytics:section", args=[key]), {"period": "quarter"}).status_code == 200
        for table in [exports.FIGURES, *(rendered_table.table.key for rendered_table in rendered.tables)]:
            url = reverse("analytics:section-export", args=[key, table])
            for fmt in exports.FORMATS:
                download = client.get(url, {"period": "month", "format": fmt})
                assert download.status_code == 200, (key, table, fmt)


def test_dashboard_links_the_archive_and_subscriptions_to_those_who_subscribe(client, registry, rep, lead):
    archive, subscriptions = reverse("analytics:report-archive"), reverse("analytics:report-subscriptions")
    page = get(client, lead).content.decode()
    assert f'href="{archive}"' in page and f'href="{subscriptions}"' in page
    page = get(client, rep).content.decode()
    assert f'href="{archive}"' in page and f'href="{subscriptions}"' not in page
