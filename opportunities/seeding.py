"""Demo opportunities for ``seed_demo``: every stage, with stage histories over the past year.

The demo customers get about one opportunity in two, the ``--customers N`` ones about one in
three. Where a customer's lifecycle stage says how things went, the opportunity agrees: deal
customers mostly have a won one, lost customers a lost one, potential customers early ones.
Rows are built in memory and written with ``bulk_create`` in batches (ids come back on
PostgreSQL), stage changes after them; numbers ``O`` + day come from ``accounts.numbering`` with
one statement for all days. Each step lasts about the stage's expected days (some over, so the board
shows amber and red cards). Everything random comes from ``context.rng``.
"""

import datetime
import time
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.numbering import assign_numbers
from accounts.seeding import SeedContext
from customers.models import Customer
from opportunities.models import LostReason, Opportunity, Stage, StageChange, cny_amount

DEMO_CUSTOMERS = 60
DEMO_SHARE = 0.6
GENERATED_SHARE = 1 / 3
BATCH = 5000
NAMES = [
    "CRM系统采购",
    "年度维保续约",
    "数据平台建设",
    "门店管理系统",
    "移动办公升级",
    "ERP集成项目",
    "呼叫中心扩容",
    "员工培训服务包",
    "私有化部署",
    "报表定制开发",
]
NEXT_STEPS = [
    "电话确认需求细节",
    "发送报价单",
    "安排产品演示",
    "约决策人面谈",
    "跟进合同审批",
    "提交技术方案",
]
LOST_NOTES = ["客户最终选择了价格更低的方案", "项目预算被砍", "多次联系未果", ""]
# (currency, rate to CNY, weight)
CURRENCIES = [
    ("CNY", Decimal(1), 85),
    ("USD", Decimal("7.1"), 7),
    ("EUR", Decimal("7.75"), 3),
    ("HKD", Decimal("0.91"), 5),
]
AMOUNTS = [Decimal(value) for value in (8_000, 25_000, 48_000, 96_000, 150_000, 280_000, 520_000, 1_200_000)]


def seed_opportunities(context: SeedContext) -> None:
    stages = list(Stage.objects.filter(active=True).order_by("order"))
    open_stages = [stage for stage in stages if stage.is_open]
    won = next((stage for stage in stages if stage.is_won), None)
    lost = next((stage for stage in stages if stage.is_lost), None)
    reasons = list(LostReason.objects.filter(active=True).order_by("order"))
    if not open_stages or won is None or lost is None or not reasons:
        context.log("no opportunity stages: run the migrations first")
        return
    seeder = _Seeder(context, open_stages, won, lost, reasons)
    generated_from = None
    if context.extra_customers:
        first = Customer.objects.order_by("-pk").values_list("pk", flat=True)[
            context.extra_customers - 1 : context.extra_customers
        ]
        if first and not Opportunity.objects.filter(customer_id__gte=first[0]).exists():
            generated_from = first[0]
    if not Opportunity.objects.exists():
        candidates = Customer.objects.filter(deleted_at__isnull=True)
        if generated_from:
            candidates = candidates.filter(pk__lt=generated_from)
        demo = list(_rows(candidates.order_by("pk")[:DEMO_CUSTOMERS]))
        with transaction.atomic():
            count = seeder.run(demo, DEMO_SHARE, every_stage=True)
        context.log(f"{count} demo opportunities")
    if generated_from:
        started = time.monotonic()
        with transaction.atomic():
            count = seeder.run(
                _rows(
                    Customer.objects.filter(pk__gte=generated_from, deleted_at__isnull=True).order_by("pk")
                ),
                GENERATED_SHARE,
            )
        context.log(f"{count} opportunities for generated customers in {time.monotonic() - started:.1f} s")


def _rows(queryset):
    return queryset.values_list(
        "pk", "owner_id", "owner__team_id", "created_at", "stage", "source_id"
    ).iterator(chunk_size=BATCH)


