"""Follow-up KPIs (跟进): interactions logged, follow-up timeliness and overdue rate (SPEC 7),
overdue tasks, customers without a next step, and a per-owner breakdown for managers.

Scope rule: interactions and tasks count for their ``owner`` (who followed up / who must follow
up) and for the team of their *customer* (``customer__team``), the same fields the interaction and
task lists filter by (``owner``, ``team``), so a drill-down list shows the records behind a
figure. Records of customers in the recycle bin are left out, as the lists leave them out.

Definitions (the help texts say the same to the user):

- *tasks due* = follow-up tasks, not cancelled, whose due time falls in the period and has passed
  (a task due later today is not late yet; it counts once its due time is past);
- *on time* = tasks due that were done at or before their due time;
- *overdue* = tasks due − on time (still open, or done after their due time);
- timeliness = on time / tasks due; overdue rate = overdue / tasks due (they add up to 100 %);
- *open overdue tasks* = tasks not cancelled, past due and not done at the end of the period
  (now, for the current period): the 待跟进 list of the tasks page.

Queries: four whatever the data size (interactions by method, tasks due, open overdue tasks,
customers without a next step), and two more for the per-owner table when the scope is not one
person (interactions and tasks grouped by owner, names fetched with the groups).
"""

import datetime
from urllib.parse import urlencode

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import Scope as Visibility
from accounts.access import scope_of
from analytics import base
from analytics.base import (
    PERCENT,
    Column,
    Figure,
    Period,
    Scope,
    Section,
    SectionResult,
    Table,
    rate,
)
from customers.models import Customer
from interactions.models import FollowUpTask, Interaction

KEY = "followups"
ORDER = 50
TITLE = gettext_lazy("Follow-ups")


def _interactions(scope: Scope) -> QuerySet[Interaction]:
    return Interaction.objects.filter(
        scope.q(owner="owner", team="customer__team"), customer__deleted_at__isnull=True
    )


def _tasks(scope: Scope) -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.filter(
        scope.q(owner="owner", team="customer__team"), customer__deleted_at__isnull=True
    ).exclude(status=FollowUpTask.Status.CANCELLED)


def _as_of(period: Period, now: datetime.datetime) -> datetime.datetime:
    """The end of the period, or now while the period is still running."""
    return min(period.bounds()[1], now)


def _scope_params(scope: Scope) -> dict[str, int]:
    """The list filters (owner, team) matching the scope; several teams (a manager leading two)
    need none: the list's own scope is the viewer's."""
    params: dict[str, int] = {}
    if scope.owner_id is not None:
        params["owner"] = scope.owner_id
    if scope.team_ids is not None and len(scope.team_ids) == 1:
        params["team"] = scope.team_ids[0]
    return params


def _url(name: str, **params) -> str:
    return reverse(name) + "?" + urlencode({key: value for key, value in params.items() if value is not None})


def _last_day(period: Period) -> str:
    return (period.end - datetime.timedelta(days=1)).isoformat()


def _task_counts():
    """Conditional aggregates over tasks due (filtered by the caller)."""
    on_time = Q(status=FollowUpTask.Status.DONE, completed_at__lte=F("due_at"))
    return {"due": Count("pk"), "on_time": Count("pk", filter=on_time)}


