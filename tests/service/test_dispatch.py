"""Dispatch (派单): automatic to the least-loaded active agent of the type's queue, and by hand."""

import datetime
from datetime import UTC

import pytest
from django.utils import translation

from accounts import roles
from accounts.errors import DomainError
from service.models import Queue, Ticket, TicketEvent
from service.services.dispatch import assign, dispatch_auto, least_loaded_agent, least_loaded_agent_for_type
from tests.factories.accounts import TeamFactory, UserFactory
from tests.factories.service import TicketFactory, queue

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
Status = Ticket.Status


@pytest.fixture
def service_team(db):
    return TeamFactory(name="客户服务一组")


def make_agent(username: str, team=None, **fields):
    return UserFactory(username=username, team=team, role=roles.SERVICE_AGENT, **fields)


@pytest.fixture
def agents(service_team):
    """Three agents of the request queue, in pk order."""
    members = [make_agent(f"svc{index}", service_team) for index in range(3)]
    queue(Ticket.Type.REQUEST).agents.set(members)
    return members


def load(agent, count: int, status: str = Status.ASSIGNED, ticket_type: str = Ticket.Type.REQUEST) -> None:
    for _index in range(count):
        TicketFactory(assignee=agent, status=status, ticket_type=ticket_type)


def new_ticket(ticket_type: str = Ticket.Type.REQUEST) -> Ticket:
    return Ticket(
        ticket_type=ticket_type, subject="打印机卡纸", description="…", priority=Ticket.Priority.NORMAL
    )


# dispatch_auto


def test_new_ticket_goes_to_the_agent_with_the_fewest_open_tickets(agents, service_team):
    load(agents[0], 2)
    load(agents[1], 1)
    load(agents[2], 1, ticket_type=Ticket.Type.COMPLAINT)  # other queues' tickets count too
    load(agents[2], 3, status=Status.RESOLVED)  # resolved and closed ones do not
    load(agents[1], 1, status=Status.WAITING)  # waiting on the customer is still open

    ticket = new_ticket()
    agent = dispatch_auto(ticket, actor=None, now=NOW)

    assert agent == agents[2]
    assert (ticket.assignee, ticket.team_id, ticket.status) == (agents[2], service_team.pk, Status.ASSIGNED)
    assert ticket.queue == queue(Ticket.Type.REQUEST)


def test_inactive_agents_and_members_who_may_not_handle_tickets_are_skipped(agents):
    load(agents[1], 1)
    load(agents[2], 2)
    agents[0].is_active = False
    agents[0].save(update_fields=["is_active"])
    rep = UserFactory(username="sales_rep", role=roles.SALES_REP)  # added to the queue by mistake
    queue(Ticket.Type.REQUEST).agents.add(rep)

    assert dispatch_auto(new_ticket(), actor=None, now=NOW) == agents[1]


def test_a_tie_goes_to_the_agent_whose_last_ticket_is_oldest_then_lowest_pk(agents):
    for agent, hours in ((agents[0], 1), (agents[1], 5)):
        TicketEvent.objects.create(
            ticket=TicketFactory(status=Status.CLOSED),
            kind=TicketEvent.Kind.ASSIGNED,
            assignee=agent,
            at=NOW - datetime.timedelta(hours=hours),
        )
    # agents[2] never got one: first; then agents[1] (5 hours ago), then agents[0].
    assert [agent.username for agent in _order()] == ["svc2", "svc1", "svc0"]
    TicketEvent.objects.create(
        ticket=TicketFactory(status=Status.CLOSED), kind=TicketEvent.Kind.ASSIGNED, assignee=agents[2], at=NOW
    )
    assert least_loaded_agent(queue(Ticket.Type.REQUEST)) == agents[1]


def _order():
    from service.services.dispatch import agents_by_load

    return list(agents_by_load(queue(Ticket.Type.REQUEST)))


def test_tied_agents_never_assigned_go_by_lowest_pk(agents):
    assert least_loaded_agent(queue(Ticket.Type.REQUEST)) == agents[0]


def test_many_sequential_dispatches_balance_the_load(agents):
    load(agents[0], 5)
    for _index in range(13):
        ticket = TicketFactory.build(ticket_type=Ticket.Type.REQUEST, customer=TicketFactory().customer)
        dispatch_auto(ticket, actor=None, now=NOW)
        ticket.save()
    counts = [Ticket.objects.filter(assignee=agent).open().count() for agent in agents]
    assert counts == [6, 6, 6]


