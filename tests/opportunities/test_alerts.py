"""Stale-deal alerts and overdue-payment warnings (回款预警): who is told, when, once; what is
skipped when the record changed since planning; Asia/Shanghai day edges.

Every sweep takes ``now``: the tests move time by passing it, nothing is mocked."""

import datetime
from datetime import UTC
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Notification, NotificationEmailChoice
from opportunities.models import DealAlert, Order, PaymentWarning
from opportunities.services.alerts import (
    KIND_DEAL_NEXT_STEP,
    KIND_DEAL_STALE,
    KIND_DEAL_TEAM,
    KIND_PAYMENT_OVERDUE,
    KIND_PAYMENT_TEAM,
    deal_alerts_plan,
    deal_alerts_sweep,
    payment_warnings_plan,
    payment_warnings_sweep,
)
from opportunities.tasks.alerts import send_deal_alerts, send_payment_warnings
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, stage
from tests.factories.orders import InstalmentFactory, OrderFactory, PaymentFactory, settle

pytestmark = pytest.mark.django_db

# 10:00 in Shanghai on 2026-03-10.
NOW = datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
TODAY = datetime.date(2026, 3, 10)
DAY = datetime.timedelta(days=1)
ANALYSIS_DAYS = 21  # 需求分析's expected days (migration 0002)


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.DEAL_ALERT_LEAD_AFTER_DAYS = 7
    settings.PAYMENT_WARNING_LEAD_AFTER_DAYS = 3


@pytest.fixture
def english(rep, lead):
    for user in (rep, lead):
        user.language = "en"
        user.save(update_fields=["language"])


def stale(owner, *, days: int = ANALYSIS_DAYS + 1, **fields):
    """An opportunity of ``owner`` in 需求分析 since ``days`` before NOW, next step in the future."""
    values = {"stage": stage("需求分析"), "next_step_date": TODAY + 3 * DAY} | fields
    return OpportunityFactory(
        customer=CustomerFactory(owner=owner), stage_entered_at=NOW - days * DAY, **values
    )


def next_step_late(owner, *, days: int = 1, **fields):
    """A fresh opportunity whose next step was ``days`` days before today."""
    return OpportunityFactory(
        customer=CustomerFactory(owner=owner),
        stage_entered_at=NOW - DAY,
        next_step_date=TODAY - days * DAY,
        **fields,
    )


# Stale-deal alerts


def test_owner_is_told_of_an_opportunity_over_its_stage_expected_days(rep, english, mailoutbox):
    opportunity = stale(rep, name="数据平台建设")

    result = deal_alerts_sweep(now=NOW)

    assert (result.planned, result.sent) == (1, 1)
    notification = Notification.objects.get()
    assert notification.recipient == rep and notification.kind == KIND_DEAL_STALE
    assert notification.title == "Stalled opportunity: 数据平台建设 has been in Needs analysis for 22 days"
    assert "Stage: Needs analysis (expected 21 days)" in notification.body
    assert "Amount: ¥100,000" in notification.body and "Owner:" not in notification.body
    assert notification.url == opportunity.get_absolute_url()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [rep.email]
    assert mailoutbox[0].subject == notification.title
    assert opportunity.get_absolute_url() in mailoutbox[0].body
    alert = DealAlert.objects.get()
    assert (alert.reason, alert.step, alert.status) == (DealAlert.STALE, "owner", DealAlert.Status.SENT)


def test_opportunities_within_their_expected_days_or_closed_get_no_alert(rep):
    stale(rep, days=ANALYSIS_DAYS - 1)
    stale(rep, closed_at=NOW - DAY, stage=stage("赢单"))
    OpportunityFactory(customer=CustomerFactory(owner=rep), stage_entered_at=NOW, next_step_date=TODAY)

    assert deal_alerts_sweep(now=NOW).planned == 0
    assert not Notification.objects.exists() and not DealAlert.objects.exists()


