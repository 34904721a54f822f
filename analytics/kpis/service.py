"""Service KPIs (服务): tickets opened by type, first-response and resolution times, service-level
breaches, complaint rate and satisfaction (CSAT) of SPEC 7.

Scope rule: a ticket counts for whoever *handles* it (its ``assignee`` and the assignee's
``team``, as the service desk scopes agents and service managers) and for whoever *owns its
customer* (``customer__owner`` and ``customer__team``, as sales reps and sales managers follow the
tickets of their customers). So a rep's figures are the tickets of their own customers, a sales
manager's those of the team's customers, an agent's the tickets they hold, a service manager's
those of their team's agents, and a director's all of them. A survey answer counts through its
ticket's handler, or through its customer's owner (quarterly surveys have no ticket).

Definitions (the help texts say the same to the user):

- tickets opened = tickets created in the period;
- first-response time = average hours from creation to the first response, over tickets opened in
  the period that have had a response; resolution time = average hours from creation to
  resolution, over tickets resolved in the period. Both on the wall clock (the service-level
  clock's business hours and pauses are not subtracted);
- service-level breaches = tickets whose first-response or resolution target was missed in the
  period (the breach time falls in it); breach rate = tickets opened in the period that have missed
  a target / tickets opened in the period;
- complaint rate = complaints opened / tickets opened in the period;
- CSAT = average rating (1–5) and share of ratings of 4 or 5, over the survey answers given in the
  period, after tickets and quarterly separately.

Queries: five, whatever the data size (tickets opened by type with their conditional aggregates,
tickets resolved, breaches, survey answers by kind, and whether the scope's one person is a
service user, for the desk link).
"""

import datetime
from urllib.parse import urlencode

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import Scope as Visibility
from accounts.access import scope_of
from analytics import base
from analytics.base import (
    COUNT,
    HOURS,
    PERCENT,
    SCORE,
    Column,
    Figure,
    Period,
    Scope,
    Section,
    SectionResult,
    Table,
    rate,
)
from service.models import SurveyInvitation, Ticket
from service.selectors import TAB_ALL, service_users

KEY = "service"
ORDER = 60
TITLE = gettext_lazy("Service")
GOOD_RATING = 4  # CSAT counts ratings of 4 and 5 as satisfied


def ticket_scope_q(scope: Scope) -> Q:
    """Handled by the scope (assignee, assignee's team) or of the scope's customers."""
    handled = scope.q(owner="assignee", team="team")
    customers = scope.q(owner="customer__owner", team="customer__team")
    if not handled and not customers:
        return Q()  # everything (a director without filters)
    return handled | customers


def _tickets(scope: Scope) -> QuerySet[Ticket]:
    return Ticket.objects.filter(ticket_scope_q(scope))


def _hours(duration: datetime.timedelta | None) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 3600, 2)


def _since_created(field: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(field) - F("created_at"), output_field=DurationField())


def _desk_url(scope: Scope, period: Period | None, assignee: bool, **params) -> str:
    """The desk's "all" tab (in the viewer's own scope), with the period's opening dates and, for
    one service person, their tickets. The desk has no team filter: the viewer's scope stands in."""
    query: dict = {"tab": TAB_ALL}
    if period is not None:
        query["created_from"] = period.start.isoformat()
        query["created_to"] = (period.end - datetime.timedelta(days=1)).isoformat()
    if assignee:
        query["assignee"] = scope.owner_id
    return reverse("service:desk") + "?" + urlencode(query | params)


