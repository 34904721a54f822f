"""What every analytics figure is made of: the period, the scope, the figures and tables, and the
registry of report sections.

A *section* (funnel, follow-ups, service, collections, …) is registered by the module that
computes it; the dashboards, the exports and the scheduled reports render every section the same
way, so a KPI is written once. ``build(scope, period)`` must aggregate in the database
(annotate/aggregate with conditional aggregation), in a bounded number of queries whatever the
data size, and return figures for ``period``; the caller asks again for ``period.previous()`` to
show the change.

Rates whose denominator is zero are ``None`` (shown as "—"), never 0.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import Scope as Visibility
from accounts.access import led_team_ids, scope_of

# Period kinds of the filter (this week, month, quarter, year, custom).
WEEK, MONTH, QUARTER, YEAR, CUSTOM = "week", "month", "quarter", "year", "custom"
PERIOD_KINDS = [
    (WEEK, _("This week")),
    (MONTH, _("This month")),
    (QUARTER, _("This quarter")),
    (YEAR, _("This year")),
    (CUSTOM, _("Custom")),
]


@dataclass(frozen=True)
class Period:
    """Local days ``start`` ≤ day < ``end`` (in TIME_ZONE), of a kind."""

    kind: str
    start: datetime.date
    end: datetime.date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The aware datetimes of the period's first and (exclusive) last local midnight."""
        zone = timezone.get_default_timezone()
        return (
            datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone),
            datetime.datetime.combine(self.end, datetime.time.min, tzinfo=zone),
        )

    def previous(self) -> "Period":
        """The period before, of the same kind: last week, last month, last quarter, last year;
        a custom period is followed by the same number of days before it."""
        if self.kind == MONTH:
            end = self.start
            start = (end - datetime.timedelta(days=1)).replace(day=1)
            return Period(self.kind, start, end)
        if self.kind == QUARTER:
            return Period(self.kind, _add_months(self.start, -3), self.start)
        if self.kind == YEAR:
            return Period(self.kind, self.start.replace(year=self.start.year - 1), self.start)
        return Period(self.kind, self.start - datetime.timedelta(days=self.days), self.start)

    @property
    def label(self) -> str:
        last = self.end - datetime.timedelta(days=1)
        return f"{self.start:%Y-%m-%d} – {last:%Y-%m-%d}"


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


def period_of(
    kind: str, today: datetime.date | None = None, start: datetime.date | None = None, end=None
) -> Period:
    """The period of ``kind`` containing ``today`` (local date); custom takes ``start`` and the
    inclusive ``end``."""
    today = today or timezone.localdate()
    if kind == WEEK:
        first = today - datetime.timedelta(days=today.weekday())
        return Period(kind, first, first + datetime.timedelta(days=7))
    if kind == MONTH:
        first = today.replace(day=1)
        return Period(kind, first, _add_months(first, 1))
    if kind == QUARTER:
        first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        return Period(kind, first, _add_months(first, 3))
    if kind == YEAR:
        first = today.replace(month=1, day=1)
        return Period(kind, first, first.replace(year=first.year + 1))
    if kind == CUSTOM and start and end and start <= end:
        return Period(kind, start, end + datetime.timedelta(days=1))
    raise ValueError(f"Not a period: {kind} {start} {end}")


@dataclass(frozen=True)
class Scope:
    """Whose records a report counts: the viewer's own (a rep), some teams (a manager: the teams
    they lead; a director: any, or all when ``team_ids`` is None), optionally narrowed to one owner.

    ``q(owner=…, team=…)`` filters any model by its owner and team fields (prefixed for a
    relation): the figures of a rep never count another rep's records, a manager's never another
    team's.
    """

    viewer_id: int
    owner_id: int | None = None  # one person's numbers
    team_ids: tuple[int, ...] | None = None  # None: every team (all-scope viewers only)

    def q(self, *, owner: str = "owner", team: str = "team") -> Q:
        condition = Q()
        if self.team_ids is not None:
            condition &= Q(**{f"{team}_id__in": self.team_ids})
        if self.owner_id is not None:
            condition &= Q(**{f"{owner}_id": self.owner_id})
        return condition

    @property
    def key(self) -> str:
        """A stable text for snapshots and caches: 'all', 'teams:1,2', 'owner:7', …"""
        parts = ["all" if self.team_ids is None else "teams:" + ",".join(map(str, sorted(self.team_ids)))]
        if self.owner_id is not None:
            parts.append(f"owner:{self.owner_id}")
        return ";".join(parts)


