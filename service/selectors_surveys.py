"""Reads of satisfaction surveys (满意度) and purchases: the managers' results page, the ticket
page's survey line and the customer page's "Purchases" panel.

Who sees a survey: all-scope roles every one; others those of the customers they see (customers'
scope) and those of the tickets they see (tickets' scope: a service manager sees the surveys of
their team's tickets).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Avg, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models import Case as CaseWhen
from django.db.models.functions import Cast, Concat, ExtractQuarter, ExtractYear
from django.utils import timezone

from accounts.access import Scope, scope_of
from customers.models import Customer
from interactions.models import FollowUpTask
from service.models import Purchase, SurveyInvitation, Ticket
from service.services.surveys import period_bounds, period_of

COMMENTS = 20
PERIODS = 8
PURCHASE_ROWS = 5


def surveys_visible_to(user) -> QuerySet[SurveyInvitation]:
    surveys = SurveyInvitation.objects.filter(customer__deleted_at__isnull=True)
    # Service managers answer for satisfaction across the company (SPEC 5).
    if scope_of(user) is Scope.ALL or user.has_perm("service.view_all_surveys"):
        return surveys
    return surveys.filter(
        Customer.objects.scope_q(user, prefix="customer__") | Ticket.objects.scope_q(user, prefix="ticket__")
    )


def recent_periods(now: datetime.datetime, count: int = PERIODS) -> list[str]:
    """This quarter and the ones before it, newest first: "2026Q4", "2026Q3", …"""
    local = timezone.localtime(now)
    year, quarter = local.year, (local.month - 1) // 3 + 1
    periods = []
    for _index in range(count):
        periods.append(f"{year}Q{quarter}")
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return periods


def _period_label():
    """A survey's quarter: the quarterly survey's own period, else the quarter it was made in."""
    made_in = Concat(
        Cast(ExtractYear("created_at"), CharField()),
        Value("Q"),
        Cast(ExtractQuarter("created_at"), CharField()),
        output_field=CharField(),
    )
    return CaseWhen(
        When(kind=SurveyInvitation.Kind.QUARTERLY, then=F("period")),
        default=made_in,
        output_field=CharField(),
    )


@dataclass(frozen=True)
class SurveyResults:
    rows: list[dict]  # per quarter and kind: invited, sent, answered, average, low
    distribution: list[tuple[int, int, int]]  # (rating, count, percent of the answers)
    answered: int
    average: float | None
    comments: list[SurveyInvitation]


def survey_results(user, *, period: str = "", kind: str = "") -> SurveyResults:
    """The results page in three queries: the table per quarter and kind, the distribution of
    scores 1–5 with the average, and the latest comments. A quarter filters by when the
    invitations were made (the quarterly survey is made in its own quarter)."""
    surveys = surveys_visible_to(user)
    if period:
        start, end = period_bounds(period)
        surveys = surveys.filter(created_at__gte=start, created_at__lt=end)
    if kind:
        surveys = surveys.filter(kind=kind)
    with timezone.override(settings.TIME_ZONE):
        rows = list(
            surveys.annotate(quarter=_period_label())
            .order_by()
            .values("quarter", "kind")
            .annotate(
                invited=Count("pk"),
                sent=Count("pk", filter=Q(sent_at__isnull=False)),
                answered=Count("pk", filter=Q(answered_at__isnull=False)),
                average=Avg("rating"),
                low=Count("pk", filter=Q(rating__lte=settings.SURVEY_LOW_SCORE)),
            )
            .order_by("-quarter", "kind")
        )
    kinds = dict(SurveyInvitation.Kind.choices)
    for row in rows:
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
        row["rate"] = round(100 * row["answered"] / row["invited"]) if row["invited"] else 0
    totals = surveys.aggregate(
        average=Avg("rating"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        **{f"r{rating}": Count("pk", filter=Q(rating=rating)) for rating in range(1, 6)},
    )
    answered = totals["answered"]
    distribution = [
        (rating, totals[f"r{rating}"], round(100 * totals[f"r{rating}"] / answered) if answered else 0)
        for rating in range(5, 0, -1)
    ]
    comments = list(
        surveys.filter(answered_at__isnull=False)
        .exclude(comment="")
        .select_related("customer", "ticket")
        .order_by("-answered_at", "-pk")[:COMMENTS]
    )
    return SurveyResults(rows, distribution, answered, totals["average"], comments)


def ticket_survey(ticket: Ticket) -> SurveyInvitation | None:
    """The satisfaction survey of a ticket, if it has one (the ticket page shows its state)."""
    return SurveyInvitation.objects.filter(ticket=ticket, kind=SurveyInvitation.Kind.TICKET).first()


def ticket_survey_for_resend(user, ticket_pk: int) -> SurveyInvitation | None:
    """The unanswered survey of a ticket the user sees (None: no ticket in scope or no survey)."""
    return (
        SurveyInvitation.objects.filter(
            ticket__in=Ticket.objects.visible_to(user), ticket_id=ticket_pk, kind=SurveyInvitation.Kind.TICKET
        )
        .select_related("ticket", "customer")
        .first()
    )


def customer_purchases(customer: Customer) -> dict:
    """The customer page's "Purchases" panel: the newest purchases, each with its after-sales
    call (the follow-up task, by its care key), in two queries."""
    rows = list(Purchase.objects.filter(customer=customer).select_related("created_by")[: PURCHASE_ROWS + 1])
    more = len(rows) > PURCHASE_ROWS
    rows = rows[:PURCHASE_ROWS]
    keys = {f"aftersales:purchase:{purchase.pk}": purchase for purchase in rows}
    calls = FollowUpTask.objects.filter(care_key__in=list(keys)).select_related("owner") if keys else []
    for purchase in rows:
        purchase.call = None
    for task in calls:
        keys[task.care_key].call = task
    return {"purchases": rows, "more_purchases": more}


def current_period() -> str:
    return period_of(timezone.now())
