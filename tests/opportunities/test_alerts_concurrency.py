"""Stale-deal alerts and overdue-payment warnings with three sweeps at once, each on its own
database connection: every alert is planned once and delivered once."""

import datetime
from datetime import UTC
from decimal import Decimal

import pytest

from accounts.models import Notification
from opportunities.models import DealAlert, PaymentWarning
from opportunities.services.alerts import deal_alerts_sweep, payment_warnings_sweep
from tests.factories.accounts import TeamFactory, UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, stage
from tests.factories.orders import InstalmentFactory, OrderFactory
from tests.interactions.test_reminder_worker import run_at_once

NOW = datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = datetime.date(2026, 3, 10)
DAY = datetime.timedelta(days=1)


def _team_with_reps(name: str, count: int):
    from tests.conftest import make_lead

    team = TeamFactory(name=name)
    lead = make_lead(team, f"{name}_lead")
    return lead, [UserFactory(username=f"{name}_rep{index}", team=team) for index in range(count)]


@pytest.mark.django_db(transaction=True)  # pytest-django runs transactional tests last
@pytest.mark.usefixtures("migration_data")
def test_three_deal_alert_sweeps_at_once_tell_each_alert_once(mailoutbox, settings):
    settings.DEAL_ALERT_LEAD_AFTER_DAYS = 7
    lead, reps = _team_with_reps("alerts", 3)
    for index in range(12):
        OpportunityFactory(
            customer=CustomerFactory(owner=reps[index % 3]),
            stage=stage("需求分析"),
            stage_entered_at=NOW - (22 + index) * DAY,  # from index 7 on, past the lead's threshold
            next_step_date=TODAY - (index % 2) * DAY,  # odd ones: next step overdue too
        )

    results = run_at_once(lambda: deal_alerts_sweep(now=NOW, batch_size=3), times=3)

    # 12 stale to owners + 5 to the lead (index 7..11), 6 next steps to owners.
    assert sum(result.sent for result in results) == 23
    assert DealAlert.objects.filter(status=DealAlert.Status.SENT).count() == 23
    assert Notification.objects.count() == 23 and len(mailoutbox) == 23
    assert Notification.objects.filter(recipient=lead).count() == 5
    assert deal_alerts_sweep(now=NOW).planned == 0


@pytest.mark.django_db(transaction=True)  # pytest-django runs transactional tests last
@pytest.mark.usefixtures("migration_data")
def test_three_payment_warning_sweeps_at_once_warn_once(mailoutbox, settings):
    settings.PAYMENT_WARNING_LEAD_AFTER_DAYS = 3
    lead, reps = _team_with_reps("collect", 2)
    for index in range(10):
        order = OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=reps[index % 2])))
        InstalmentFactory(order=order, due_date=TODAY - (index + 1) * DAY, amount=Decimal("5000.00"))

    results = run_at_once(lambda: payment_warnings_sweep(now=NOW, batch_size=2), times=3)

    # 10 to owners, 7 (3 days overdue or more) to the lead.
    assert sum(result.sent for result in results) == 17
    assert PaymentWarning.objects.filter(status=PaymentWarning.Status.SENT).count() == 17
    assert Notification.objects.filter(recipient=lead).count() == 7
    assert len(mailoutbox) == 17
    assert payment_warnings_sweep(now=NOW).planned == 0