class _Seeder:
    def __init__(self, context: SeedContext, open_stages, won, lost, reasons) -> None:
        self.rng = context.rng
        self.open_stages, self.won, self.lost, self.reasons = open_stages, won, lost, reasons
        self.now = timezone.now()
        self.today = timezone.localdate()

    def _outcome(self, customer_stage: str, forced: int | None) -> tuple[int, str]:
        """How far it got (index into open stages) and how it ended: open, won or lost."""
        last = len(self.open_stages) - 1
        if forced is not None:
            # Every open stage once, then two wins (orders and collections to show) and a loss.
            slot = forced % (len(self.open_stages) + 3)
            if slot <= last:
                return slot, "open"
            return (last, "won") if slot <= last + 2 else (self.rng.randint(0, last), "lost")
        roll = self.rng.random()
        if customer_stage == Customer.Stage.DEAL:
            return (last, "won") if roll < 0.7 else (self.rng.randint(1, last), "open")
        if customer_stage == Customer.Stage.LOST:
            return self.rng.randint(0, last), "lost"
        if customer_stage == Customer.Stage.POTENTIAL:
            return self.rng.randint(0, 1), "open"
        return (self.rng.randint(0, last), "open") if roll < 0.8 else (self.rng.randint(0, last), "lost")

    def _history(self, created: datetime.datetime, path: list[Stage]) -> list[datetime.datetime]:
        """When each stage of ``path`` was entered: about its expected days apart, within the past."""
        gaps = [
            datetime.timedelta(days=max(stage.expected_days, 3) * self.rng.uniform(0.3, 2.4))
            for stage in path[:-1]
        ]
        # Squeezed into the time since creation, ending some while ago (not all just now).
        room = max(
            (self.now - created) * self.rng.uniform(0.5, 0.95) - datetime.timedelta(hours=1),
            datetime.timedelta(seconds=len(path)),
        )
        total = sum(gaps, datetime.timedelta())
        if total > room and total:
            gaps = [gap * (room / total) for gap in gaps]
        moments = [created]
        for gap in gaps:
            moments.append(moments[-1] + gap)
        return moments

    def run(self, customers, share: float, *, every_stage: bool = False) -> int:
        built: list[tuple[Opportunity, list[tuple[Stage, datetime.datetime]]]] = []
        forced = 0
        for pk, owner_id, team_id, customer_created, customer_stage, source_id in customers:
            if self.rng.random() >= share:
                continue
            index, ending = self._outcome(customer_stage, forced if every_stage else None)
            forced += 1
            path = self.open_stages[: index + 1]
            if ending == "won":
                path = [*path, self.won]
            elif ending == "lost":
                path = [*path, self.lost]
            earliest = max(customer_created, self.now - datetime.timedelta(days=365))
            span = max((self.now - earliest).total_seconds() * 0.9, 3600)
            created = earliest + datetime.timedelta(seconds=self.rng.uniform(0, span))
            moments = self._history(created, path)
            currency, rate, _weight = self.rng.choices(CURRENCIES, weights=[c[2] for c in CURRENCIES])[0]
            amount = self.rng.choice(AMOUNTS) * Decimal(self.rng.randint(80, 130)) / 100
            amount = (
                (amount / rate).quantize(Decimal("1000"))
                if currency != "CNY"
                else amount.quantize(Decimal("100"))
            )
            final = path[-1]
            closed_at = moments[-1] if not final.is_open else None
            opportunity = Opportunity(
                name=self.rng.choice(NAMES),
                customer_id=pk,
                owner_id=owner_id,
                team_id=team_id,
                amount=amount,
                currency=currency,
                rate_to_cny=rate,
                amount_cny=cny_amount(amount, rate),
                expected_close_date=(closed_at or self.now).date()
                + datetime.timedelta(days=self.rng.randint(0, 90))
                if final.is_open
                else timezone.localtime(closed_at).date(),
                stage=final,
                probability=final.probability,
                source_id=source_id,
                next_step=self.rng.choice(NEXT_STEPS) if final.is_open else "",
                next_step_date=self.today + datetime.timedelta(days=self.rng.randint(-10, 14))
                if final.is_open
                else None,
                lost_reason=self.rng.choice(self.reasons) if final.is_lost else None,
                lost_note=self.rng.choice(LOST_NOTES) if final.is_lost else "",
                closed_at=closed_at,
                stage_entered_at=moments[-1],
                created_by_id=owner_id,
                created_at=created,
            )
            built.append((opportunity, list(zip(path, moments, strict=True))))
        self._number([opportunity for opportunity, _steps in built])
        for start in range(0, len(built), BATCH):
            chunk = built[start : start + BATCH]
            Opportunity.objects.bulk_create([opportunity for opportunity, _steps in chunk], batch_size=BATCH)
            changes = []
            for opportunity, steps in chunk:
                previous = None
                for stage, moment in steps:
                    changes.append(
                        StageChange(
                            opportunity_id=opportunity.pk,
                            from_stage=previous,
                            to_stage=stage,
                            changed_by_id=opportunity.owner_id,
                            changed_at=moment,
                            amount=opportunity.amount,
                            currency=opportunity.currency,
                            amount_cny=opportunity.amount_cny,
                        )
                    )
                    previous = stage
            StageChange.objects.bulk_create(changes, batch_size=BATCH)
        return len(built)

    def _number(self, opportunities: list[Opportunity]) -> None:
        """``O`` + creation day + daily sequence, in time order within each day."""
        by_day: dict[str, list[Opportunity]] = defaultdict(list)
        for opportunity in opportunities:
            by_day[f"O{timezone.localtime(opportunity.created_at):%Y%m%d}"].append(opportunity)
        assign_numbers(by_day, lambda opportunity: opportunity.created_at)
