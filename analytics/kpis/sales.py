"""Sales KPIs (SPEC 7): the funnel from the stage history, the weighted forecast by expected close
month, and payment collection.

Every figure is aggregated in PostgreSQL in a fixed number of queries (funnel 4, forecast 1,
collections 3), whatever the number of opportunities. Money is in CNY: the stored ``amount_cny``
of opportunities, stage changes, orders and payments (opportunities.models: one rounding rule);
weighted and outstanding amounts are sums of exact products, rounded once at the end.

Scope: opportunities, orders and their children count by the record's own owner and team (the
owner's team, kept in step by the services), never by the customer's; records of customers in the
recycle bin count for nothing, as on the lists.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RowRange
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from analytics.base import (
    COUNT,
    DAYS,
    MONEY,
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
from analytics.base import (
    register as register_section,
)
from opportunities.models import CENT, Instalment, Opportunity, Order, Payment, Stage, StageChange

EXACT = DecimalField(max_digits=24, decimal_places=8)
ZERO = Value(Decimal(0), output_field=EXACT)
# The forecast looks this many months ahead, from the month the period starts in.
FORECAST_MONTHS = 6
# The won stages rank above every open stage in the funnel's "reached a later stage".
WON_RANK = 1_000_000


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after the month of ``day``."""
    month = day.month - 1 + months
    return datetime.date(day.year + month // 12, month % 12 + 1, 1)


def money(value) -> Decimal:
    """A sum in CNY rounded once, half up (the rule of ``opportunities.models.cny_amount``)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def scope_params(scope: Scope) -> dict[str, int]:
    """The owner/team parameters of the list filters that match ``scope`` (drill-down links).

    A scope of several teams (a lead of two teams) or of every team adds none: the list is
    already limited to what the viewer may see."""
    params: dict[str, int] = {}
    if scope.owner_id is not None:
        params["owner"] = scope.owner_id
    if scope.team_ids is not None and len(scope.team_ids) == 1:
        params["team"] = scope.team_ids[0]
    return params


def drill(url_name: str, scope: Scope, **params) -> str:
    """The list ``url_name`` filtered by ``params`` and the scope's owner/team."""
    query = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{reverse(url_name)}?{urlencode(query | scope_params(scope))}"


def last_day(period: Period) -> datetime.date:
    """The inclusive last day (the lists' "until" filters include it)."""
    return period.end - datetime.timedelta(days=1)


def owner_name(row: dict, prefix: str = "owner") -> str:
    return row.get(f"{prefix}__display_name") or row.get(f"{prefix}__username") or "—"


def can_see_sales(user) -> bool:
    return user.has_perm("opportunities.view_opportunity")


# --- Funnel --------------------------------------------------------------------------------

FUNNEL_ENTERED_HELP = _(
    "Entered: opportunities that moved into the stage during the period (counted once per "
    "opportunity and stage), with their amount in CNY at that move. Conversion to a later stage = "
    "of those, the ones that reached a later stage (a higher stage order, or won; lost does not "
    "count) before the end of the period ÷ entered."
)
PIPELINE_HELP = _(
    "Open opportunities now, by their current stage: count, amount in CNY, and weighted amount = "
    "Σ amount × the opportunity's probability ÷ 100."
)


def _opportunity_scope(scope: Scope, prefix: str = "") -> Q:
    return scope.q(owner=f"{prefix}owner", team=f"{prefix}team") & Q(
        **{f"{prefix}customer__deleted_at__isnull": True}
    )


def _stage_status(stage: Stage) -> str:
    if stage.is_won:
        return "won"
    if stage.is_lost:
        return "lost"
    return "open"


def _stage_entries(scope: Scope, start: datetime.datetime, end: datetime.datetime) -> dict[int, dict]:
    """Per stage: opportunities that entered it in [start, end) (their first entry there), the
    amount at that entry, and how many of them reached a later stage after it before ``end``.

    One pass over the period's stage changes with window functions (a correlated subquery per
    change takes seconds on a year of history): per change, its rank among the opportunity's
    entries into that stage and the highest stage rank it reached afterwards. Django cannot
    aggregate over window functions, so the outer GROUP BY wraps the ORM's SQL."""
    stage_rank = Case(
        When(to_stage__is_won=True, then=Value(WON_RANK)),
        When(to_stage__is_lost=True, then=Value(None)),
        default=F("to_stage__order"),
        output_field=IntegerField(),
    )
    in_order = [F("changed_at").asc(), F("pk").asc()]
    moves = (
        StageChange.objects.filter(
            _opportunity_scope(scope, "opportunity__"), changed_at__gte=start, changed_at__lt=end
        )
        .annotate(
            stage_rank=stage_rank,
            nth=Window(RowNumber(), partition_by=[F("opportunity_id"), F("to_stage_id")], order_by=in_order),
            later_rank=Window(
                Max(stage_rank),
                partition_by=[F("opportunity_id")],
                order_by=in_order,
                frame=RowRange(start=1, end=None),
            ),
        )
        .order_by()
        .values("to_stage_id", "amount_cny", "stage_rank", "nth", "later_rank")
    )
    sql, params = moves.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_stage_id, COUNT(*), COALESCE(SUM(amount_cny), 0), "
            "COUNT(*) FILTER (WHERE later_rank > stage_rank) "
            f"FROM ({sql}) AS moves WHERE nth = 1 GROUP BY to_stage_id",
            params,
        )
        return {
            stage: {"entered": entered, "amount": amount, "converted": converted}
            for stage, entered, amount, converted in cursor.fetchall()
        }


