import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from opportunities.models import Product, Quote, QuoteLine
from opportunities.services.quotes import line_amount, quote_totals
from tests.factories.opportunities import OpportunityFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P-{n:04d}")
    name = factory.Sequence(lambda n: f"CRM 标准版许可 {n}")
    unit = "套"
    list_price = Decimal("12000.00")
    description = "含一年维护"
    active = True


class QuoteFactory(factory.django.DjangoModelFactory):
    """A draft quote without lines (add them with QuoteLineFactory, then ``refresh_totals``)."""

    class Meta:
        model = Quote

    number = factory.Sequence(lambda n: f"Q20260101{n:04d}")
    version = 1
    opportunity = factory.SubFactory(OpportunityFactory)
    title = factory.LazyAttribute(lambda quote: f"{quote.opportunity.name} 报价单")
    currency = factory.LazyAttribute(lambda quote: quote.opportunity.currency)
    rate_to_cny = factory.LazyAttribute(lambda quote: quote.opportunity.rate_to_cny)
    tax_rate = Decimal("13.00")
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    created_by = factory.LazyAttribute(lambda quote: quote.opportunity.owner)


class QuoteLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteLine

    quote = factory.SubFactory(QuoteFactory)
    position = factory.Sequence(lambda n: n + 1)
    description = factory.Sequence(lambda n: f"实施服务 {n}")
    unit = "人天"
    quantity = Decimal("2")
    unit_price = Decimal("1500.00")
    discount_percent = Decimal("0")
    amount = factory.LazyAttribute(
        lambda line: line_amount(line.quantity, line.unit_price, line.discount_percent)
    )


def refresh_totals(quote: Quote) -> Quote:
    """Store the totals of the quote's lines, as the services would."""
    lines = list(quote.lines.values("quantity", "unit_price", "discount_percent"))
    totals = quote_totals(lines, tax_rate=quote.tax_rate, rate_to_cny=quote.rate_to_cny)
    for name, value in totals.__dict__.items():
        setattr(quote, name, value)
    quote.save()
    return quote


def quote_with_lines(count: int = 2, **kwargs) -> Quote:
    quote = QuoteFactory(**kwargs)
    for _ in range(count):
        QuoteLineFactory(quote=quote)
    return refresh_totals(quote)