def test_an_overdue_next_step_is_told_to_the_owner(rep, english):
    opportunity = next_step_late(rep, days=2, next_step="发送报价单")

    assert deal_alerts_sweep(now=NOW).sent == 1

    notification = Notification.objects.get()
    assert notification.kind == KIND_DEAL_NEXT_STEP
    assert notification.title == f"Next step 2 days overdue: 发送报价单 ({opportunity.name})"
    alert = DealAlert.objects.get()
    assert alert.reason == DealAlert.NEXT_STEP_OVERDUE and alert.anchor == "2026-03-08"


def test_the_next_step_becomes_overdue_at_local_midnight(rep):
    next_step_late(rep, days=0)  # today in Shanghai

    assert deal_alerts_sweep(now=NOW).planned == 0
    # 2026-03-10 16:00 UTC is 00:00 on 2026-03-11 in Shanghai.
    assert deal_alerts_sweep(now=datetime.datetime(2026, 3, 10, 15, 59, tzinfo=UTC)).planned == 0
    assert deal_alerts_sweep(now=datetime.datetime(2026, 3, 10, 16, 0, tzinfo=UTC)).sent == 1


def test_past_the_threshold_the_team_lead_is_told_too(rep, lead, english):
    stale(rep, days=ANALYSIS_DAYS + 7)  # not yet past expectation + 7 days
    late = stale(rep, days=ANALYSIS_DAYS + 8, name="老机会")
    next_step_late(rep, days=8)

    result = deal_alerts_sweep(now=NOW)

    assert result.sent == 5  # three to the owner, two to the lead
    to_lead = Notification.objects.filter(recipient=lead).order_by("title")
    assert {notification.kind for notification in to_lead} == {KIND_DEAL_TEAM}
    assert any(
        notification.title == f"{rep}'s opportunity 老机会 has been in Needs analysis for 29 days"
        for notification in to_lead
    )
    assert all(f"Owner: {rep}" in notification.body for notification in to_lead)
    assert DealAlert.objects.get(opportunity=late, step="lead").recipient == lead


def test_a_rerun_plans_and_sends_nothing(rep, lead, mailoutbox):
    stale(rep, days=ANALYSIS_DAYS + 10)
    next_step_late(rep, days=10)

    first = deal_alerts_sweep(now=NOW)
    second = deal_alerts_sweep(now=NOW + datetime.timedelta(hours=1))

    assert first.sent == 4 and (second.planned, second.sent, second.skipped) == (0, 0, 0)
    assert Notification.objects.count() == 4 and len(mailoutbox) == 4


def test_alerts_planned_then_overtaken_are_skipped(rep, lead):
    moved = stale(rep)
    closed = stale(rep)
    new_next_step = next_step_late(rep)
    reassigned = stale(rep)
    assert deal_alerts_plan(now=NOW) == 4
    # Meanwhile: moved on, won, a new (still overdue) next step, another owner.
    moved.stage, moved.stage_entered_at = stage("方案报价"), NOW - DAY
    moved.save()
    closed.closed_at, closed.stage = NOW, stage("赢单")
    closed.save()
    new_next_step.next_step_date = TODAY - 2 * DAY
    new_next_step.save()
    reassigned.owner = UserFactory(username="new_owner", team=rep.team)
    reassigned.save()

    result = deal_alerts_sweep(now=NOW)

    # The four rows planned are skipped; the new next step and the new owner each earn one.
    assert result.skipped == 4 and result.sent == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"rep", "new_owner"}
    assert DealAlert.objects.filter(opportunity=new_next_step, anchor="2026-03-08").exists()


