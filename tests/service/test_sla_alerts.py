"""The breach sweep (service.services.alerts): breaches flagged once with one timeline entry, the
assignee told and the service manager escalated to, warnings before the due time, each alert
delivered once in the recipient's language; alerts skipped when the ticket changed since planning.

Every sweep takes ``now``: the tests move time by passing it, nothing is mocked."""

import datetime
from datetime import UTC, timedelta

import factory
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import roles
from accounts.models import Notification, NotificationEmailChoice
from service.models import SlaAlert, Ticket, TicketEvent
from service.services.alerts import (
    KIND_SLA_BREACH,
    KIND_SLA_ESCALATION,
    KIND_SLA_SOON,
    _running,
    sla_alerts_plan,
    sla_alerts_sweep,
)
from service.services.sla import sla_apply
from service.tasks.sla import send_sla_alerts
from tests.factories.accounts import UserFactory
from tests.factories.service import TicketFactory, queue

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
MINUTE = timedelta(minutes=1)
Status = Ticket.Status


@pytest.fixture(autouse=True)
def warning_minutes(settings):
    settings.SLA_WARNING_MINUTES = 60


@pytest.fixture
def english(service_manager, service_agent):
    for user in (service_manager, service_agent):
        user.language = "en"
        user.save(update_fields=["language"])


def late(
    assignee=None, *, response_minutes: int = 5, resolution_minutes: int | None = None, **fields
) -> Ticket:
    """A ticket whose first response was due ``response_minutes`` before NOW (resolution in the
    future unless told)."""
    values = {
        "assignee": assignee,
        "status": Status.ASSIGNED if assignee else Status.NEW,
        "created_at": NOW - timedelta(hours=3),
        "first_response_due": NOW - response_minutes * MINUTE,
        "resolution_due": NOW + timedelta(hours=20)
        if resolution_minutes is None
        else NOW - resolution_minutes * MINUTE,
    }
    return TicketFactory(**(values | fields))


def in_site_language(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def alerts(**filters) -> list[tuple[str, str, str]]:
    return sorted(
        SlaAlert.objects.filter(**filters).values_list("target", "step", "recipient__username", "status")
    )


# Breaches


def test_a_missed_first_response_is_flagged_told_and_escalated(
    service_agent, service_manager, english, mailoutbox
):
    ticket = late(service_agent, subject="投影仪无法开机")

    result = sla_alerts_sweep(now=NOW)

    assert (result.breached, result.planned, result.sent) == (1, 2, 2)
    ticket.refresh_from_db()
    assert (ticket.response_breached_at, ticket.resolution_breached_at) == (NOW, None)
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.at, event.actor) == (TicketEvent.Kind.BREACH, NOW, None)
    assert event.body == in_site_language("First response target missed")
    told = Notification.objects.get(recipient=service_agent)
    assert told.kind == KIND_SLA_BREACH
    assert told.title == f"First response overdue: ticket {ticket.number} 投影仪无法开机"
    assert told.url == ticket.get_absolute_url()
    assert "Assignee: " + str(service_agent) in told.body
    escalated = Notification.objects.get(recipient=service_manager)
    assert escalated.kind == KIND_SLA_ESCALATION
    assert escalated.title == (
        f"Escalation: ticket {ticket.number} ({service_agent}) missed its first response target"
    )
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [service_agent.email, service_manager.email]
    )
    mail = next(message for message in mailoutbox if message.to == [service_agent.email])
    assert mail.subject == told.title
    assert "First response due: 03/09/2026 9:55 a.m." in mail.body  # the recipient's time zone


def test_the_sweep_run_twice_flags_and_tells_once(service_agent, service_manager, mailoutbox):
    late(service_agent, resolution_minutes=1)
    first = sla_alerts_sweep(now=NOW)
    second = sla_alerts_sweep(now=NOW + 5 * MINUTE)

    assert (first.breached, first.sent) == (2, 4)
    assert (second.breached, second.planned, second.sent) == (0, 0, 0)
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH).count() == 2
    assert Notification.objects.count() == 4 and len(mailoutbox) == 4


