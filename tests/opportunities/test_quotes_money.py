"""Quote money rules (opportunities.models.quotes): Decimal, each amount rounded once, half up."""

from decimal import Decimal

import pytest
from django.utils import translation

from accounts.errors import DomainError
from opportunities.models import Opportunity, Quote
from opportunities.services.quotes import (
    line_amount,
    price_in_currency,
    quote_create,
    quote_totals,
)
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.quotes import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are matched in English (the default language is zh-hans)."""
    with translation.override("en"):
        yield


D = Decimal


def line(quantity: str, price: str, discount: str = "0", **extra) -> dict:
    return {
        "quantity": D(quantity),
        "unit_price": D(price),
        "discount_percent": D(discount),
        "description": "服务",
        **extra,
    }


@pytest.fixture
def opportunity(rep):
    return OpportunityFactory(customer=CustomerFactory(owner=rep))


def test_three_at_33_33_with_ten_percent_off_and_thirteen_percent_tax(rep, opportunity):
    quote = quote_create(actor=rep, opportunity=opportunity, lines=[line("3", "33.33", "10")])
    # 3 × 33.33 = 99.99; × 0.9 = 89.991 → 89.99; tax 89.99 × 13% = 11.6987 → 11.70.
    assert quote.list_total == D("99.99")
    assert quote.subtotal == D("89.99")
    assert quote.discount_total == D("10.00")
    assert quote.tax_amount == D("11.70")
    assert quote.total == D("101.69")
    assert quote.total_cny == D("101.69") and quote.rate_to_cny == 1
    stored = Quote.objects.get(pk=quote.pk)
    assert (stored.subtotal, stored.tax_amount, stored.total) == (D("89.99"), D("11.70"), D("101.69"))
    assert [saved.amount for saved in stored.lines.all()] == [D("89.99")]


def test_several_lines_add_up_to_what_is_printed(rep, opportunity):
    quote = quote_create(
        actor=rep,
        opportunity=opportunity,
        lines=[line("2", "1999.99", "5"), line("1.5", "800", "0"), line("10", "0.99", "12.5")],
    )
    # 3999.98 × 0.95 = 3799.981 → 3799.98; 1200.00; 9.90 × 0.875 = 8.6625 → 8.66.
    assert [saved.amount for saved in quote.lines.order_by("position")] == [
        D("3799.98"),
        D("1200.00"),
        D("8.66"),
    ]
    assert quote.subtotal == D("5008.64")
    assert quote.list_total == D("3999.98") + D("1200.00") + D("9.90")
    assert quote.discount_total == quote.list_total - quote.subtotal == D("201.24")
    assert quote.tax_amount == D("651.12")  # 5008.64 × 0.13 = 651.1232
    assert quote.total == D("5659.76")


def test_each_amount_is_rounded_once_not_per_step():
    # 1.5 × 0.35 × 0.9 = 0.4725 → 0.47; rounding 1.5 × 0.35 = 0.525 first would give 0.53 × 0.9 → 0.48.
    assert line_amount(D("1.5"), D("0.35"), D("10")) == D("0.47")
    # Tax is computed once on the subtotal: 2 × 0.05 = 0.10 × 13% = 0.013 → 0.01 (per line: 0.01 + 0.01).
    totals = quote_totals([line("1", "0.05"), line("1", "0.05")], tax_rate=D("13"), rate_to_cny=D("1"))
    assert totals.tax_amount == D("0.01") and totals.total == D("0.11")


def test_rounding_is_half_up():
    assert line_amount(D("1"), D("0.25"), D("50")) == D("0.13")  # 0.125 → 0.13, not banker's 0.12
    totals = quote_totals([line("1", "0.50")], tax_rate=D("1"), rate_to_cny=D("1"))
    assert totals.tax_amount == D("0.01")  # 0.005 → 0.01


def test_foreign_currency_total_in_cny_is_rounded_once(rep, opportunity):
    quote = quote_create(
        actor=rep,
        opportunity=opportunity,
        currency=Opportunity.Currency.USD,
        rate_to_cny=D("7.123456"),
        tax_rate=D("0"),
        lines=[line("1", "1234.57")],
    )
    assert quote.total == D("1234.57")
    assert quote.total_cny == D("8794.41")  # 1234.57 × 7.123456 = 8794.4052…
    assert quote.currency == "USD" and quote.rate_to_cny == D("7.123456")


def test_quote_in_the_opportunitys_currency_takes_its_rate(rep):
    opportunity = OpportunityFactory(
        customer=CustomerFactory(owner=rep), currency=Opportunity.Currency.EUR, rate_to_cny=D("7.8")
    )
    quote = quote_create(actor=rep, opportunity=opportunity, lines=[line("2", "100")])
    assert quote.currency == "EUR" and quote.rate_to_cny == D("7.8")
    assert quote.total == D("226.00") and quote.total_cny == D("1762.80")


def test_foreign_currency_needs_a_rate(rep, opportunity):
    with pytest.raises(DomainError) as error:
        quote_create(
            actor=rep, opportunity=opportunity, currency="USD", rate_to_cny=None, lines=[line("1", "1")]
        )
    assert error.value.field == "rate_to_cny"
    assert not Quote.objects.exists()


def test_a_quote_without_lines_is_refused(rep, opportunity):
    with pytest.raises(DomainError) as error:
        quote_create(actor=rep, opportunity=opportunity, lines=[])
    assert error.value.field == "lines"
    assert not Quote.objects.exists()


@pytest.mark.parametrize("quantity", ["-1", "0"])
def test_a_quantity_of_zero_or_less_is_refused(rep, opportunity, quantity):
    with pytest.raises(DomainError, match="quantity"):
        quote_create(actor=rep, opportunity=opportunity, lines=[line("1", "10"), line(quantity, "10")])
    assert not Quote.objects.exists()


def test_a_negative_price_and_a_discount_over_100_are_refused(rep, opportunity):
    with pytest.raises(DomainError):
        quote_create(actor=rep, opportunity=opportunity, lines=[line("1", "-5")])
    with pytest.raises(DomainError):
        quote_create(actor=rep, opportunity=opportunity, lines=[line("1", "5", "100.01")])
    assert not Quote.objects.exists()


def test_a_hundred_percent_discount_makes_the_line_free(rep, opportunity):
    quote = quote_create(
        actor=rep, opportunity=opportunity, lines=[line("2", "5000", "100"), line("1", "300", "0")]
    )
    assert [saved.amount for saved in quote.lines.order_by("position")] == [D("0.00"), D("300.00")]
    assert quote.list_total == D("10300.00")
    assert quote.discount_total == D("10000.00")
    assert quote.subtotal == D("300.00") and quote.tax_amount == D("39.00") and quote.total == D("339.00")


def test_an_all_free_quote_totals_zero(rep, opportunity):
    quote = quote_create(actor=rep, opportunity=opportunity, lines=[line("1", "999", "100")])
    assert quote.subtotal == quote.tax_amount == quote.total == quote.total_cny == D("0.00")


def test_a_product_line_takes_the_list_price_converted_at_the_rate(rep, opportunity):
    product = ProductFactory(name="数据中台", unit="套", list_price=D("7100.00"))
    quote = quote_create(
        actor=rep,
        opportunity=opportunity,
        currency="USD",
        rate_to_cny=D("7.1"),
        tax_rate=D("0"),
        lines=[{"product": product, "quantity": D("3"), "unit_price": None, "discount_percent": D("0")}],
    )
    saved = quote.lines.get()
    assert (saved.description, saved.unit, saved.unit_price) == ("数据中台", "套", D("1000.00"))
    assert quote.total == D("3000.00") and quote.total_cny == D("21300.00")
    assert price_in_currency(D("100"), D("3")) == D("33.33")
    assert price_in_currency(D("100"), D("1")) == D("100")
