"""Demo products, quotes, orders, payment plans and payments for ``seed_demo``.

Runs after the opportunities' seeder. Every opportunity that reached the proposal stage (方案报价)
gets a quote written when it entered that stage; some got a second version a few days later.
Open ones have a draft or sent quote, lost ones a rejected one, won ones an accepted one that
became an order signed on the day of the win, with a plan of one to three instalments. Instalments
due in the past were mostly paid around their due date; some are still outstanding, so the
overdue-payment warnings (回款预警) and the collections pages have something to show.

Only opportunities without quotes are seeded, so ``--customers N`` on top of the demo data adds
documents for the new opportunities only. Rows are written with ``bulk_create`` in batches;
numbers (``Q``, ``HT``, ``HK`` + day + sequence) are reserved per day in one statement each.
"""

import datetime
import time
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from accounts.numbering import assign_numbers
from accounts.seeding import SeedContext
from customers.models import Customer
from customers.models import StageChange as CustomerStageChange
from opportunities.models import (
    Instalment,
    Opportunity,
    Order,
    Payment,
    Product,
    Quote,
    QuoteLine,
    Stage,
    cny_amount,
)
from opportunities.seeding import BATCH
from opportunities.services.quotes import line_amount, price_in_currency, quote_totals

# code, name, unit, list price (CNY)
PRODUCTS = [
    ("CRM-STD", "CRM 标准版（年订阅）", "用户/年", Decimal("1200.00")),
    ("CRM-PRO", "CRM 专业版（年订阅）", "用户/年", Decimal("2400.00")),
    ("CRM-ENT", "CRM 企业版（私有化部署）", "套", Decimal("180000.00")),
    ("DP-BASE", "数据平台基础模块", "套", Decimal("68000.00")),
    ("DP-BI", "BI 报表模块", "套", Decimal("36000.00")),
    ("POS-STORE", "门店管理系统（单店）", "店", Decimal("8800.00")),
    ("CC-SEAT", "呼叫中心坐席", "坐席/年", Decimal("3600.00")),
    ("SVC-IMPL", "实施服务", "人天", Decimal("2500.00")),
    ("SVC-DEV", "定制开发", "人天", Decimal("3000.00")),
    ("SVC-TRAIN", "培训服务", "场", Decimal("6000.00")),
    ("SVC-MAINT", "年度维保服务", "年", Decimal("24000.00")),
    ("HW-SERVER", "应用服务器", "台", Decimal("45000.00")),
]
DISCOUNTS = [Decimal(0), Decimal(0), Decimal(5), Decimal(10), Decimal(15)]
TERMS = "1. 报价有效期内有效；2. 合同签订后按回款计划付款；3. 价格含税（增值税 13%）。"
PLANS = [
    [Decimal(100)],
    [Decimal(50), Decimal(50)],
    [Decimal(30), Decimal(60), Decimal(10)],
]
PLAN_DAYS = [7, 60, 180]
CENT = Decimal("0.01")


def seed_sales_documents(context: SeedContext) -> None:
    products = _products()
    stages = list(Stage.objects.filter(active=True).order_by("order"))
    open_stages = [stage for stage in stages if stage.is_open]
    if len(open_stages) < 3:
        context.log("no proposal stage: no quotes seeded")
        return
    # The proposal stage (方案报价) and every open stage after it.
    quoting = [stage.pk for stage in open_stages[2:]]
    started = time.monotonic()
    rows = (
        Opportunity.objects.filter(quotes__isnull=True)
        .annotate(
            quoted_at=Min("stage_changes__changed_at", filter=Q(stage_changes__to_stage_id__in=quoting))
        )
        .filter(quoted_at__isnull=False)
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "owner_id",
            "team_id",
            "customer_id",
            "amount_cny",
            "currency",
            "rate_to_cny",
            "stage__is_won",
            "stage__is_lost",
            "stage_id",
            "closed_at",
            "quoted_at",
        )
    )
    seeder = _Seeder(context, products, negotiation=open_stages[3].pk if len(open_stages) > 3 else None)
    with transaction.atomic():
        counts = seeder.run(rows.iterator(chunk_size=BATCH))
    context.log(
        f"{len(products)} products, {counts['quotes']} quotes, {counts['orders']} orders, "
        f"{counts['payments']} payments in {time.monotonic() - started:.1f} s"
    )