def test_picking_the_agent_is_one_query(agents, django_assert_num_queries):
    load(agents[0], 3)
    request_queue = queue(Ticket.Type.REQUEST)
    with django_assert_num_queries(1):
        assert least_loaded_agent(request_queue) == agents[1]
    with django_assert_num_queries(2):  # the queue, the agent
        dispatch_auto(new_ticket(), actor=None, now=NOW)


def test_without_an_active_agent_the_ticket_waits_new_in_the_queue():
    ticket = new_ticket(Ticket.Type.CONSULTATION)
    assert dispatch_auto(ticket, actor=None, now=NOW) is None
    assert (ticket.queue, ticket.assignee, ticket.team_id, ticket.status) == (
        queue(Ticket.Type.CONSULTATION),
        None,
        None,
        Status.NEW,
    )


def test_a_queue_without_automatic_dispatch_leaves_the_ticket_unassigned(agents):
    Queue.objects.filter(ticket_type=Ticket.Type.REQUEST).update(auto_dispatch=False)
    ticket = new_ticket()
    assert dispatch_auto(ticket, actor=None, now=NOW) is None
    assert (ticket.queue, ticket.status) == (queue(Ticket.Type.REQUEST), Status.NEW)


def test_an_inactive_queue_takes_no_tickets(agents):
    Queue.objects.filter(ticket_type=Ticket.Type.REQUEST).update(active=False)
    ticket = new_ticket()
    assert dispatch_auto(ticket, actor=None, now=NOW) is None
    assert ticket.queue is None


def test_the_after_sales_agent_is_the_least_loaded_of_the_after_sales_queue(service_team):
    first, second = make_agent("after1", service_team), make_agent("after2", service_team)
    queue(Ticket.Type.AFTER_SALES).agents.set([first, second])
    load(first, 1, ticket_type=Ticket.Type.AFTER_SALES)
    assert least_loaded_agent_for_type(Ticket.Type.AFTER_SALES) == second
    assert least_loaded_agent_for_type(Ticket.Type.CONSULTATION) is None


# assign


def test_assigning_a_new_ticket_makes_it_assigned_and_records_who_did_it(agents, service_team):
    manager = UserFactory(username="svc_manager", role=roles.SERVICE_MANAGER)
    ticket = TicketFactory()

    event = assign(ticket, agents[1], actor=manager, now=NOW)

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team, ticket.status) == (agents[1], service_team, Status.ASSIGNED)
    assert (event.kind, event.actor, event.assignee, event.at) == (
        TicketEvent.Kind.ASSIGNED,
        manager,
        agents[1],
        NOW,
    )
    assert (event.from_status, event.to_status) == (Status.NEW, Status.ASSIGNED)


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.WAITING])
def test_reassigning_keeps_a_ticket_in_progress_or_waiting(agents, status):
    other_team = TeamFactory(name="客户服务二组")
    colleague = make_agent("colleague", other_team)
    ticket = TicketFactory(assignee=agents[0], status=status)

    event = assign(ticket, colleague, actor=agents[0], now=NOW)

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team, ticket.status) == (colleague, other_team, status)
    assert (event.assignee, event.from_status, event.to_status) == (colleague, "", "")
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ASSIGNED).count() == 1


def test_an_inactive_user_cannot_be_given_a_ticket(agents):
    agents[1].is_active = False
    agents[1].save(update_fields=["is_active"])
    ticket = TicketFactory(assignee=agents[0])

    with pytest.raises(DomainError) as refused:
        assign(ticket, agents[1], actor=agents[0], now=NOW)

    assert refused.value.field == "assignee"
    ticket.refresh_from_db()
    assert ticket.assignee == agents[0]
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_a_user_who_may_not_handle_tickets_cannot_be_given_one(agents, rep):
    ticket = TicketFactory()
    with translation.override("en"), pytest.raises(DomainError, match="may not handle tickets"):
        assign(ticket, rep, actor=agents[0], now=NOW)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_same_assignee_again_is_refused(agents):
    ticket = TicketFactory(assignee=agents[0])
    with translation.override("en"), pytest.raises(DomainError, match="already handles"):
        assign(ticket, agents[0], actor=agents[0], now=NOW)


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_a_resolved_or_closed_ticket_is_reopened_before_reassigning(agents, status):
    ticket = TicketFactory(assignee=agents[0], status=status)
    with translation.override("en"), pytest.raises(DomainError, match="reopen it first"):
        assign(ticket, agents[1], actor=agents[0], now=NOW)
    ticket.refresh_from_db()
    assert ticket.assignee == agents[0]
