"""The scheduled reports' pages: my subscriptions, building a past report by hand, the archive,
one report (its stored HTML) and its XLSX; scope (404) and permission (403)."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics.models import ReportSnapshot, ReportSubscription
from analytics.services import reports
from customers.models import Customer
from tests.analytics.test_reports import tiny_section  # noqa: F401  (fixture)
from tests.factories.customers import CustomerFactory

# Every test here has the tiny section of test_reports registered (its values are hand-checked there).
pytestmark = pytest.mark.usefixtures("english", "tiny_section")


def last_week_day() -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday() + 7)


def build(client, user, **data):
    client.force_login(user)
    payload = {"frequency": "week", "day": last_week_day().isoformat(), "team": ""} | data
    return client.post(reverse("analytics:report-build"), payload)


# Subscriptions


def test_lead_subscribes_to_the_weekly_report_of_their_teams(client, lead):
    client.force_login(lead)
    page = client.get(reverse("analytics:report-subscriptions"))
    assert page.status_code == 200
    response = client.post(reverse("analytics:report-subscriptions"), {"frequency": "week", "team": ""})
    assert response.status_code == 302
    subscription = ReportSubscription.objects.get()
    assert (subscription.user, subscription.frequency, subscription.team) == (lead, "week", None)
    # Twice is refused with a message, not a second row.
    again = client.post(reverse("analytics:report-subscriptions"), {"frequency": "week", "team": ""})
    assert again.status_code == 400
    assert ReportSubscription.objects.count() == 1


def test_lead_subscribes_to_one_led_team_but_not_another(client, lead, team_a, team_b):
    client.force_login(lead)
    ok = client.post(reverse("analytics:report-subscriptions"), {"frequency": "month", "team": team_a.pk})
    assert ok.status_code == 302
    refused = client.post(
        reverse("analytics:report-subscriptions"), {"frequency": "month", "team": team_b.pk}
    )
    assert refused.status_code == 400  # not among the choices
    assert list(ReportSubscription.objects.values_list("team", flat=True)) == [team_a.pk]


def test_director_subscribes_to_any_team(client, director, team_b):
    client.force_login(director)
    response = client.post(
        reverse("analytics:report-subscriptions"), {"frequency": "week", "team": team_b.pk}
    )
    assert response.status_code == 302
    assert ReportSubscription.objects.get().team == team_b


@pytest.mark.parametrize("persona", ["rep", "agent"])
def test_people_without_the_permission_get_403(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("analytics:report-subscriptions")).status_code == 403
    assert build(client, user).status_code == 403


def test_service_manager_may_subscribe(client, service_manager):
    client.force_login(service_manager)
    assert client.get(reverse("analytics:report-subscriptions")).status_code == 200


def test_unsubscribe_only_ones_own(client, lead, other_lead):
    mine = ReportSubscription.objects.create(user=lead, frequency="week")
    theirs = ReportSubscription.objects.create(user=other_lead, frequency="week")
    client.force_login(lead)
    url = reverse("analytics:report-subscription-delete", args=[theirs.pk])
    assert client.post(url).status_code == 404
    assert client.get(reverse("analytics:report-subscription-delete", args=[mine.pk])).status_code == 405
    assert client.post(reverse("analytics:report-subscription-delete", args=[mine.pk])).status_code == 302
    assert list(ReportSubscription.objects.all()) == [theirs]


def test_subscriptions_page_in_chinese(client, lead):
    client.force_login(lead)
    page = client.get(reverse("analytics:report-subscriptions"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "我的报表订阅" in page.content.decode()


# Building by hand, the archive and one report


def test_lead_builds_last_weeks_report_and_sees_the_stored_figures(client, lead, rep, other_team_rep):
    day = last_week_day()
    created = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    CustomerFactory(owner=rep, created_at=created)
    CustomerFactory(owner=other_team_rep, created_at=created)

    response = build(client, lead)

    snapshot = ReportSnapshot.objects.get()
    assert response.status_code == 302 and response.url == snapshot.get_absolute_url()
    assert snapshot.built_by == lead
    assert snapshot.period_start == day
    page = client.get(snapshot.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-figure="new"' in body and "小测试" in body

    # The page shows what was stored: a later change of the data does not show.
    Customer.objects.update(created_at=created - datetime.timedelta(days=100))
    html = snapshot.data["sections"][0]["html"]
    assert html in client.get(snapshot.get_absolute_url()).content.decode()

    # Building it again opens the same report.
    assert build(client, lead).url == snapshot.get_absolute_url()
    assert ReportSnapshot.objects.count() == 1


def test_the_current_week_cannot_be_built(client, lead):
    response = build(client, lead, day=timezone.localdate().isoformat())
    assert response.status_code == 400
    assert not ReportSnapshot.objects.exists()


def test_lead_building_another_teams_report_gets_404(client, lead, team_b):
    assert build(client, lead, team=team_b.pk).status_code == 400  # not a choice
    assert not ReportSnapshot.objects.exists()


def test_archive_lists_reports_within_reach_newest_first(client, lead, other_lead, director):
    build(client, lead)
    build(client, lead, day=(last_week_day() - datetime.timedelta(days=7)).isoformat())
    build(client, other_lead)
    mine = list(ReportSnapshot.objects.filter(scope_key=f"teams:{lead.team_id}").order_by("-period_start"))
    theirs = ReportSnapshot.objects.get(scope_key=f"teams:{other_lead.team_id}")

    client.force_login(lead)
    page = client.get(reverse("analytics:report-archive"))
    assert list(page.context["page_obj"]) == mine
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(reverse("analytics:report-xlsx", args=[theirs.pk])).status_code == 404

    client.force_login(director)
    assert len(client.get(reverse("analytics:report-archive")).context["page_obj"]) == 3
    assert client.get(theirs.get_absolute_url()).status_code == 200


def test_rep_sees_an_empty_archive_and_404_for_team_reports(client, lead, rep):
    build(client, lead)
    snapshot = ReportSnapshot.objects.get()
    client.force_login(rep)
    assert list(client.get(reverse("analytics:report-archive")).context["page_obj"]) == []
    assert client.get(snapshot.get_absolute_url()).status_code == 404


def test_xlsx_has_a_figures_sheet_and_one_sheet_per_table(client, lead, rep):
    day = last_week_day()
    CustomerFactory(
        owner=rep, created_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    )
    build(client, lead)
    snapshot = ReportSnapshot.objects.get()

    response = client.get(reverse("analytics:report-xlsx", args=[snapshot.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == reports.XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    figures, table = workbook.worksheets
    rows = list(figures.iter_rows(values_only=True))
    assert rows[2][:4] == ("小测试", "新客户", 1, 0)
    assert rows[3][1:3] == ("目标完成率", 0.25)
    assert list(table.iter_rows(values_only=True)) == [("负责人", "新客户"), ("rep", 1)]


def test_archive_page_queries_do_not_grow_with_reports(client, lead, django_assert_max_num_queries):
    build(client, lead)
    client.force_login(lead)
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("analytics:report-archive"))
    budget = len(small)  # now: the next request resets the connection's query log
    for weeks in range(2, 8):
        build(client, lead, day=(last_week_day() - datetime.timedelta(days=7 * weeks)).isoformat())
    client.force_login(lead)
    with django_assert_max_num_queries(budget):
        client.get(reverse("analytics:report-archive"))


def test_administrator_manages_subscriptions_and_reads_reports_in_admin(client, administrator, lead):
    subscription = ReportSubscription.objects.create(user=lead, frequency="month")
    build(client, lead)
    snapshot = ReportSnapshot.objects.get()
    client.force_login(administrator)
    assert client.get(reverse("admin:analytics_reportsubscription_changelist")).status_code == 200
    assert client.get(reverse("admin:analytics_reportsubscription_add")).status_code == 200
    change = reverse("admin:analytics_reportsubscription_change", args=[subscription.pk])
    response = client.post(
        change,
        {
            "user": lead.pk,
            "frequency": "week",
            "team": "",
            "active": "on",
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription.refresh_from_db()
    assert subscription.frequency == "week"
    assert client.get(reverse("admin:analytics_reportsnapshot_change", args=[snapshot.pk])).status_code == 200
    assert client.get(reverse("admin:analytics_reportdelivery_changelist")).status_code == 200


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (None, "percent", "—"),
        (0.256, "percent", "25.6%"),
        (1234567.5, "money", "¥1,234,567.50"),
        (12345, "count", "12,345"),
        (4.25, "score", "4.25"),
        ("华东", "count", "华东"),
    ],
)
def test_values_are_shown_by_unit(value, unit, shown):
    from django.utils import translation

    with translation.override("en"):
        assert reports.display(value, unit) == shown
