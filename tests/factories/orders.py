"""Orders, their payment plans and payments, as the services would leave them.

``accepted_quote`` builds an accepted quote directly with the model (the quotes slice has its own
factories); ``OrderFactory`` makes an order in force with no money received: give it instalments
with ``InstalmentFactory`` (or ``plan(order, ...)``) and payments with ``PaymentFactory`` followed
by ``settle(order)`` to allocate them the way the services do.
"""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from opportunities.models import Instalment, Order, Payment, Quote, cny_amount
from opportunities.services.orders import order_settle
from tests.factories.opportunities import OpportunityFactory


def accepted_quote(opportunity=None, *, total: Decimal = Decimal("100000.00"), **fields) -> Quote:
    opportunity = opportunity or OpportunityFactory()
    values = {
        "number": f"Q{opportunity.pk:08d}{Quote.objects.count():04d}",
        "opportunity": opportunity,
        "title": f"{opportunity.name} 报价",
        "status": Quote.Status.ACCEPTED,
        "currency": opportunity.currency,
        "rate_to_cny": opportunity.rate_to_cny,
        "valid_until": timezone.localdate() + datetime.timedelta(days=30),
        "subtotal": total,
        "total": total,
        "total_cny": cny_amount(total, opportunity.rate_to_cny),
        "created_by": opportunity.owner,
    }
    return Quote.objects.create(**(values | fields))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"HT20260101{n:04d}")
    title = factory.Sequence(lambda n: f"软件采购合同{n}")
    quote = None
    opportunity = factory.SubFactory(OpportunityFactory)
    customer = factory.LazyAttribute(lambda order: order.opportunity.customer)
    owner = factory.LazyAttribute(lambda order: order.opportunity.owner)
    team = factory.LazyAttribute(lambda order: order.owner.team)
    signed_on = factory.LazyFunction(timezone.localdate)
    amount = Decimal("100000.00")
    currency = "CNY"
    rate_to_cny = Decimal(1)
    amount_cny = factory.LazyAttribute(lambda order: cny_amount(order.amount, order.rate_to_cny))


class InstalmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instalment

    order = factory.SubFactory(OrderFactory)
    sequence = factory.Sequence(lambda n: n + 1)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    amount = factory.LazyAttribute(lambda instalment: instalment.order.amount)


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment row only: call ``settle(order)`` to allocate it like the services do."""

    class Meta:
        model = Payment

    number = factory.Sequence(lambda n: f"HK20260101{n:04d}")
    order = factory.SubFactory(OrderFactory)
    received_on = factory.LazyFunction(timezone.localdate)
    amount = Decimal("1000.00")
    amount_cny = factory.LazyAttribute(lambda payment: cny_amount(payment.amount, payment.order.rate_to_cny))


def plan(order: Order, *rows: tuple[int, str]) -> list[Instalment]:
    """Instalments of ``order``: ``(days from today, amount)`` each (negative days: overdue)."""
    today = timezone.localdate()
    return [
        InstalmentFactory(
            order=order,
            sequence=number,
            due_date=today + datetime.timedelta(days=days),
            amount=Decimal(amount),
        )
        for number, (days, amount) in enumerate(rows, start=1)
    ]


def settle(order: Order) -> Order:
    """Allocate the order's payments to its plan (the services' own rule)."""
    order_settle(order, timezone.now())
    order.refresh_from_db()
    return order
