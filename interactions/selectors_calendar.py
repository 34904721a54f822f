"""Reads for the task calendar: whose tasks a user may look at, and the tasks of a date range
grouped by local day, a few per day with the day's total ("+N more").

Whose tasks: everyone their own; a sales manager (team scope) also the teams they lead, together
or one member; directors and administrators (all scope) any team or user. Anything else in the
URL is a 404, like a record outside one's scope. The tasks are also limited to what the viewer
may see (``tasks_visible_to``), so every entry links to a page that opens.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import Scope, led_team_ids, scope_of
from accounts.models import Team, User
from interactions.models import FollowUpTask
from interactions.selectors import tasks_visible_to

ME, TEAM = "me", "team"


@dataclass(frozen=True)
class Subject:
    """Whose tasks the calendar shows: ``value`` is the ``who`` URL parameter."""

    value: str
    label: str
    owners: Q  # filter on the tasks
    # The task list's filters for the same people ("+N more" links there).
    list_params: dict[str, str] = field(default_factory=dict)


@dataclass
class Day:
    date: datetime.date
    tasks: list[FollowUpTask] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.tasks)


def calendar_subjects(actor) -> list[tuple[str, list[tuple[str, str]]]]:
    """The "show" choices, grouped for an <optgroup> each: (group label, [(value, label)])."""
    scope = scope_of(actor)
    mine = [(ME, _("My tasks"))]
    if scope is Scope.TEAM and (team_ids := led_team_ids(actor)):
        members = User.objects.filter(team_id__in=team_ids, is_active=True).exclude(pk=actor.pk)
        groups = [("", [*mine, (TEAM, _("My team"))])]
        people = [(f"user:{user.pk}", str(user)) for user in members.order_by("display_name", "username")]
        if people:
            groups.append((_("Team members"), people))
        return groups
    if scope is Scope.ALL:
        teams = [(f"team:{team.pk}", team.name) for team in Team.objects.order_by("name")]
        users = User.objects.filter(is_active=True, team__isnull=False).exclude(pk=actor.pk)
        people = [(f"user:{user.pk}", str(user)) for user in users.order_by("display_name", "username")]
        return [("", mine), (_("Teams"), teams), (_("People"), people)]
    return [("", mine)]


def calendar_subject(actor, who: str) -> Subject:
    """The subject named by ``who``, or 404 when the actor may not look at it."""
    scope = scope_of(actor)
    kind, _sep, raw_id = (who or ME).partition(":")
    if kind == ME and not raw_id:
        return Subject(ME, _("My tasks"), Q(owner=actor), {"owner": str(actor.pk)})
    team_ids = led_team_ids(actor) if scope is Scope.TEAM else []
    if kind == TEAM and not raw_id and team_ids:
        params = {"owner": "", "team": str(team_ids[0])} if len(team_ids) == 1 else {"owner": ""}
        return Subject(TEAM, _("My team"), Q(owner=actor) | Q(owner__team_id__in=team_ids), params)
    if not raw_id.isdigit() or scope not in (Scope.TEAM, Scope.ALL):
        raise Http404
    pk = int(raw_id)
    if kind == "team":
        if scope is Scope.TEAM and pk not in team_ids:
            raise Http404
        team = Team.objects.filter(pk=pk).first()
        if team is None:
            raise Http404
        return Subject(who, team.name, Q(owner__team=team), {"owner": "", "team": str(team.pk)})
    if kind == "user":
        users = User.objects.all()
        if scope is Scope.TEAM:
            users = users.filter(Q(team_id__in=team_ids) | Q(pk=actor.pk))
        user = users.filter(pk=pk).first()
        if user is None:
            raise Http404
        return Subject(who, str(user), Q(owner=user), {"owner": str(user.pk)})
    raise Http404


def calendar_days(
    actor,
    subject: Subject,
    first: datetime.date,
    last: datetime.date,
    *,
    per_day: int,
) -> dict[datetime.date, Day]:
    """Every local day from ``first`` to ``last`` with at most ``per_day`` of its tasks (by due
    time) and its total, in two queries whatever the number of tasks: a narrow one ranks the
    tasks of each day with window functions (the owner/status/due and due indexes serve the
    range), then the tasks shown are read whole."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    day = TruncDate("due_at", tzinfo=zone)
    ranked = (
        tasks_visible_to(actor)
        .filter(subject.owners, due_at__gte=start, due_at__lt=end)
        .annotate(
            day=day,
            rank=Window(RowNumber(), partition_by=[day], order_by=[F("due_at").asc(), F("pk").asc()]),
            day_total=Window(Count("pk"), partition_by=[day]),
        )
        .filter(rank__lte=per_day)
        .values_list("pk", "day", "day_total")
    )
    shown = {pk: (task_day, total) for pk, task_day, total in ranked}
    tasks: QuerySet[FollowUpTask] = (
        FollowUpTask.objects.filter(pk__in=list(shown))
        .select_related("customer", "owner")
        .order_by("due_at", "pk")
    )
    days = {
        first + datetime.timedelta(days=n): Day(first + datetime.timedelta(days=n))
        for n in range((last - first).days + 1)
    }
    grouped: dict[datetime.date, list[FollowUpTask]] = defaultdict(list)
    for task in tasks:
        task_day, total = shown[task.pk]
        grouped[task_day].append(task)
        days[task_day].total = total
    for date, listed in grouped.items():
        days[date].tasks = listed
    return days
