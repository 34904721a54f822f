"""Reads of the rep's workbench (我的工作台) and the lead's team page (团队跟进).

Both pages show counts and a bounded number of rows per section in a constant number of
queries, whatever the number of tasks or customers: counts come from one aggregate, rows from
one windowed query (``RowNumber`` per section or per rep) plus the prefetches of ``task_rows``.
Day boundaries are the viewer's local days (the active time zone: the user's own, else
settings.TIME_ZONE).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Min, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.access import Scope, led_team_ids, scope_of
from accounts.models import Team, User
from customers.models import Customer, CustomerQuerySet
from customers.selectors import customers_visible_to
from interactions.filters import start_of_day
from interactions.models import CadenceRule, FollowUpTask, Interaction
from interactions.selectors import interactions_visible_to, task_rows, tasks_visible_to

# Rows shown per workbench section; the "see all" link leads to the filtered task list.
SECTION_ROWS = 5
# Overdue rows shown per rep on the team page, and stale customers listed.
ROWS_PER_REP = 5
STALE_ROWS = 10

OVERDUE, TODAY, UPCOMING = "overdue", "today", "upcoming"
SECTIONS = (OVERDUE, TODAY, UPCOMING)
# Next 7 days: from tomorrow to the end of the 7th day after today.
UPCOMING_DAYS = 7


@dataclass
class Days:
    """The local day boundaries a workbench is drawn with."""

    today: date
    start_today: datetime
    start_tomorrow: datetime
    end_upcoming: datetime

    @classmethod
    def of(cls, now: datetime) -> "Days":
        today = timezone.localdate(now)
        return cls(
            today=today,
            start_today=start_of_day(today),
            start_tomorrow=start_of_day(today + timedelta(days=1)),
            end_upcoming=start_of_day(today + timedelta(days=UPCOMING_DAYS + 1)),
        )


@dataclass
class Section:
    key: str
    count: int = 0
    tasks: list[FollowUpTask] = field(default_factory=list)
    link: str = ""  # the task list filtered to exactly this section


def _section_case(days: Days) -> Case:
    return Case(
        When(due_at__lt=days.start_today, then=Value(OVERDUE)),
        When(due_at__lt=days.start_tomorrow, then=Value(TODAY)),
        default=Value(UPCOMING),
    )


def workbench_tasks(user, *, now: datetime | None = None) -> dict[str, Section]:
    """The user's own open tasks: overdue (due before today), due today, and the next 7 days.

    Four queries whatever the number of tasks (one when there is none): the counts, the ids of
    the first ``SECTION_ROWS`` of each section (three index range scans of task_owner_status_due
    in one UNION: a rep with thousands of overdue tasks costs no sort), the rows and the "done"
    choices. A task's owner always sees it, so only its customer's deletion is checked.
    """
    days = Days.of(now or timezone.now())
    mine = FollowUpTask.objects.filter(
        owner=user, status=FollowUpTask.Status.OPEN, customer__deleted_at__isnull=True
    )
    bounds = {
        OVERDUE: Q(due_at__lt=days.start_today),
        TODAY: Q(due_at__gte=days.start_today, due_at__lt=days.start_tomorrow),
        UPCOMING: Q(due_at__gte=days.start_tomorrow, due_at__lt=days.end_upcoming),
    }
    counts = mine.filter(due_at__lt=days.end_upcoming).aggregate(
        **{key: Count("pk", filter=condition) for key, condition in bounds.items()}
    )
    sections = {key: Section(key=key, count=counts[key]) for key in SECTIONS}
    if not any(counts.values()):
        return sections
    firsts = [
        mine.filter(bounds[key]).order_by("due_at", "pk").values_list("pk", "due_at")[:SECTION_ROWS]
        for key in SECTIONS
        if counts[key]
    ]
    if connection.features.supports_slicing_ordering_in_compound:
        ids = [pk for pk, _due in firsts[0].union(*firsts[1:], all=True)]
    else:  # SQLite (the quick start) cannot LIMIT inside a UNION: one small query per section
        ids = [pk for first in firsts for pk, _due in first]
    rows = FollowUpTask.objects.filter(pk__in=ids).annotate(section=_section_case(days))
    for task in task_rows(rows).order_by("due_at", "pk"):
        sections[task.section].tasks.append(task)
    return sections


def customers_without_next_step(user) -> CustomerQuerySet:
    """The user's own live customers with no open follow-up planned (not lost ones), the longest
    uncontacted first (index customer_owner_created narrows to the owner)."""
    return (
        customers_visible_to(user)
        .filter(owner=user)
        .without_next_step()
        .order_by(F("last_contacted_at").asc(nulls_first=True), "created_at", "pk")
    )


def bounded_with_count(queryset: QuerySet, limit: int) -> tuple[int, list]:
    """The first ``limit`` rows and the total, in two queries: a window count in the same query
    would sort the whole set (tens of thousands of a team's customers) for ten rows, where the
    LIMIT alone walks an index in order."""
    return queryset.order_by().count(), list(queryset[:limit])


def recent_interactions(user, *, limit: int = SECTION_ROWS) -> list[Interaction]:
    """The interactions the user followed up most recently (index interaction_owner_at)."""
    return list(
        interactions_visible_to(user)
        .filter(owner=user)
        .select_related("customer", "contact")
        .order_by("-occurred_at", "-pk")[:limit]
    )


# The team page (团队跟进)


def team_choices(user) -> QuerySet[Team]:
    """The teams whose page ``user`` may open: every team for all scope, the led ones for a lead."""
    scope = scope_of(user)
    if scope is Scope.ALL:
        return Team.objects.order_by("name")
    if scope is Scope.TEAM:
        return Team.objects.filter(pk__in=led_team_ids(user)).order_by("name")
    return Team.objects.none()


def team_members(team: Team) -> QuerySet[User]:
    """Who a task or customer of the team may be given to: its active members."""
    return User.objects.filter(team=team, is_active=True).order_by("display_name", "username")


@dataclass
class RepOverdue:
    rep: User
    count: int
    flagged: int
    oldest_due: datetime
    tasks: list[FollowUpTask] = field(default_factory=list)


def team_overdue(actor, team: Team, *, now: datetime | None = None) -> list[RepOverdue]:
    """The team's overdue tasks grouped by the rep who holds them: per rep the count, how many are
    flagged for reassignment and the oldest due time, and the first ``ROWS_PER_REP`` tasks
    (flagged first, then the most overdue). Reps with flagged tasks come first, then the most
    overdue. Three queries whatever the number of tasks (index task_open_due)."""
    now = now or timezone.now()
    overdue = tasks_visible_to(actor).overdue(now=now).filter(owner__team=team)
    totals = {
        row["owner"]: row
        for row in overdue.values("owner").annotate(
            count=Count("pk"),
            flagged=Count("pk", filter=Q(reassign_flagged_at__isnull=False)),
            oldest=Min("due_at"),
        )
    }
    if not totals:
        return []
    flagged_first = Case(
        When(reassign_flagged_at__isnull=False, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    # The ranking reads narrow rows only; the few shown are fetched whole afterwards.
    ranked = (
        overdue.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("owner")],
                order_by=[flagged_first.asc(), F("due_at").asc(), F("pk").asc()],
            ),
        )
        .filter(rank__lte=ROWS_PER_REP)
        .values_list("pk", flat=True)
    )
    shown = FollowUpTask.objects.filter(pk__in=list(ranked)).annotate(flag_order=flagged_first)
    groups: dict[int, RepOverdue] = {}
    for task in task_rows(shown).order_by("flag_order", "due_at", "pk"):
        row = totals[task.owner_id]
        group = groups.get(task.owner_id)
        if group is None:
            group = groups[task.owner_id] = RepOverdue(
                rep=task.owner, count=row["count"], flagged=row["flagged"], oldest_due=row["oldest"]
            )
        group.tasks.append(task)
    return sorted(groups.values(), key=lambda group: (-group.flagged, group.oldest_due, group.rep.pk))


def cadence_days() -> dict[str, int]:
    """Days between contacts per value class, from the active cadence rules (editable in admin)."""
    rules = CadenceRule.objects.filter(active=True, trigger=CadenceRule.Trigger.VALUE_CLASS)
    return {rule.value: rule.days for rule in rules}


def stale_customers(actor, team: Team, *, now: datetime | None = None) -> CustomerQuerySet:
    """The team's live customers not contacted for longer than their value class's cadence (the
    creation time counts when never contacted); lost customers follow their own revisit rule.
    Served by customer_team_created and customer_last_contacted; longest uncontacted first."""
    now = now or timezone.now()
    overdue_contact = Q(pk__in=[])
    for value_class, days in cadence_days().items():
        cutoff = now - timedelta(days=days)
        overdue_contact |= Q(value_class=value_class) & (
            Q(last_contacted_at__lt=cutoff) | Q(last_contacted_at__isnull=True, created_at__lt=cutoff)
        )
    return (
        customers_visible_to(actor)
        .filter(team=team)
        .exclude(stage=Customer.Stage.LOST)
        .filter(overdue_contact)
        .select_related("owner")
        .order_by(F("last_contacted_at").asc(nulls_first=True), "created_at", "pk")
    )