def test_a_new_stage_earns_a_new_alert_once_it_is_stale_again(rep):
    opportunity = stale(rep, next_step_date=TODAY + 30 * DAY)
    assert deal_alerts_sweep(now=NOW).sent == 1
    opportunity.stage, opportunity.stage_entered_at = stage("方案报价"), NOW
    opportunity.save()

    assert deal_alerts_sweep(now=NOW + 14 * DAY).planned == 0
    assert deal_alerts_sweep(now=NOW + 15 * DAY).sent == 1
    assert DealAlert.objects.filter(opportunity=opportunity, reason=DealAlert.STALE).count() == 2


def test_a_lead_owning_the_opportunity_is_told_once(lead):
    stale(lead, days=ANALYSIS_DAYS + 10)

    result = deal_alerts_sweep(now=NOW)

    assert result.sent == 1 and Notification.objects.get().recipient == lead
    assert DealAlert.objects.get(step="lead").status == DealAlert.Status.SKIPPED
    assert deal_alerts_sweep(now=NOW).planned == 0


def test_deleted_customers_and_inactive_owners_get_no_alerts(rep, teammate):
    gone = stale(teammate)
    gone.customer.deleted_at = NOW - DAY
    gone.customer.save()
    stale(rep)
    rep.is_active = False
    rep.save()

    result = deal_alerts_sweep(now=NOW)

    assert (result.sent, result.skipped) == (0, 1)  # rep's row, planned then skipped
    assert not DealAlert.objects.filter(opportunity=gone).exists()
    assert not Notification.objects.exists()


def test_alerts_are_written_in_the_recipients_language(rep, lead, mailoutbox):
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    stale(rep, days=ANALYSIS_DAYS + 10)

    deal_alerts_sweep(now=NOW)

    to_rep = Notification.objects.get(recipient=rep)
    assert "客户：" in to_rep.body
    assert "需求分析" in to_rep.title
    assert "负责人：" in Notification.objects.get(recipient=lead).body


def test_e_mail_follows_the_users_choice(rep, mailoutbox):
    NotificationEmailChoice.objects.create(user=rep, kind=KIND_DEAL_STALE, email=False)
    stale(rep)

    assert deal_alerts_sweep(now=NOW).sent == 1
    assert Notification.objects.filter(recipient=rep).exists() and mailoutbox == []


def test_planning_takes_a_bounded_number_of_queries(rep, lead, django_assert_max_num_queries):
    for _ in range(3):
        stale(rep, days=ANALYSIS_DAYS + 10)
        next_step_late(rep, days=10)
    with django_assert_max_num_queries(16) as few:
        deal_alerts_plan(now=NOW, batch_size=100)
    DealAlert.objects.all().delete()
    for _ in range(30):
        stale(rep, days=ANALYSIS_DAYS + 10)
        next_step_late(rep, days=10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert deal_alerts_plan(now=NOW, batch_size=100) == 33 * 4


def test_the_beat_task_run_twice_alerts_once(rep):
    from django.utils import timezone

    OpportunityFactory(
        customer=CustomerFactory(owner=rep), stage_entered_at=timezone.now() - (ANALYSIS_DAYS + 1) * DAY
    )

    assert send_deal_alerts() == 1
    assert send_deal_alerts() == 0
    assert Notification.objects.filter(recipient=rep, kind=KIND_DEAL_STALE).count() == 1


# Overdue-payment warnings (回款预警)


def order_of(owner, **fields) -> Order:
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=owner, name="杭州云帆科技有限公司"))
    return OrderFactory(
        opportunity=opportunity, number="HT202603010001", amount=Decimal("300000.00"), **fields
    )


def due(order, days_before_today: int, amount: str = "100000.00", sequence: int = 1):
    return InstalmentFactory(
        order=order, sequence=sequence, due_date=TODAY - days_before_today * DAY, amount=Decimal(amount)
    )


