"""Scheduled KPI reports: planning, building once per period and scope, delivering once per
subscriber, retries, scope and query budget (analytics.services.reports).

A tiny section registered by the ``tiny_section`` fixture counts the customers created in the
period (in the database, within the scope), so the expected values are easy to compute by hand.
"""

import datetime
import io
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts import roles
from accounts.outbox import LEASE
from analytics import base
from analytics.base import PERCENT, Column, Figure, Section, SectionResult, Table, rate
from analytics.models import ReportDelivery, ReportSnapshot, ReportSubscription
from analytics.services import reports
from customers.models import Customer
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 2026-04-08 10:00 local: last week is Mon 2026-03-30 – Sun 2026-04-05, last month March.
NOW = datetime.datetime(2026, 4, 8, 10, 0, tzinfo=SHANGHAI)
LAST_WEEK = datetime.date(2026, 3, 30)
LAST_MONTH = datetime.date(2026, 3, 1)

BUILDS: list[tuple[str, base.Period]] = []  # (scope key, period) of each current-period build

pytestmark = pytest.mark.usefixtures("english")


def _tiny_build(scope: base.Scope, period: base.Period) -> SectionResult:
    start, end = period.bounds()
    customers = Customer.objects.filter(scope.q(), created_at__gte=start, created_at__lt=end)
    total = customers.aggregate(n=Count("pk"))["n"]
    per_owner = customers.values("owner__username").annotate(n=Count("pk")).order_by("owner__username")
    BUILDS.append((scope.key, period))
    return SectionResult(
        figures=[
            Figure("new", "新客户", total, help="期间内新建的客户数", drill_url="/customers/?created=1"),
            Figure("share", "目标完成率", rate(total, 4), unit=PERCENT),
        ],
        tables=[
            Table(
                "by_owner",
                "按负责人",
                [Column("owner", "负责人"), Column("n", "新客户")],
                [{"owner": row["owner__username"], "n": row["n"]} for row in per_owner],
                chart="bar",
            )
        ],
    )


@pytest.fixture
def tiny_section(monkeypatch):
    """Only the tiny section (the real ones are covered by their own tests)."""
    BUILDS.clear()
    monkeypatch.setattr(base, "_sections", {})
    base.register(Section("tiny", "小测试", _tiny_build, order=1))
    yield
    base.unregister("tiny")
    BUILDS.clear()


def current_builds(period_start: datetime.date) -> list[str]:
    return [key for key, period in BUILDS if period.start == period_start]


def at(year, month, day, hour=12, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def subscribe(user, frequency="week", team=None) -> ReportSubscription:
    return ReportSubscription.objects.create(user=user, frequency=frequency, team=team)


def figure(snapshot: ReportSnapshot, key: str) -> dict:
    section = next(s for s in snapshot.data["sections"] if s["key"] == "tiny")
    return next(f for f in section["figures"] if f["key"] == key)


@pytest.fixture
def week_data(rep, teammate, other_team_rep):
    """Team A: 2 customers last week (one at 23:30 local on Sunday), 1 the week before, 1 this
    week (00:30 local Monday); team B: 1 last week."""
    CustomerFactory(owner=rep, created_at=at(2026, 3, 31))
    CustomerFactory(owner=teammate, created_at=at(2026, 4, 5, 23, 30))
    CustomerFactory(owner=rep, created_at=at(2026, 3, 25))
    CustomerFactory(owner=rep, created_at=at(2026, 4, 6, 0, 30))
    CustomerFactory(owner=other_team_rep, created_at=at(2026, 4, 1))


# The sweep


def test_lead_gets_last_weeks_report_of_their_team_once(tiny_section, week_data, lead, mailoutbox):
    subscribe(lead)

    result = reports.reports_sweep(now=NOW)

    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.kind, snapshot.period_start, snapshot.period_end) == (
        "week",
        LAST_WEEK,
        datetime.date(2026, 4, 6),
    )
    assert snapshot.status == ReportSnapshot.Status.READY
    assert snapshot.scope_key == f"teams:{lead.team_id}"
    assert snapshot.scope_label == "华东销售一组"
    # 31 March and 23:30 local on Sunday 5 April; not team B's, not 00:30 Monday 6 April.
    assert figure(snapshot, "new")["value"] == 2
    assert figure(snapshot, "new")["previous"] == 1
    assert figure(snapshot, "new")["change"] == 1.0
    assert figure(snapshot, "share")["value"] == 0.5
    table = snapshot.data["sections"][0]["tables"][0]
    assert table["rows"] == [{"owner": "rep", "n": 1}, {"owner": "teammate", "n": 1}]
    assert result.sent == 1
    [mail] = mailoutbox
    assert mail.to == [lead.email]
    assert "周报" in mail.subject or "Weekly" in mail.subject
    html = mail.alternatives[0][0]
    assert "小测试" in html and "+100.0%" in html and "50.0%" in html
    [(filename, content, mimetype)] = mail.attachments
    assert filename.endswith(".xlsx") and mimetype == reports.XLSX_TYPE
    workbook = load_workbook(io.BytesIO(content))
    assert len(workbook.sheetnames) == 2

    # The second run (and a third) builds nothing and sends nothing.
    assert reports.reports_sweep(now=NOW).sent == 0
    assert reports.reports_sweep(now=NOW + datetime.timedelta(hours=1)).sent == 0
    assert current_builds(LAST_WEEK) == [snapshot.scope_key]
    assert len(mailoutbox) == 1
    assert ReportDelivery.objects.get().status == ReportDelivery.Status.SENT