class ScopeError(ValueError):
    pass


def scope_for(viewer, *, team_id: int | None = None, owner_id: int | None = None) -> Scope:
    """The widest scope ``viewer`` may see, narrowed by the filter's team and owner; a team or
    owner outside their reach raises ScopeError (the view answers 404)."""
    from accounts.models import User

    visibility = scope_of(viewer)
    if visibility is Visibility.ALL:
        teams = None if team_id is None else (team_id,)
    elif visibility is Visibility.TEAM and (led := led_team_ids(viewer)):
        if team_id is not None and team_id not in led:
            raise ScopeError(team_id)
        teams = tuple(led) if team_id is None else (team_id,)
    elif visibility in (Visibility.OWN, Visibility.TEAM):
        # Their own numbers only.
        if owner_id not in (None, viewer.pk) or team_id is not None:
            raise ScopeError(owner_id or team_id)
        return Scope(viewer_id=viewer.pk, owner_id=viewer.pk, team_ids=None)
    else:
        raise ScopeError("none")
    if owner_id is not None:
        owner = User.objects.filter(pk=owner_id).values_list("team_id", flat=True).first()
        if owner is None and not User.objects.filter(pk=owner_id).exists():
            raise ScopeError(owner_id)
        if teams is not None and owner not in teams and owner_id != viewer.pk:
            raise ScopeError(owner_id)
    return Scope(viewer_id=viewer.pk, owner_id=owner_id, team_ids=teams)


# Units tell the templates, the exports and the e-mails how to show a value.
COUNT, PERCENT, MONEY, HOURS, DAYS, SCORE = "count", "percent", "money", "hours", "days", "score"
TEXT = "text"  # a label column of a table (a stage, an owner, a month)


@dataclass
class Figure:
    """One KPI: its value for the period (None: not computable, e.g. a rate over nothing), the
    formula in words (the help next to it), and the filtered list behind it."""

    key: str
    label: str
    value: int | float | Decimal | None
    unit: str = COUNT
    help: str = ""
    drill_url: str | None = None
    previous: int | float | Decimal | None = None
    # True when a rising value is bad (overdue rate, churn, breaches): the change shows red.
    lower_is_better: bool = False
    # False for a state of today (e.g. customers without a next step): no change is shown.
    compare: bool = True

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None when either side is missing or 0)."""
        if not self.compare or self.value is None or self.previous in (None, 0):
            return None
        return (float(self.value) - float(self.previous)) / abs(float(self.previous))


@dataclass
class Column:
    key: str
    label: str
    unit: str = COUNT


@dataclass
class Table:
    """Rows behind a chart (every chart has its numbers as a table, exportable). ``chart`` is the
    Chart.js type to draw it with ("bar", "line", "funnel" (a horizontal bar), "doughnut"), or
    "" for a table only; ``label_column`` and ``value_columns`` say what to plot. A row may carry
    a ``_url`` (drill-down of that row)."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: str = ""
    label_column: str = ""
    value_columns: list[str] = field(default_factory=list)
    help: str = ""


@dataclass
class SectionResult:
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    build: Callable[[Scope, Period], SectionResult]
    order: int = 100
    # Who sees it on the dashboard (e.g. service sections for service staff and directors).
    allowed: Callable[[Any], bool] = lambda user: True


_sections: dict[str, Section] = {}


def register(section: Section) -> None:
    _sections[section.key] = section


def unregister(key: str) -> None:
    _sections.pop(key, None)


def all_sections() -> list[Section]:
    """Every registered section in display order (a scheduled report stores them all and shows
    each reader those they may see)."""
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def sections_for(user) -> list[Section]:
    return [s for s in sorted(_sections.values(), key=lambda s: (s.order, s.key)) if s.allowed(user)]


def section(key: str) -> Section:
    return _sections[key]


def rate(part, whole) -> float | None:
    """part / whole as a fraction (0.25 = 25 %), None over nothing."""
    if not whole:
        return None
    return float(part or 0) / float(whole)


def local_date_range(period: Period) -> dict[str, datetime.date]:
    """Filter kwargs helpers for DateFields: {"gte": start, "lt": end}."""
    return {"gte": period.start, "lt": period.end}


def default_currency() -> str:
    return getattr(settings, "DEFAULT_CURRENCY", "CNY")