def _products() -> list[Product]:
    for code, name, unit, price in PRODUCTS:
        Product.objects.get_or_create(code=code, defaults={"name": name, "unit": unit, "list_price": price})
    return list(Product.objects.filter(active=True).order_by("pk"))


class _Seeder:
    def __init__(self, context: SeedContext, products: list[Product], *, negotiation: int | None) -> None:
        self.rng = context.rng
        # The share of customers late with an instalment: higher in the small demo, so the
        # collections panel and the overdue-payment warnings (回款预警) have something to show.
        self.late_share = 0.15 if context.extra_customers else 0.3
        self.products = products
        self.negotiation = negotiation
        self.now = timezone.now()
        self.today = timezone.localdate()

    def run(self, rows) -> dict[str, int]:
        counts = {"quotes": 0, "orders": 0, "payments": 0}
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= BATCH:
                self._chunk(chunk, counts)
                chunk = []
        if chunk:
            self._chunk(chunk, counts)
        return counts

    def _lines(self, amount_cny: Decimal, rate: Decimal) -> list[QuoteLine]:
        """One to three products whose total comes near the opportunity's amount."""
        picks = self.rng.sample(self.products, k=min(len(self.products), self.rng.randint(1, 3)))
        shares = (
            [Decimal(1)]
            if len(picks) == 1
            else [Decimal("0.6"), Decimal("0.4"), Decimal("0.2")][: len(picks)]
        )
        lines = []
        for position, (product, share) in enumerate(zip(picks, shares, strict=False), start=1):
            unit_price = price_in_currency(product.list_price, rate)
            quantity = max(Decimal(1), (amount_cny * share / product.list_price).quantize(Decimal(1)))
            discount = self.rng.choice(DISCOUNTS)
            lines.append(
                QuoteLine(
                    position=position,
                    product=product,
                    description=product.name,
                    unit=product.unit,
                    quantity=quantity,
                    unit_price=unit_price,
                    discount_percent=discount,
                    amount=line_amount(quantity, unit_price, discount),
                )
            )
        return lines

    def _quote(self, row, version: int, status: str, created: datetime.datetime, lines) -> Quote:
        pk, name, owner_id, _team, _customer, _amount, currency, rate, *_rest = row
        quote = Quote(
            opportunity_id=pk,
            version=version,
            title=f"{name} 报价",
            status=status,
            currency=currency,
            rate_to_cny=rate,
            valid_until=timezone.localtime(created).date() + datetime.timedelta(days=30),
            terms=TERMS,
            created_by_id=owner_id,
            created_at=created,
        )
        values = [
            {
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
            }
            for line in lines
        ]
        totals = quote_totals(values, tax_rate=quote.tax_rate, rate_to_cny=rate)
        for field, value in vars(totals).items():
            setattr(quote, field, value)
        return quote

    def _chunk(self, rows, counts: dict[str, int]) -> None:
        quotes: list[tuple[Quote, list[QuoteLine]]] = []
        won: list[tuple[tuple, Quote]] = []
        for row in rows:
            (
                _pk,
                _name,
                _owner,
                _team,
                _customer,
                amount_cny,
                _cur,
                rate,
                is_won,
                is_lost,
                stage_id,
                closed_at,
                quoted_at,
            ) = row
            versions = 2 if self.rng.random() < 0.25 else 1
            end = closed_at or self.now
            for version in range(1, versions + 1):
                last = version == versions
                created = quoted_at + (end - quoted_at) * (0 if version == 1 else self.rng.uniform(0.2, 0.6))
                if not last:
                    status = Quote.Status.REJECTED
                elif is_won:
                    status = Quote.Status.ACCEPTED
                elif is_lost:
                    status = Quote.Status.REJECTED
                elif stage_id == self.negotiation or self.rng.random() < 0.6:
                    status = Quote.Status.SENT
                else:
                    status = Quote.Status.DRAFT
                quote_lines = self._lines(amount_cny, rate)
                quote = self._quote(row, version, status, created, quote_lines)
                if status != Quote.Status.DRAFT:
                    quote.sent_at = created + datetime.timedelta(hours=self.rng.randint(1, 48))
                if status in (Quote.Status.ACCEPTED, Quote.Status.REJECTED):
                    quote.decided_at = (
                        closed_at if last and closed_at else quote.sent_at + datetime.timedelta(days=3)
                    )
                if status == Quote.Status.SENT and quote.valid_until < self.today:
                    quote.status = Quote.Status.EXPIRED
                if not last:
                    quote.superseded_at = created + datetime.timedelta(days=3)
                quotes.append((quote, quote_lines))
                if status == Quote.Status.ACCEPTED:
                    won.append((row, quote))
        self._number_quotes([quote for quote, _lines in quotes])
        Quote.objects.bulk_create([quote for quote, _lines in quotes], batch_size=BATCH)
        lines = []
        for quote, quote_lines in quotes:
            for line in quote_lines:
                line.quote_id = quote.pk
                lines.append(line)
        QuoteLine.objects.bulk_create(lines, batch_size=BATCH)
        counts["quotes"] += len(quotes)
        self._orders(won, counts)

    def _number_quotes(self, quotes: list[Quote]) -> None:
        """``Q`` + the day of the first version; later versions share their first one's number."""
        first_of: dict[int, Quote] = {}
        for quote in quotes:
            if quote.version == 1:
                first_of[quote.opportunity_id] = quote
        by_day: dict[str, list[Quote]] = defaultdict(list)
        for quote in first_of.values():
            by_day[f"Q{timezone.localtime(quote.created_at):%Y%m%d}"].append(quote)
        assign_numbers(by_day, lambda quote: quote.created_at)
        for quote in quotes:
            quote.number = first_of[quote.opportunity_id].number

    def _orders(self, won: list[tuple[tuple, Quote]], counts: dict[str, int]) -> None:
        orders, plans = [], []
        for row, quote in won:
            pk, _name, owner_id, team_id, customer_id, *_rest = row
            closed_at = row[11]
            signed_on = timezone.localtime(closed_at or self.now).date()
            order = Order(
                title=quote.title,
                quote_id=quote.pk,
                opportunity_id=pk,
                customer_id=customer_id,
                owner_id=owner_id,
                team_id=team_id,
                signed_on=signed_on,
                amount=quote.total,
                currency=quote.currency,
                rate_to_cny=quote.rate_to_cny,
                amount_cny=cny_amount(quote.total, quote.rate_to_cny),
                created_by_id=owner_id,
                created_at=closed_at or self.now,
            )
            orders.append(order)
            plans.append(self._plan(order))
        by_day: dict[str, list[Order]] = defaultdict(list)
        for order in orders:
            by_day[f"HT{order.signed_on:%Y%m%d}"].append(order)
        assign_numbers(by_day, lambda order: order.created_at)
        Order.objects.bulk_create(orders, batch_size=BATCH)
        instalments, payments = [], []
        for order, (plan, paid) in zip(orders, plans, strict=True):
            for instalment in plan:
                instalment.order_id = order.pk
            instalments.extend(plan)
            for payment in paid:
                payment.order_id = order.pk
            payments.extend(paid)
        Instalment.objects.bulk_create(instalments, batch_size=BATCH)
        by_day_payments: dict[str, list[Payment]] = defaultdict(list)
        for payment in payments:
            by_day_payments[f"HK{payment.received_on:%Y%m%d}"].append(payment)
        assign_numbers(by_day_payments, lambda payment: payment.created_at)
        Payment.objects.bulk_create(payments, batch_size=BATCH)
        counts["orders"] += len(orders)
        counts["payments"] += len(payments)
        self._deal_customers(orders)

    def _deal_customers(self, orders: list[Order]) -> None:
        """A signed order makes its customer a deal (as the order service does), with the stage
        change on the customer's history."""
        signed = {order.customer_id: order for order in sorted(orders, key=lambda order: order.created_at)}
        customers = list(
            Customer.objects.filter(pk__in=signed)
            .exclude(stage=Customer.Stage.DEAL)
            .only("pk", "stage", "created_at")
        )
        changes = []
        for customer in customers:
            order = signed[customer.pk]
            if customer.stage == Customer.Stage.POTENTIAL:
                # Nobody signs straight from "potential": the intent came first.
                changes.append(
                    CustomerStageChange(
                        customer_id=customer.pk,
                        from_stage=customer.stage,
                        to_stage=Customer.Stage.INTENT,
                        changed_at=_intent_at(customer.created_at, order.created_at),
                        changed_by_id=order.owner_id,
                    )
                )
                customer.stage = Customer.Stage.INTENT
            changes.append(
                CustomerStageChange(
                    customer_id=customer.pk,
                    from_stage=customer.stage,
                    to_stage=Customer.Stage.DEAL,
                    changed_at=order.created_at,
                    changed_by_id=order.owner_id,
                )
            )
            customer.stage, customer.stage_changed_at = Customer.Stage.DEAL, order.created_at
        Customer.objects.bulk_update(customers, ["stage", "stage_changed_at"], batch_size=1000)
        CustomerStageChange.objects.bulk_create(changes, batch_size=BATCH)

    def _plan(self, order: Order) -> tuple[list[Instalment], list[Payment]]:
        """Instalments adding up to the amount; those due in the past mostly paid (one payment
        each, around the due date), a few still outstanding."""
        shares = self.rng.choice(PLANS)
        amounts = [(order.amount * share / 100).quantize(CENT) for share in shares[:-1]]
        amounts.append(order.amount - sum(amounts, Decimal(0)))
        instalments, payments = [], []
        paying = True  # a customer who stops paying pays no later instalment either
        for sequence, (amount, days) in enumerate(zip(amounts, PLAN_DAYS, strict=False), start=1):
            due = order.signed_on + datetime.timedelta(days=days)
            instalment = Instalment(sequence=sequence, due_date=due, amount=amount)
            received_on = due + datetime.timedelta(days=self.rng.randint(-5, 10))
            roll = self.rng.random()
            paying = paying and received_on <= self.today and roll >= self.late_share
            if paying:
                partly = roll < self.late_share + 0.05
                paying = not partly
                paid = (amount / 2).quantize(CENT) if partly else amount
                at = timezone.make_aware(datetime.datetime.combine(received_on, datetime.time(15)))
                payments.append(
                    Payment(
                        received_on=received_on,
                        amount=paid,
                        amount_cny=cny_amount(paid, order.rate_to_cny),
                        method=self.rng.choice(Payment.Method.values[:3]),
                        reference=f"银行流水 {self.rng.randint(100000, 999999)}",
                        recorded_by_id=order.owner_id,
                        created_at=at,
                    )
                )
                instalment.paid_amount = paid
                instalment.settled_at = at if paid == amount else None
            instalments.append(instalment)
        order.paid_amount = sum((instalment.paid_amount for instalment in instalments), Decimal(0))
        if order.paid_amount == order.amount:
            order.status = Order.Status.COMPLETED
        return instalments, payments


def _intent_at(created: datetime.datetime, signed: datetime.datetime) -> datetime.datetime:
    """When a customer who signed at ``signed`` showed intent: a week before, or halfway since
    their creation (strictly after it, so the history keeps its order)."""
    moment = signed - datetime.timedelta(days=7)
    return moment if moment > created else created + (signed - created) / 2
