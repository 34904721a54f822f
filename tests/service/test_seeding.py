"""``seed_demo`` for the service app: tickets of every type and status with realistic timelines,
satisfaction surveys (answered, unanswered, low scores), purchases; idempotent and scalable."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from interactions.models import FollowUpTask
from service.models import Purchase, Queue, SurveyInvitation, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", *args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, int, int, int]:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        SurveyInvitation.objects.count(),
        Purchase.objects.count(),
    )


def test_seed_demo_creates_tickets_of_every_type_and_status_with_timelines():
    seed()

    combos = set(Ticket.objects.values_list("ticket_type", "status"))
    assert combos == {(kind, status) for kind in Ticket.Type.values for status in Ticket.Status.values}
    agents = User.objects.filter(username__in=["agent1", "agent2"])
    for queue in Queue.objects.all():
        assert set(queue.agents.all()) >= set(agents)
    now = timezone.now()
    assert not TicketEvent.objects.filter(at__gt=now).exists()
    assert not TicketEvent.objects.filter(at__lt=F("ticket__created_at")).exists()
    assert not Ticket.objects.filter(first_responded_at__lt=F("created_at")).exists()
    assert not Ticket.objects.annotate(n=Count("events")).filter(n=0).exists()
    # Timings follow the status: who holds it, when it was answered, resolved, closed.
    assert not Ticket.objects.filter(status="new").exclude(assignee=None).exists()
    assert not Ticket.objects.exclude(status="new").filter(assignee=None).exists()
    assert (
        not Ticket.objects.filter(status__in=["resolved", "closed"])
        .filter(Q(resolved_at=None) | Q(resolution="") | Q(resolution_category=None))
        .exists()
    )
    assert not Ticket.objects.filter(status="closed", closed_at=None).exists()
    assert not Ticket.objects.filter(status="waiting", paused_at=None).exists()
    assert not Ticket.objects.exclude(status="waiting").exclude(paused_at=None).exists()
    assert Ticket.objects.exclude(response_breached_at=None).exists()  # some missed targets
    assert Ticket.objects.filter(response_breached_at=None).exclude(first_responded_at=None).exists()
    assert set(TicketEvent.objects.values_list("kind", flat=True)) >= {
        "created", "assigned", "status", "reply", "note", "rating"
    }  # fmt: skip
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) and all(number.startswith("S") for number in numbers)
    # Surveys: answered and not, a few low scores with their improvement task.
    surveys = SurveyInvitation.objects.all()
    assert surveys.filter(kind="ticket", answered_at__isnull=False).exists()
    assert surveys.filter(kind="ticket", answered_at__isnull=True).exists()
    assert surveys.filter(kind="quarterly").exists()
    assert not surveys.filter(kind="ticket").exclude(ticket__status="closed").exists()
    low = surveys.filter(kind="ticket", rating__lte=2, answered_at__gt=now - datetime.timedelta(days=30))
    for survey in low:
        assert FollowUpTask.objects.filter(
            care_key=f"survey:{survey.pk}", owner__username="svcmanager"
        ).exists()
    # Purchases with their after-sales calls.
    for purchase in Purchase.objects.all():
        assert FollowUpTask.objects.filter(care_key=f"aftersales:purchase:{purchase.pk}").exists()


def test_seed_demo_twice_adds_nothing_and_scales_with_generated_customers():
    seed()
    first = counts()
    seed()
    assert counts() == first

    seed("--customers", "400")
    tickets = Ticket.objects.count()
    assert tickets > first[0] + 30  # about one in five of 400
    seed()
    assert Ticket.objects.count() == tickets