def build(scope: Scope, period: Period) -> SectionResult:
    start, end = period.bounds()
    opened_in = {"created_at__gte": start, "created_at__lt": end}
    breached = Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)

    # 1. Tickets opened, by type, with what the opened ones share (first response, breaches).
    by_type = {
        row["ticket_type"]: row
        for row in _tickets(scope)
        .filter(**opened_in)
        .order_by()
        .values("ticket_type")
        .annotate(
            n=Count("pk"),
            breached=Count("pk", filter=breached),
            responded=Count("pk", filter=Q(first_responded_at__isnull=False)),
            response_total=Sum(_since_created("first_responded_at")),
        )
    }
    opened = sum(row["n"] for row in by_type.values())
    opened_breached = sum(row["breached"] for row in by_type.values())
    complaints = by_type.get(Ticket.Type.COMPLAINT, {}).get("n", 0)
    responded = sum(row["responded"] for row in by_type.values())
    # Summed per type, averaged over all of them (the no-response tickets add nothing).
    response_total = sum(
        (row["response_total"] or datetime.timedelta() for row in by_type.values()), datetime.timedelta()
    )
    response_hours = _hours(response_total / responded) if responded else None

    # 2. Resolution time of the tickets resolved in the period.
    resolved = (
        _tickets(scope)
        .filter(resolved_at__gte=start, resolved_at__lt=end)
        .aggregate(n=Count("pk"), avg=Avg(_since_created("resolved_at")))
    )

    # 3. Breaches that happened in the period.
    breaches = (
        _tickets(scope)
        .filter(
            Q(response_breached_at__gte=start, response_breached_at__lt=end)
            | Q(resolution_breached_at__gte=start, resolution_breached_at__lt=end)
        )
        .count()
    )

    # 4. Survey answers given in the period, by kind.
    surveys = {
        row["kind"]: row
        for row in SurveyInvitation.objects.filter(
            _survey_scope_q(scope), answered_at__gte=start, answered_at__lt=end, rating__isnull=False
        )
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"), avg=Avg("rating"), good=Count("pk", filter=Q(rating__gte=GOOD_RATING)))
    }

    # 5. One service person's numbers link to the desk filtered by assignee.
    assignee = scope.owner_id is not None and service_users().filter(pk=scope.owner_id).exists()

    def desk(**params) -> str:
        return _desk_url(scope, period, assignee, **params)

    figures = [
        Figure(
            key="tickets_opened",
            label=_("Tickets opened"),
            value=opened,
            help=_("Tickets created in the period."),
            drill_url=desk(),
        ),
        Figure(
            key="first_response_hours",
            label=_("Average first-response time"),
            value=response_hours,
            unit=HOURS,
            help=_(
                "Average hours from opening to the first response, over the tickets opened in the "
                "period that have had a response (clock time)."
            ),
            drill_url=desk(),
            lower_is_better=True,
        ),
        Figure(
            key="resolution_hours",
            label=_("Average resolution time"),
            value=_hours(resolved["avg"]),
            unit=HOURS,
            help=_(
                "Average hours from opening to resolution, over the tickets resolved in the period "
                "(clock time)."
            ),
            # The desk filters by opening date only: the resolved tickets, whenever opened.
            drill_url=_desk_url(scope, None, assignee, status=Ticket.Status.RESOLVED),
            lower_is_better=True,
        ),
        Figure(
            key="sla_breaches",
            label=_("Service-level breaches"),
            value=breaches,
            help=_("Tickets whose first-response or resolution target was missed in the period."),
            drill_url=desk(),
            lower_is_better=True,
        ),
        Figure(
            key="breach_rate",
            label=_("Breach rate"),
            value=rate(opened_breached, opened),
            unit=PERCENT,
            help=_(
                "Breach rate = tickets opened in the period that missed their first-response or "
                "resolution target / tickets opened in the period."
            ),
            drill_url=desk(),
            lower_is_better=True,
        ),
        Figure(
            key="complaint_rate",
            label=_("Complaint rate"),
            value=rate(complaints, opened),
            unit=PERCENT,
            help=_("Complaint rate = complaints opened / tickets opened in the period."),
            drill_url=desk(ticket_type=Ticket.Type.COMPLAINT),
            lower_is_better=True,
        ),
    ]
    survey_list = reverse("service:survey-list")
    for kind, label, share_label in (
        (SurveyInvitation.Kind.TICKET, _("Satisfaction after tickets"), _("Satisfied after tickets")),
        (SurveyInvitation.Kind.QUARTERLY, _("Quarterly satisfaction"), _("Satisfied (quarterly)")),
    ):
        answers = surveys.get(kind, {"n": 0, "avg": None, "good": 0})
        figures += [
            Figure(
                key=f"csat_{kind}",
                label=label,
                value=None if answers["avg"] is None else round(float(answers["avg"]), 2),
                unit=SCORE,
                help=_("Average rating (1 to 5) of the survey answers given in the period."),
                drill_url=f"{survey_list}?{urlencode({'kind': kind})}",
            ),
            Figure(
                key=f"csat_{kind}_satisfied",
                label=share_label,
                value=rate(answers["good"], answers["n"]),
                unit=PERCENT,
                help=_("Share of the survey answers given in the period that rate 4 or 5 (of 5)."),
                drill_url=f"{survey_list}?{urlencode({'kind': kind})}",
            ),
        ]

    type_rows = [
        {
            "ticket_type": str(label),
            "opened": by_type.get(value, {}).get("n", 0),
            "breached": by_type.get(value, {}).get("breached", 0),
            "_url": desk(ticket_type=value),
        }
        for value, label in Ticket.Type.choices
    ]
    tables = [
        Table(
            key="tickets_by_type",
            title=_("Tickets opened by type"),
            columns=[
                Column("ticket_type", _("Type"), unit=""),
                Column("opened", _("Tickets opened"), unit=COUNT),
                Column("breached", _("Missed a target"), unit=COUNT),
            ],
            rows=type_rows,
            chart="bar",
            label_column="ticket_type",
            value_columns=["opened", "breached"],
            help=_("Tickets created in the period by type, and those of them that missed a target."),
        )
    ]
    return SectionResult(figures=figures, tables=tables)


def _survey_scope_q(scope: Scope) -> Q:
    """Through the ticket's handler, or the customer's owner (a ticket survey's customer is the
    ticket's; a quarterly survey has no ticket)."""
    handled = scope.q(owner="ticket__assignee", team="ticket__team")
    customers = scope.q(owner="customer__owner", team="customer__team")
    if not handled and not customers:
        return Q()
    return handled | customers


def allowed(user) -> bool:
    """Who may see tickets (sales follow their customers' tickets, service staff), and directors."""
    return user.has_perm("service.view_ticket") or scope_of(user) is Visibility.ALL


def register() -> None:
    base.register(Section(key=KEY, title=TITLE, build=build, order=ORDER, allowed=allowed))