def build_funnel(scope: Scope, period: Period) -> SectionResult:
    start, end = period.bounds()
    opportunities = Opportunity.objects.filter(_opportunity_scope(scope))

    # 1. Entries into each stage in the period, and whether each went on to a later stage.
    entries = _stage_entries(scope, start, end)

    # 2. The open pipeline now, by current stage.
    weighted = ExpressionWrapper(F("amount_cny") * F("probability"), output_field=EXACT)
    pipeline = {
        row["stage"]: row
        for row in opportunities.filter(closed_at__isnull=True)
        .order_by()
        .values("stage")
        .annotate(count=Count("pk"), amount=Coalesce(Sum("amount_cny"), ZERO), weighted=Sum(weighted))
    }

    # 3. Closed in the period: win rate, won amount, cycle time.
    won, lost = Q(stage__is_won=True), Q(stage__is_lost=True)
    closed = opportunities.filter(closed_at__gte=start, closed_at__lt=end).aggregate(
        won=Count("pk", filter=won),
        lost=Count("pk", filter=lost),
        won_amount=Coalesce(Sum("amount_cny", filter=won), ZERO),
        cycle=Avg(F("closed_at") - F("created_at"), filter=won),
    )

    # 4. The stages: active ones, and retired ones that still have entries or open opportunities.
    stages = list(
        Stage.objects.filter(Q(active=True) | Q(pk__in=[*entries, *pipeline])).order_by("order", "name")
    )

    funnel_rows, pipeline_rows = [], []
    for stage in stages:
        entry = entries.get(stage.pk, {})
        entered = entry.get("entered", 0)
        url = drill("opportunities:opportunity-list", scope, stage=stage.pk, status=_stage_status(stage))
        funnel_rows.append(
            {
                "stage": str(stage),
                "entered": entered,
                "amount": money(entry.get("amount")),
                "converted": entry.get("converted", 0) if stage.is_open else None,
                "conversion": rate(entry.get("converted", 0), entered) if stage.is_open else None,
                "_url": url,
            }
        )
        if stage.is_open:
            now = pipeline.get(stage.pk, {})
            pipeline_rows.append(
                {
                    "stage": str(stage),
                    "count": now.get("count", 0),
                    "amount": money(now.get("amount")),
                    "weighted": money(Decimal(now.get("weighted") or 0) / 100),
                    "_url": url,
                }
            )

    open_url = drill("opportunities:opportunity-list", scope, status="open")
    won_url = drill("opportunities:opportunity-list", scope, status="won")
    cycle = closed["cycle"]
    figures = [
        Figure(
            "win_rate",
            gettext("Win rate"),
            rate(closed["won"], closed["won"] + closed["lost"]),
            PERCENT,
            help=gettext(
                "Won ÷ (won + lost), among opportunities closed during the period (by their closing time)."
            ),
            drill_url=won_url,
        ),
        Figure(
            "won_amount",
            gettext("Won amount"),
            money(closed["won_amount"]),
            MONEY,
            help=gettext("Σ amount in CNY of the opportunities won during the period."),
            drill_url=won_url,
        ),
        Figure(
            "cycle_days",
            gettext("Average sales cycle"),
            round(cycle.total_seconds() / 86400, 1) if cycle is not None else None,
            DAYS,
            help=gettext(
                "Average number of days from the creation of an opportunity to its winning, over the "
                "opportunities won during the period."
            ),
            drill_url=won_url,
            lower_is_better=True,
        ),
        Figure(
            "pipeline_amount",
            gettext("Open pipeline"),
            money(sum((row["amount"] for row in pipeline_rows), Decimal(0))),
            MONEY,
            help=gettext("Σ amount in CNY of the open opportunities now."),
            drill_url=open_url,
            compare=False,  # a balance of today
        ),
        Figure(
            "weighted_forecast",
            gettext("Weighted forecast"),
            money(sum((row["weighted"] for row in pipeline_rows), Decimal(0))),
            MONEY,
            help=gettext("Σ amount in CNY × probability ÷ 100 of the open opportunities now."),
            drill_url=open_url,
            compare=False,  # a balance of today
        ),
    ]
    stage_column = Column("stage", gettext("Stage"))
    tables = [
        Table(
            "funnel",
            gettext("Stages entered in the period"),
            [
                stage_column,
                Column("entered", gettext("Entered"), COUNT),
                Column("amount", gettext("Amount entered (CNY)"), MONEY),
                Column("converted", gettext("Reached a later stage"), COUNT),
                Column("conversion", gettext("Conversion to a later stage"), PERCENT),
            ],
            funnel_rows,
            chart="funnel",
            label_column="stage",
            value_columns=["entered"],
            help=str(FUNNEL_ENTERED_HELP),
        ),
        Table(
            "pipeline",
            gettext("Open pipeline by stage"),
            [
                stage_column,
                Column("count", gettext("Open opportunities"), COUNT),
                Column("amount", gettext("Amount (CNY)"), MONEY),
                Column("weighted", gettext("Weighted amount (CNY)"), MONEY),
            ],
            pipeline_rows,
            chart="funnel",
            label_column="stage",
            value_columns=["amount", "weighted"],
            help=str(PIPELINE_HELP),
        ),
    ]
    return SectionResult(figures=figures, tables=tables)