def test_a_missed_resolution_is_flagged_apart_from_an_answered_first_response(service_agent, service_manager):
    ticket = late(service_agent, resolution_minutes=10, first_responded_at=NOW - timedelta(hours=2))

    sla_alerts_sweep(now=NOW)

    ticket.refresh_from_db()
    assert (ticket.response_breached_at, ticket.resolution_breached_at) == (None, NOW)
    assert TicketEvent.objects.get(ticket=ticket).body == in_site_language("Resolution target missed")
    assert alerts() == [
        ("resolution", "assignee", "service_agent", "sent"),
        ("resolution", "manager", "service_manager", "sent"),
    ]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"paused_at": NOW - timedelta(hours=1), "status": Status.WAITING}, id="waiting"),
        pytest.param({"first_responded_at": NOW - timedelta(hours=1)}, id="answered"),
        pytest.param({"resolved_at": NOW - timedelta(hours=1), "status": Status.RESOLVED}, id="resolved"),
        pytest.param({"status": Status.CLOSED}, id="closed"),
        pytest.param({"first_response_due": None}, id="no target"),
        pytest.param({"first_response_due": NOW + 2 * timedelta(hours=1)}, id="not due yet"),
    ],
)
def test_tickets_whose_clock_is_not_running_or_not_due_are_left_alone(service_agent, fields):
    ticket = late(service_agent, **fields)

    result = sla_alerts_sweep(now=NOW)

    assert (result.breached, result.planned) == (0, 0)
    ticket.refresh_from_db()
    assert ticket.response_breached_at is None
    assert not TicketEvent.objects.exists()


def test_a_ticket_breached_before_keeps_its_mark_and_event_when_due_again(service_agent, service_manager):
    ticket = late(service_agent, resolution_minutes=5, first_responded_at=NOW - timedelta(hours=2))
    sla_alerts_sweep(now=NOW)
    # Reopened: a new resolution target from now (the ticket stays marked: it did miss one).
    ticket.refresh_from_db()
    later = NOW + timedelta(days=1)
    sla_apply(ticket, later)
    ticket.save()

    result = sla_alerts_sweep(now=ticket.resolution_due + MINUTE)

    ticket.refresh_from_db()
    assert ticket.resolution_breached_at == NOW
    assert result.breached == 0
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH).count() == 1
    # The new due time earned its own alerts (and its warning before).
    assert SlaAlert.objects.filter(due_at=ticket.resolution_due, step="assignee").count() == 1
    assert SlaAlert.objects.filter(due_at=ticket.resolution_due, step="manager").count() == 1


# Who is told


def test_an_unassigned_ticket_is_told_to_the_queue_agents_and_their_lead(service_team, service_manager):
    agents = [
        UserFactory(username=f"queue_agent{i}", team=service_team, role=roles.SERVICE_AGENT) for i in range(2)
    ]
    gone = UserFactory(username="gone_agent", team=service_team, role=roles.SERVICE_AGENT, is_active=False)
    queue(Ticket.Type.REQUEST).agents.set([*agents, gone])
    late(None)

    sla_alerts_sweep(now=NOW)

    assert alerts() == [
        ("response", "assignee", "queue_agent0", "sent"),
        ("response", "assignee", "queue_agent1", "sent"),
        ("response", "manager", "service_manager", "sent"),
    ]


def test_without_a_team_lead_the_service_managers_are_escalated_to(service_manager):
    lone = UserFactory(username="lone_agent", role=roles.SERVICE_AGENT)  # in no team
    other_manager = UserFactory(username="other_manager", role=roles.SERVICE_MANAGER)
    UserFactory(username="retired_manager", role=roles.SERVICE_MANAGER, is_active=False)
    late(lone, queue=None)

    sla_alerts_sweep(now=NOW)

    assert alerts(step="manager") == [
        ("response", "manager", "other_manager", "sent"),
        ("response", "manager", "service_manager", "sent"),
    ]
    assert Notification.objects.filter(recipient=other_manager, kind=KIND_SLA_ESCALATION).count() == 1


def test_a_manager_handling_the_ticket_is_told_once_as_its_assignee(service_manager):
    late(service_manager)

    sla_alerts_sweep(now=NOW)

    assert alerts() == [("response", "assignee", "service_manager", "sent")]


def test_a_team_lead_who_left_is_replaced_by_the_service_managers(service_agent, service_manager):
    service_manager.is_active = False
    service_manager.save(update_fields=["is_active"])
    deputy = UserFactory(username="deputy", role=roles.SERVICE_MANAGER)
    late(service_agent)

    sla_alerts_sweep(now=NOW)

    assert alerts(step="manager") == [("response", "manager", deputy.username, "sent")]


# Warnings before the due time


def test_the_assignee_is_warned_before_the_due_time(service_agent, service_manager, english):
    ticket = late(service_agent, response_minutes=-30)  # due in 30 minutes
    late(service_agent, response_minutes=-90)  # due in 90 minutes: not yet

    result = sla_alerts_sweep(now=NOW)

    assert (result.breached, result.sent) == (0, 1)
    assert alerts() == [("response", "soon", "service_agent", "sent")]
    warned = Notification.objects.get()
    assert warned.kind == KIND_SLA_SOON
    assert (
        warned.title
        == f"First response due at 03/09/2026 10:30 a.m.: ticket {ticket.number} {ticket.subject}"
    )
    ticket.refresh_from_db()
    assert ticket.response_breached_at is None