def build(scope: Scope, period: Period, *, now: datetime.datetime | None = None) -> SectionResult:
    start, end = period.bounds()
    now = now or timezone.now()
    as_of = _as_of(period, now)
    in_period = {"occurred_at__gte": start, "occurred_at__lt": end}
    due_in_period = {"due_at__gte": start, "due_at__lt": max(start, as_of)}
    scope_params = _scope_params(scope)
    dates = {"occurred_from": period.start.isoformat(), "occurred_to": _last_day(period)}

    # 1. Interactions by method (the total is their sum).
    by_method = dict(
        _interactions(scope).filter(**in_period).order_by().values_list("method").annotate(n=Count("pk"))
    )
    interactions = sum(by_method.values())

    # 2. Tasks due in the period (and past due), on time among them.
    tasks = _tasks(scope).filter(**due_in_period).aggregate(**_task_counts())
    due, on_time = tasks["due"], tasks["on_time"]
    overdue = due - on_time

    # 3. Open overdue tasks at the end of the period (now for the current one, where only open
    # tasks qualify: the condition then matches the partial index task_open_due).
    still_open = Q(status=FollowUpTask.Status.OPEN)
    if as_of < now:
        still_open |= Q(completed_at__gt=as_of)
    open_overdue = _tasks(scope).filter(still_open, due_at__lt=as_of).count()

    # 4. Customers without a next step (today's state: the customer keeps no history of it).
    without_next_step = (
        Customer.objects.alive().filter(scope.q(owner="owner", team="team")).without_next_step().count()
    )

    task_dates = {"due_from": period.start.isoformat(), "due_to": _last_day(period)}
    figures = [
        Figure(
            key="interactions",
            label=_("Interactions logged"),
            value=interactions,
            help=_("Interactions (calls, visits, messages, meetings) that took place in the period."),
            drill_url=_url("interactions:interaction-list", **scope_params, **dates),
        ),
        Figure(
            key="tasks_due",
            label=_("Follow-up tasks due"),
            value=due,
            help=_("Follow-up tasks (not cancelled) whose due time fell in the period and has passed."),
            drill_url=_url("interactions:task-list", **scope_params, **task_dates),
        ),
        Figure(
            key="timeliness",
            label=_("Follow-up timeliness"),
            value=rate(on_time, due),
            unit=PERCENT,
            help=_(
                "Follow-up timeliness = tasks done on or before their due time / tasks due in the period."
            ),
            drill_url=_url("interactions:task-list", **scope_params, **task_dates),
        ),
        Figure(
            key="overdue_rate",
            label=_("Overdue rate"),
            value=rate(overdue, due),
            unit=PERCENT,
            help=_(
                "Overdue rate = overdue tasks / tasks due in the period; a task is overdue when it "
                "was still open at its due time (done late, or not done yet)."
            ),
            drill_url=_url("interactions:task-list", **scope_params, **task_dates),
            lower_is_better=True,
        ),
        Figure(
            key="overdue",
            label=_("Overdue tasks"),
            value=overdue,
            help=_("Tasks due in the period that were not done by their due time."),
            drill_url=_url("interactions:task-list", **scope_params, **task_dates),
            lower_is_better=True,
        ),
        Figure(
            key="open_overdue",
            label=_("Open overdue tasks"),
            value=open_overdue,
            help=_(
                "Tasks past their due time and still not done at the end of the period (now, for "
                "the current period)."
            ),
            drill_url=_url("interactions:task-list", **scope_params, overdue="on"),
            lower_is_better=True,
        ),
        Figure(
            key="without_next_step",
            label=_("Customers without a next step"),
            value=without_next_step,
            help=_("Customers (not lost) with no open follow-up task planned, as of today."),
            drill_url=_url("customers:customer-list", **scope_params, no_next_step="on"),
            lower_is_better=True,
            compare=False,  # today's state: no history to compare with
        ),
    ]

    method_rows = [
        {
            "method": str(label),
            "count": by_method.get(value, 0),
            "_url": _url("interactions:interaction-list", **scope_params, **dates, method=value),
        }
        for value, label in Interaction.Method.choices
    ]
    tables = [
        Table(
            key="interactions_by_method",
            title=_("Interactions by method"),
            columns=[Column("method", _("Method"), unit=""), Column("count", _("Interactions"))],
            rows=method_rows,
            chart="doughnut",
            label_column="method",
            value_columns=["count"],
        )
    ]
    if scope.owner_id is None:
        tables.append(_per_owner(scope, in_period, due_in_period, task_dates))
    return SectionResult(figures=figures, tables=tables)


def _per_owner(scope: Scope, in_period: dict, due_in_period: dict, task_dates: dict) -> Table:
    """Interactions and tasks per owner (two grouped queries, names fetched with the groups)."""
    names = ("owner_id", "owner__display_name", "owner__username")
    interactions = {
        row[0]: row
        for row in _interactions(scope)
        .filter(**in_period)
        .order_by()
        .values_list(*names)
        .annotate(n=Count("pk"))
    }
    tasks = {
        row[0]: row
        for row in _tasks(scope)
        .filter(**due_in_period)
        .order_by()
        .values_list(*names)
        .annotate(**_task_counts())
    }
    rows = []
    for owner_id in interactions.keys() | tasks.keys():
        row = interactions.get(owner_id) or tasks[owner_id]
        due, on_time = (tasks[owner_id][3], tasks[owner_id][4]) if owner_id in tasks else (0, 0)
        rows.append(
            {
                "owner": row[1] or row[2],
                "interactions": interactions[owner_id][3] if owner_id in interactions else 0,
                "tasks_due": due,
                "on_time": on_time,
                "overdue": due - on_time,
                "timeliness": rate(on_time, due),
                "_url": _url("interactions:task-list", **_scope_params(scope), owner=owner_id, **task_dates),
            }
        )
    rows.sort(key=lambda row: (-row["interactions"], -row["tasks_due"], row["owner"]))
    return Table(
        key="followups_by_owner",
        title=_("Follow-ups by owner"),
        columns=[
            Column("owner", _("Owner"), unit=""),
            Column("interactions", _("Interactions")),
            Column("tasks_due", _("Tasks due")),
            Column("on_time", _("Done on time")),
            Column("overdue", _("Not done on time")),
            Column("timeliness", _("Follow-up timeliness"), unit=PERCENT),
        ],
        rows=rows,
        chart="bar",
        label_column="owner",
        value_columns=["interactions", "tasks_due", "overdue"],
        help=_("Timeliness = tasks done on or before their due time / tasks due in the period."),
    )


def allowed(user) -> bool:
    """Whoever may see follow-up records (sales, directors, agents), and all-scope viewers."""
    return user.has_perm("interactions.view_followuptask") or scope_of(user) is Visibility.ALL


def register() -> None:
    base.register(Section(key=KEY, title=TITLE, build=build, order=ORDER, allowed=allowed))