# --- Forecast ------------------------------------------------------------------------------


def build_forecast(scope: Scope, period: Period) -> SectionResult:
    """Σ amount × probability ÷ 100 of the open opportunities, by expected close month, for the
    months from the one the period starts in; one query."""
    first = period.start.replace(day=1)
    after = add_months(first, FORECAST_MONTHS)
    weighted = ExpressionWrapper(F("amount_cny") * F("probability"), output_field=EXACT)
    by_month = {
        row["month"]: row
        for row in Opportunity.objects.filter(
            _opportunity_scope(scope),
            closed_at__isnull=True,
            expected_close_date__gte=first,
            expected_close_date__lt=after,
        )
        .annotate(month=TruncMonth("expected_close_date"))
        .order_by()
        .values("month")
        .annotate(count=Count("pk"), amount=Coalesce(Sum("amount_cny"), ZERO), weighted=Sum(weighted))
    }
    rows = []
    for offset in range(FORECAST_MONTHS):
        month = add_months(first, offset)
        row = by_month.get(month, {})
        rows.append(
            {
                "month": f"{month:%Y-%m}",
                "count": row.get("count", 0),
                "amount": money(row.get("amount")),
                "weighted": money(Decimal(row.get("weighted") or 0) / 100),
                "_url": drill(
                    "opportunities:opportunity-list", scope, status="open", close_month=f"{month:%Y-%m}"
                ),
            }
        )
    total = money(sum((row["weighted"] for row in rows), Decimal(0)))
    help_text = gettext(
        "Weighted forecast = Σ amount in CNY × probability ÷ 100 of the open opportunities, by "
        "expected close month, for %(months)s months from the month the period starts in."
    ) % {"months": FORECAST_MONTHS}
    return SectionResult(
        figures=[
            Figure(
                "forecast_total",
                gettext("Weighted forecast, next %(months)s months") % {"months": FORECAST_MONTHS},
                total,
                MONEY,
                help=help_text,
                drill_url=drill(
                    "opportunities:opportunity-list",
                    scope,
                    status="open",
                    close_from=first.isoformat(),
                    close_to=(after - datetime.timedelta(days=1)).isoformat(),
                ),
            )
        ],
        tables=[
            Table(
                "forecast",
                gettext("Weighted forecast by expected close month"),
                [
                    Column("month", gettext("Expected close month")),
                    Column("count", gettext("Open opportunities"), COUNT),
                    Column("amount", gettext("Amount (CNY)"), MONEY),
                    Column("weighted", gettext("Weighted amount (CNY)"), MONEY),
                ],
                rows,
                chart="bar",
                label_column="month",
                value_columns=["weighted"],
                help=help_text,
            )
        ],
    )


# --- Collections ---------------------------------------------------------------------------