def test_owner_is_warned_of_an_overdue_instalment(rep, english, mailoutbox):
    order = order_of(rep)
    due(order, 2)
    due(order, 0, sequence=2)  # due today: not overdue yet
    due(order, -5, sequence=3)

    result = payment_warnings_sweep(now=NOW)

    assert (result.planned, result.sent) == (1, 1)
    notification = Notification.objects.get()
    assert notification.kind == KIND_PAYMENT_OVERDUE and notification.recipient == rep
    assert notification.title == (
        "Overdue payment: ¥100,000 of order HT202603010001 (杭州云帆科技有限公司), 2 days overdue"
    )
    assert "Instalment 1: ¥100,000 outstanding of ¥100,000" in notification.body
    assert "Due date: 3/8/2026" in notification.body or "Due date: 03/08/2026" in notification.body
    assert notification.url == reverse("opportunities:order-detail", args=[order.pk])
    assert len(mailoutbox) == 1 and notification.url in mailoutbox[0].body


def test_the_outstanding_part_of_a_partly_paid_instalment_is_shown(rep, english):
    order = order_of(rep)
    due(order, 1)
    PaymentFactory(order=order, amount=Decimal("40000.00"))
    settle(order)

    payment_warnings_sweep(now=NOW)

    assert "¥60,000 of order" in Notification.objects.get().title


def test_past_the_threshold_the_team_lead_is_warned_too(rep, lead, english):
    order = order_of(rep)
    due(order, 3)
    due(order, 4, sequence=2)

    result = payment_warnings_sweep(now=NOW)

    assert result.sent == 3  # two to the owner, the one 4 days overdue to the lead
    warning = Notification.objects.get(recipient=lead)
    assert warning.kind == KIND_PAYMENT_TEAM
    assert (
        warning.title.startswith(f"{rep}'s customer 杭州云帆科技有限公司:")
        and "4 days overdue" in warning.title
    )
    assert f"Owner: {rep}" in warning.body


def test_a_rerun_warns_nobody_twice(rep, lead, mailoutbox):
    due(order_of(rep), 10)

    assert payment_warnings_sweep(now=NOW).sent == 2
    again = payment_warnings_sweep(now=NOW + DAY)
    assert (again.planned, again.sent) == (0, 0)
    assert Notification.objects.count() == 2 and len(mailoutbox) == 2


def test_settled_cancelled_or_rescheduled_since_planning_is_skipped(rep):
    settled_order = order_of(rep)
    due(settled_order, 1)
    cancelled = OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)))
    due(cancelled, 1)
    moved = due(OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep))), 1)
    assert payment_warnings_plan(now=NOW) == 3
    PaymentFactory(order=settled_order, amount=Decimal("100000.00"))
    settle(settled_order)
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    moved.due_date = TODAY + 10 * DAY
    moved.save()

    result = payment_warnings_sweep(now=NOW)

    assert (result.sent, result.skipped) == (0, 3)
    assert not Notification.objects.exists()
    assert set(PaymentWarning.objects.values_list("status", flat=True)) == {PaymentWarning.Status.SKIPPED}


def test_a_team_without_lead_warns_the_owner_only(teammate, team_a):
    team_a.lead = None
    team_a.save()
    due(order_of(teammate), 10)

    result = payment_warnings_sweep(now=NOW)

    assert result.sent == 1
    assert PaymentWarning.objects.get(step="lead").status == PaymentWarning.Status.SKIPPED


def test_payment_warnings_beat_task_run_twice_warns_once(rep):
    from django.utils import timezone

    InstalmentFactory(order=order_of(rep), due_date=timezone.localdate() - DAY)

    assert send_payment_warnings() == 1
    assert send_payment_warnings() == 0


def test_an_order_given_to_another_rep_warns_its_new_owner(rep, teammate):
    order = order_of(rep)
    due(order, 1)
    assert payment_warnings_sweep(now=NOW).sent == 1
    Order.objects.filter(pk=order.pk).update(owner=teammate)

    result = payment_warnings_sweep(now=NOW + DAY)

    assert result.sent == 1
    assert Notification.objects.filter(recipient=teammate, kind=KIND_PAYMENT_OVERDUE).count() == 1
