"""The breach sweep three times at once, each on its own database connection: every breach is
flagged once with one timeline entry, every alert planned once and delivered once."""

import datetime
from datetime import UTC, timedelta

import pytest

from accounts import roles
from accounts.models import Notification
from service.models import SlaAlert, Ticket, TicketEvent
from service.services.alerts import sla_alerts_sweep
from tests.conftest import make_lead
from tests.factories.accounts import TeamFactory, UserFactory
from tests.factories.service import TicketFactory
from tests.interactions.test_reminder_worker import run_at_once

NOW = datetime.datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.mark.django_db(transaction=True)  # pytest-django runs transactional tests last
@pytest.mark.usefixtures("migration_data")
def test_three_sla_sweeps_at_once_flag_and_tell_each_breach_once(mailoutbox, settings):
    settings.SLA_WARNING_MINUTES = 60
    team = TeamFactory(name="客户服务部")
    manager = make_lead(team, "svc_lead")
    agents = [
        UserFactory(username=f"svc_agent{index}", team=team, role=roles.SERVICE_AGENT) for index in range(3)
    ]
    customer = TicketFactory().customer
    Ticket.objects.all().delete()
    for index in range(12):
        TicketFactory(
            customer=customer,
            assignee=agents[index % 3],
            first_response_due=NOW - timedelta(minutes=index + 1),
            # Even ones missed their resolution too; odd ones are warned of it (due in 30 minutes).
            resolution_due=NOW - timedelta(minutes=1) if index % 2 == 0 else NOW + timedelta(minutes=30),
        )

    results = run_at_once(lambda: sla_alerts_sweep(now=NOW, batch_size=3), times=3)

    # 12 + 6 breaches; each to the assignee and the manager, plus 6 warnings.
    assert sum(result.breached for result in results) == 18
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH).count() == 18
    assert sum(result.sent for result in results) == 18 * 2 + 6
    assert SlaAlert.objects.filter(status=SlaAlert.Status.SENT).count() == 42
    assert Notification.objects.count() == 42 and len(mailoutbox) == 42
    assert Notification.objects.filter(recipient=manager).count() == 18
    again = sla_alerts_sweep(now=NOW)
    assert (again.breached, again.planned, again.sent) == (0, 0, 0)
