"""Customer KPIs (SPEC 7): new customers by source and value class, conversion, churn and
repurchase, from the customers' lifecycle history (customers.StageChange).

Four queries whatever the number of customers. Customers count by their own owner and team;
customers in the recycle bin (deleted or merged away) count for nothing, as on the lists.

Definitions (shown next to each figure):

- stage at the period start: the ``to_stage`` of the customer's last stage change before the
  period; a customer with no history before it but created before it, whose stage has not changed
  since the period started, is taken in its current stage;
- conversion rate (SPEC 7) = customers that became deal during the period ÷ intent customers
  followed in the period (in the intent stage at the period start or moved to it during the
  period, with at least one interaction during the period); the first count is a part of the
  second;
- churn rate = customers in the intent or deal stage at the period start that moved to lost
  during the period ÷ customers in the intent or deal stage at the period start;
- repurchase rate = customers with at least two orders signed before the period ends ÷ customers
  with at least one (cancelled orders do not count).
"""

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.base import (
    COUNT,
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
from analytics.kpis.sales import drill, last_day
from customers.models import Customer, Source
from customers.models import StageChange as CustomerStageChange
from interactions.models import Interaction
from opportunities.models import Order

INTENT, DEAL, LOST = Customer.Stage.INTENT, Customer.Stage.DEAL, Customer.Stage.LOST

CONVERSION_HELP = _(
    "Conversion rate = customers that became deal customers during the period ÷ intent customers "
    "followed in the period (in the intent stage at the period start or moved to it during the "
    "period, with at least one interaction during the period)."
)
CHURN_HELP = _(
    "Churn rate = customers that moved to lost during the period ÷ customers in the intent or deal "
    "stage at the period start (the numerator counts only those customers)."
)
REPURCHASE_HELP = _(
    "Repurchase rate = customers with at least two orders signed before the end of the period ÷ "
    "customers with at least one (cancelled orders do not count)."
)


def can_see_customers(user) -> bool:
    return user.has_perm("customers.view_customer")


def _stage_at(start) -> Subquery:
    """The customer's lifecycle stage at ``start``: where its last change before it led (None
    when it has no history before ``start``)."""
    last_change = (
        CustomerStageChange.objects.filter(customer=OuterRef("pk"), changed_at__lt=start)
        .order_by("-changed_at", "-pk")
        .values("to_stage")[:1]
    )
    return Subquery(last_change, output_field=CharField())


def _moved_to(stage: str, start, end) -> Exists:
    return Exists(
        CustomerStageChange.objects.filter(
            customer=OuterRef("pk"), to_stage=stage, changed_at__gte=start, changed_at__lt=end
        )
    )


def _when_changed(changed: Q, moved: Exists) -> Case:
    return Case(When(changed, then=moved), default=Value(False), output_field=BooleanField())


def build_customers(scope: Scope, period: Period) -> SectionResult:
    start, end = period.bounds()
    customers = Customer.objects.filter(scope.q(), deleted_at__isnull=True)
    created = {"created_from": period.start.isoformat(), "created_to": last_day(period).isoformat()}

    # 1–2. New customers by source and by value class.
    new = customers.filter(created_at__gte=start, created_at__lt=end).order_by()
    source_rows = []
    for row in new.values("source", "source__name", "source__name_en").annotate(count=Count("pk")):
        if row["source"] is None:
            label, url = gettext("No source"), None
        else:
            label = str(Source(name=row["source__name"], name_en=row["source__name_en"] or ""))
            url = drill("customers:customer-list", scope, source=row["source"], **created)
        source_rows.append({"source": label, "count": row["count"], "_url": url})
    source_rows.sort(key=lambda row: (-row["count"], row["source"]))
    by_class = dict(new.values_list("value_class").annotate(count=Count("pk")))
    class_rows = [
        {
            "value_class": str(label),
            "count": by_class.get(value, 0),
            "_url": drill("customers:customer-list", scope, value_class=value, **created),
        }
        for value, label in Customer.ValueClass.choices
    ]

    # 3. Conversion and churn, from the lifecycle history. ``stage_changed_at`` is kept with
    # every stage change, so a customer unchanged since the period started is still in its
    # current stage: only the others need their history read (CASE runs a subquery only for the
    # rows that take its branch), and only customers that can count are read at all (intent or
    # deal now, or changed since the start).
    changed = Q(stage_changed_at__gte=start)
    may_convert = Q(stage=INTENT) | changed
    was_active = Q(created_at__lt=start, start_stage__in=[INTENT, DEAL])
    intent_followed = (Q(start_stage=INTENT) | Q(to_intent=True)) & Q(followed=True)
    lifecycle = (
        customers.filter(Q(stage__in=[INTENT, DEAL]) | changed, created_at__lt=end)
        .annotate(
            start_stage=Case(
                When(changed, then=_stage_at(start)),
                When(created_at__lt=start, then=F("stage")),
                default=Value(None),
                output_field=CharField(),
            ),
            followed=Case(
                When(
                    may_convert,
                    then=Exists(
                        Interaction.objects.filter(
                            customer=OuterRef("pk"), occurred_at__gte=start, occurred_at__lt=end
                        )
                    ),
                ),
                default=Value(False),
            ),
            to_intent=_when_changed(changed, _moved_to(INTENT, start, end)),
            to_deal=_when_changed(changed, _moved_to(DEAL, start, end)),
            to_lost=_when_changed(changed, _moved_to(LOST, start, end)),
        )
        .aggregate(
            active=Count("pk", filter=was_active),
            churned=Count("pk", filter=was_active & Q(to_lost=True)),
            intent_followed=Count("pk", filter=intent_followed),
            converted=Count("pk", filter=intent_followed & Q(to_deal=True)),
        )
    )

    # 4. Repurchase: customers by their number of orders signed before the period ends.
    buyers = (
        Order.objects.filter(
            scope.q(owner="customer__owner", team="customer__team"),
            customer__deleted_at__isnull=True,
            signed_on__lt=period.end,
        )
        .exclude(status=Order.Status.CANCELLED)
        .order_by()
        .values("customer")
        .annotate(orders=Count("pk"))
        .aggregate(buyers=Count("customer"), repeat=Count("customer", filter=Q(orders__gte=2)))
    )

    new_count = sum(row["count"] for row in source_rows)
    figures = [
        Figure(
            "new_customers",
            gettext("New customers"),
            new_count,
            COUNT,
            help=gettext("Customers created during the period (not in the recycle bin)."),
            drill_url=drill("customers:customer-list", scope, **created),
        ),
        Figure(
            "conversion_rate",
            gettext("Conversion rate"),
            rate(lifecycle["converted"], lifecycle["intent_followed"]),
            PERCENT,
            help=str(CONVERSION_HELP),
            drill_url=drill("customers:customer-list", scope, stage=DEAL),
        ),
        Figure(
            "churn_rate",
            gettext("Churn rate"),
            rate(lifecycle["churned"], lifecycle["active"]),
            PERCENT,
            help=str(CHURN_HELP),
            drill_url=drill("customers:customer-list", scope, stage=LOST),
            lower_is_better=True,
        ),
        Figure(
            "repurchase_rate",
            gettext("Repurchase rate"),
            rate(buyers["repeat"], buyers["buyers"]),
            PERCENT,
            help=str(REPURCHASE_HELP),
            drill_url=drill("customers:customer-list", scope, stage=DEAL),
        ),
    ]
    tables = [
        Table(
            "customers_by_source",
            gettext("New customers by source"),
            [Column("source", gettext("Source")), Column("count", gettext("New customers"), COUNT)],
            source_rows,
            chart="doughnut",
            label_column="source",
            value_columns=["count"],
        ),
        Table(
            "customers_by_class",
            gettext("New customers by value class"),
            [Column("value_class", gettext("Value class")), Column("count", gettext("New customers"), COUNT)],
            class_rows,
            chart="bar",
            label_column="value_class",
            value_columns=["count"],
        ),
    ]
    return SectionResult(figures=figures, tables=tables)


def register() -> None:
    register_section(
        Section("customers", _("Customers"), build_customers, order=30, allowed=can_see_customers)
    )