def test_subscribers_of_the_same_scope_share_one_snapshot(tiny_section, week_data, director, mailoutbox):
    other_director = UserFactory(username="director2", role=roles.SALES_DIRECTOR)
    subscribe(director)
    subscribe(other_director)
    # The same director subscribed twice to the same scope gets one e-mail.
    subscribe(director, team=None, frequency="month")

    reports.reports_sweep(now=NOW)

    weekly = ReportSnapshot.objects.get(kind="week")
    assert weekly.scope_key == "all"
    assert figure(weekly, "new")["value"] == 3  # every team
    assert ReportSnapshot.objects.filter(kind="month", period_start=LAST_MONTH).count() == 1
    assert current_builds(LAST_WEEK) == ["all"]
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(
        [director.email, other_director.email, director.email]
    )
    assert ReportDelivery.objects.filter(snapshot=weekly).count() == 2


def test_monthly_report_counts_2330_local_on_the_last_day_of_the_month(tiny_section, lead, rep, mailoutbox):
    CustomerFactory(owner=rep, created_at=at(2026, 3, 31, 23, 30))  # 15:30 UTC: still March
    CustomerFactory(owner=rep, created_at=at(2026, 4, 1, 0, 30))  # 16:30 UTC on 31 March: April
    CustomerFactory(owner=rep, created_at=at(2026, 2, 28, 23, 59))  # February (previous period)
    subscribe(lead, frequency="month")

    reports.reports_sweep(now=NOW)

    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.period_start, snapshot.period_end) == (LAST_MONTH, datetime.date(2026, 4, 1))
    assert figure(snapshot, "new")["value"] == 1
    assert figure(snapshot, "new")["previous"] == 1
    assert figure(snapshot, "new")["change"] == 0.0


def test_empty_period_shows_dash_for_rates_and_no_change(tiny_section, lead, mailoutbox):
    subscribe(lead)

    reports.reports_sweep(now=NOW)

    snapshot = ReportSnapshot.objects.get()
    assert figure(snapshot, "new")["value"] == 0
    assert figure(snapshot, "new")["change"] is None  # previous 0: no relative change
    assert figure(snapshot, "share")["value"] == 0.0
    html = snapshot.data["sections"][0]["html"]
    assert "—" in html
    assert "本期没有数据" in html or "Nothing in this period" in html


def test_manager_report_never_counts_other_teams(tiny_section, week_data, lead, other_lead, mailoutbox):
    subscribe(lead)
    subscribe(other_lead)

    reports.reports_sweep(now=NOW)

    mine = ReportSnapshot.objects.get(scope_key=f"teams:{lead.team_id}")
    theirs = ReportSnapshot.objects.get(scope_key=f"teams:{other_lead.team_id}")
    assert figure(mine, "new")["value"] == 2
    assert figure(theirs, "new")["value"] == 1
    assert set(reports.snapshots_visible_to(lead)) == {mine}
    assert set(reports.snapshots_visible_to(other_lead)) == {theirs}
    assert {mail.to[0]: mail for mail in mailoutbox}.keys() == {lead.email, other_lead.email}


def test_rep_sees_no_team_report(tiny_section, week_data, lead, rep, director):
    subscribe(lead)
    reports.reports_sweep(now=NOW)
    assert not reports.snapshots_visible_to(rep).exists()
    assert reports.snapshots_visible_to(director).count() == 1


def test_subscription_to_a_team_no_longer_led_is_skipped(tiny_section, lead, team_b, mailoutbox):
    subscribe(lead, team=team_b)
    reports.reports_sweep(now=NOW)
    assert not ReportSnapshot.objects.exists()
    assert not mailoutbox