def test_no_warning_when_warnings_are_switched_off(service_agent, settings):
    settings.SLA_WARNING_MINUTES = 0
    late(service_agent, response_minutes=-30)
    assert sla_alerts_sweep(now=NOW).planned == 0


# Skipped when the ticket changed since planning


def _plan_then(change) -> tuple[int, int]:
    sla_alerts_plan(now=NOW)
    change()
    result = sla_alerts_sweep(now=NOW)
    return result.sent, result.skipped


def test_alerts_of_a_ticket_answered_since_planning_are_skipped(service_agent, service_manager):
    ticket = late(service_agent)
    sent, skipped = _plan_then(lambda: Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=NOW))
    assert (sent, skipped) == (0, 2)
    assert not Notification.objects.exists()


def test_alerts_of_a_ticket_put_on_hold_or_resolved_since_planning_are_skipped(
    service_agent, service_manager
):
    waiting, resolved = late(service_agent), late(service_agent)

    def change():
        Ticket.objects.filter(pk=waiting.pk).update(paused_at=NOW, status=Status.WAITING)
        Ticket.objects.filter(pk=resolved.pk).update(resolved_at=NOW, status=Status.RESOLVED)

    assert _plan_then(change) == (0, 4)


def test_alerts_of_an_old_due_time_are_skipped(service_agent, service_manager):
    ticket = late(service_agent)
    sent, skipped = _plan_then(
        lambda: Ticket.objects.filter(pk=ticket.pk).update(first_response_due=NOW + timedelta(hours=3))
    )
    assert (sent, skipped) == (0, 2)


def test_a_reassigned_ticket_tells_the_new_assignee_not_the_old_one(
    service_agent, service_manager, service_team
):
    newcomer = UserFactory(username="newcomer", team=service_team, role=roles.SERVICE_AGENT)
    ticket = late(service_agent)

    sent, skipped = _plan_then(lambda: Ticket.objects.filter(pk=ticket.pk).update(assignee=newcomer))

    assert (sent, skipped) == (2, 1)  # the new assignee (planned on delivery's sweep) and the manager
    assert alerts(step="assignee") == [
        ("response", "assignee", "newcomer", "sent"),
        ("response", "assignee", "service_agent", "skipped"),
    ]


def test_an_inactive_recipient_is_skipped(service_agent, service_manager):
    late(service_agent)
    sent, skipped = _plan_then(
        lambda: type(service_agent).objects.filter(pk=service_agent.pk).update(is_active=False)
    )
    assert (sent, skipped) == (1, 1)


# E-mail preferences, the task, queries and indexes


def test_a_user_who_turned_the_e_mail_off_gets_the_notification_only(
    service_agent, service_manager, mailoutbox
):
    NotificationEmailChoice.objects.create(user=service_agent, kind=KIND_SLA_BREACH, email=False)
    late(service_agent)

    sla_alerts_sweep(now=NOW)

    assert Notification.objects.filter(recipient=service_agent).count() == 1
    assert [message.to for message in mailoutbox] == [[service_manager.email]]


def test_the_beat_task_sweeps_now_and_twice_is_harmless(service_agent, service_manager, mailoutbox):
    now = timezone.now()
    late(service_agent, first_response_due=now - MINUTE, resolution_due=now + timedelta(hours=8))

    assert send_sla_alerts() == 2
    assert send_sla_alerts() == 0
    assert len(mailoutbox) == 2


def test_planning_queries_do_not_grow_with_the_tickets(
    service_agent, service_manager, django_assert_max_num_queries
):
    late(service_agent, resolution_minutes=3)
    with django_assert_max_num_queries(20) as one:
        assert sla_alerts_plan(now=NOW) == 4
    for _index in range(30):
        late(service_agent, resolution_minutes=3)
    SlaAlert.objects.all().delete()
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert sla_alerts_plan(now=NOW) == 31 * 4


@pytest.mark.parametrize(
    ("target", "index"), [("response", "ticket_response_due"), ("resolution", "ticket_resolution_due")]
)
def test_the_candidate_queries_use_the_partial_due_indexes(target, index):
    customer = TicketFactory().customer
    TicketFactory.create_batch(
        300,
        customer=customer,
        first_response_due=factory.Sequence(lambda n: NOW + timedelta(hours=n - 2)),
        resolution_due=factory.Sequence(lambda n: NOW + timedelta(hours=n - 2)),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE service_ticket")
    field = "first_response_due" if target == "response" else "resolution_due"
    candidates = _running(target).filter(**{f"{field}__lt": NOW}).values("pk")
    sql, params = candidates.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


def test_another_team_lead_is_not_told(service_agent, service_manager, other_lead):
    late(service_agent)
    sla_alerts_sweep(now=NOW)
    assert not Notification.objects.filter(recipient=other_lead).exists()