def build_collections(scope: Scope, period: Period) -> SectionResult:
    """Contract amount signed and payments received in the period; outstanding and overdue now
    (a balance, not a flow: the same for the period and the one before). Three queries, each
    grouped by the order's owner; the figures are the sums of the groups."""
    today = timezone.localdate()
    in_period = {"gte": period.start, "lt": period.end}
    in_force = Order.Status.ACTIVE
    signed = Q(signed_on__gte=period.start, signed_on__lt=period.end) & ~Q(status=Order.Status.CANCELLED)
    owners: dict[int, dict] = {}

    def owner_row(row: dict, key: str = "owner") -> dict:
        return owners.setdefault(
            row[key],
            {
                "owner_id": row[key],
                "owner": owner_name(row, key),
                "signed": Decimal(0),
                "collected": Decimal(0),
                "outstanding": Decimal(0),
                "overdue": Decimal(0),
            },
        )

    outstanding_cny = ExpressionWrapper(
        (F("amount") - F("paid_amount")) * F("rate_to_cny"), output_field=EXACT
    )
    for row in (
        Order.objects.filter(_opportunity_scope(scope))
        .filter(signed | Q(status=in_force))
        .order_by()
        .values("owner", "owner__display_name", "owner__username")
        .annotate(
            signed=Coalesce(Sum("amount_cny", filter=signed), ZERO),
            outstanding=Coalesce(Sum(outstanding_cny, filter=Q(status=in_force)), ZERO),
        )
    ):
        target = owner_row(row)
        target["signed"] = money(row["signed"])
        target["outstanding"] = money(row["outstanding"])

    for row in (
        Payment.objects.filter(
            _opportunity_scope(scope, "order__"),
            voided_at__isnull=True,
            **{f"received_on__{lookup}": day for lookup, day in in_period.items()},
        )
        .order_by()
        .values("order__owner", "order__owner__display_name", "order__owner__username")
        .annotate(collected=Sum("amount_cny"))
    ):
        owner_row(row, "order__owner")["collected"] = money(row["collected"])

    overdue_cny = ExpressionWrapper(
        (F("amount") - F("paid_amount")) * F("order__rate_to_cny"), output_field=EXACT
    )
    for row in (
        Instalment.objects.filter(
            _opportunity_scope(scope, "order__"),
            settled_at__isnull=True,
            due_date__lt=today,
            order__status=in_force,
        )
        .order_by()
        .values("order__owner", "order__owner__display_name", "order__owner__username")
        .annotate(overdue=Sum(overdue_cny))
    ):
        owner_row(row, "order__owner")["overdue"] = money(row["overdue"])

    def total(key: str) -> Decimal:
        return money(sum((row[key] for row in owners.values()), Decimal(0)))

    figures = [
        Figure(
            "signed",
            gettext("Contract amount signed"),
            total("signed"),
            MONEY,
            help=gettext("Σ amount in CNY of the orders signed during the period (cancelled ones excluded)."),
            drill_url=drill(
                "opportunities:order-list",
                scope,
                signed_from=period.start.isoformat(),
                signed_to=last_day(period).isoformat(),
            ),
        ),
        Figure(
            "collected",
            gettext("Collected"),
            total("collected"),
            MONEY,
            help=gettext("Σ payments in CNY received during the period, voided payments excluded."),
            drill_url=drill("opportunities:order-list", scope),
        ),
        Figure(
            "outstanding",
            gettext("Outstanding"),
            total("outstanding"),
            MONEY,
            help=gettext("Σ (amount − received) in CNY of the orders in force, now."),
            drill_url=drill("opportunities:order-list", scope, outstanding=1),
            compare=False,  # a balance of today
        ),
        Figure(
            "overdue",
            pgettext("payment", "Overdue"),
            total("overdue"),
            MONEY,
            help=gettext(
                "Σ unpaid amount in CNY of the instalments of orders in force whose due date has passed, now."
            ),
            drill_url=drill("opportunities:order-list", scope, overdue=1),
            lower_is_better=True,
            compare=False,  # a balance of today
        ),
    ]
    tables = []
    if scope.owner_id is None:
        rows = sorted(owners.values(), key=lambda row: (-row["signed"], -row["collected"], row["owner"]))
        for row in rows:
            row["_url"] = drill("opportunities:order-list", scope, owner=row.pop("owner_id"))
        tables.append(
            Table(
                "collections_by_owner",
                gettext("Payment collection by owner"),
                [
                    Column("owner", gettext("Owner")),
                    Column("signed", gettext("Contract amount signed"), MONEY),
                    Column("collected", gettext("Collected"), MONEY),
                    Column("outstanding", gettext("Outstanding"), MONEY),
                    Column("overdue", pgettext("payment", "Overdue"), MONEY),
                ],
                rows,
                chart="bar",
                label_column="owner",
                value_columns=["signed", "collected"],
            )
        )
    return SectionResult(figures=figures, tables=tables)


def register() -> None:
    register_section(Section("funnel", _("Sales funnel"), build_funnel, order=10, allowed=can_see_sales))
    register_section(
        Section("forecast", _("Sales forecast"), build_forecast, order=20, allowed=can_see_sales)
    )
    register_section(
        Section("collections", _("Payment collection"), build_collections, order=40, allowed=can_see_sales)
    )