def test_failed_email_is_retried_without_rebuilding_or_sending_twice(
    tiny_section, week_data, lead, mailoutbox, monkeypatch
):
    subscribe(lead)
    original_send = EmailMultiAlternatives.send

    def broken_send(self, *args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken_send)
    assert reports.reports_sweep(now=NOW).sent == 0
    delivery = ReportDelivery.objects.get()
    assert delivery.status == ReportDelivery.Status.SENDING
    assert "SMTP down" in delivery.error
    assert ReportSnapshot.objects.get().status == ReportSnapshot.Status.READY

    monkeypatch.setattr(EmailMultiAlternatives, "send", original_send)
    # Within the lease nobody retries (the worker may still be sending).
    assert reports.reports_sweep(now=NOW + datetime.timedelta(minutes=1)).sent == 0
    later = NOW + LEASE + datetime.timedelta(minutes=1)
    assert reports.reports_sweep(now=later).sent == 1
    assert reports.reports_sweep(now=later + LEASE * 2).sent == 0

    assert len(mailoutbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (ReportDelivery.Status.SENT, 2, "")
    assert current_builds(LAST_WEEK) == [f"teams:{lead.team_id}"]  # built once


def test_failed_build_is_retried_then_given_up(tiny_section, lead, monkeypatch, mailoutbox):
    subscribe(lead)

    def broken(scope, period):
        raise RuntimeError("boom")

    base.register(Section("broken", "坏的", broken, order=2))
    try:
        for _attempt in range(reports.MAX_BUILD_ATTEMPTS + 1):
            reports.reports_sweep(now=NOW)
    finally:
        base.unregister("broken")
    snapshot = ReportSnapshot.objects.get()
    assert snapshot.status == ReportSnapshot.Status.FAILED
    assert snapshot.attempts == reports.MAX_BUILD_ATTEMPTS
    assert "boom" in snapshot.error
    assert not mailoutbox


def test_build_left_by_a_dead_worker_is_taken_over_after_its_lease(tiny_section, lead, mailoutbox):
    scope = base.scope_for(lead)
    period = reports.last_complete_period("week", LAST_WEEK + datetime.timedelta(days=9))
    snapshot = reports.snapshot_plan(kind="week", period=period, scope=scope)
    ReportSnapshot.objects.filter(pk=snapshot.pk).update(
        status=ReportSnapshot.Status.BUILDING, lease_until=NOW + datetime.timedelta(minutes=5), attempts=1
    )
    assert not reports.snapshot_build(snapshot.pk, now=NOW)
    assert reports.snapshot_build(snapshot.pk, now=NOW + reports.BUILD_LEASE)
    snapshot.refresh_from_db()
    assert snapshot.status == ReportSnapshot.Status.READY


def test_inactive_recipient_is_skipped(tiny_section, lead, mailoutbox):
    subscribe(lead)
    reports.reports_sweep(now=NOW)
    assert len(mailoutbox) == 1
    mailoutbox.clear()
    # A new subscriber whose account is then disabled: the row is planned, never sent.
    director = UserFactory(username="director", role=roles.SALES_DIRECTOR, email="")
    subscribe(director)
    reports.reports_sweep(now=NOW)
    assert ReportDelivery.objects.get(recipient=director).status == ReportDelivery.Status.SKIPPED
    assert not mailoutbox


# Query budget


def test_directors_monthly_build_queries_are_bounded(tiny_section, director, rep, other_team_rep):
    """Every registered section (the tiny one here, the KPI sections once registered) aggregates
    in the database: 50 more customers cost no more queries."""
    subscribe(director, frequency="month")
    CustomerFactory(owner=rep, created_at=at(2026, 3, 10))
    scope = base.scope_for(director)
    period = reports.last_complete_period("month", NOW.date())

    first = reports.snapshot_plan(kind="month", period=period, scope=scope)
    with CaptureQueriesContext(connection) as small:
        assert reports.snapshot_build(first.pk, now=NOW)

    for day in range(1, 26):
        CustomerFactory(owner=rep, created_at=at(2026, 3, day))
        CustomerFactory(owner=other_team_rep, created_at=at(2026, 2, day))
    ReportSnapshot.objects.all().delete()
    second = reports.snapshot_plan(kind="month", period=period, scope=scope)
    with CaptureQueriesContext(connection) as large:
        assert reports.snapshot_build(second.pk, now=NOW)
    assert len(large) <= len(small)
    second.refresh_from_db()
    assert figure(second, "new")["value"] == 26
    assert figure(second, "new")["previous"] == 25


# Concurrency


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_data")
def test_two_workers_at_once_build_and_send_each_report_once(tiny_section, mailoutbox):
    from tests.conftest import make_lead
    from tests.factories.accounts import TeamFactory

    team = TeamFactory(name="华东销售一组")
    lead = make_lead(team, "lead")
    rep = UserFactory(username="rep", team=team, role=roles.SALES_REP)
    CustomerFactory(owner=rep, created_at=at(2026, 4, 1))
    subscribe(lead)
    subscribe(lead, frequency="month")
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            reports.reports_sweep(now=NOW)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert ReportSnapshot.objects.filter(status=ReportSnapshot.Status.READY).count() == 2
    assert current_builds(LAST_WEEK) == [f"teams:{team.pk}"]
    assert current_builds(LAST_MONTH) == [f"teams:{team.pk}"]
    assert sorted(mail.subject for mail in mailoutbox) == sorted(
        {mail.subject for mail in mailoutbox}
    )  # no subject twice
    assert len(mailoutbox) == 2
    assert ReportDelivery.objects.filter(status=ReportDelivery.Status.SENT).count() == 2
