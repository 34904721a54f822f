"""Quote services: create, edit a draft (optimistic locking), the status workflow, versions, expiry."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone, translation

from accounts.errors import ConcurrentEditError, DomainError
from opportunities.models import Quote
from opportunities.services import opportunity_move_stage
from opportunities.services.quotes import (
    quote_accept,
    quote_create,
    quote_new_version,
    quote_reject,
    quote_send,
    quote_snapshot,
    quote_update,
    quotes_expire,
)
from opportunities.tasks.quotes import expire_quotes
from tests.factories.accounts import UserFactory
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage
from tests.factories.quotes import ProductFactory, QuoteFactory, quote_with_lines

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are matched in English (the default language is zh-hans)."""
    with translation.override("en"):
        yield


D = Decimal


def line(quantity="1", price="100", discount="0", **extra) -> dict:
    return {
        "quantity": D(quantity),
        "unit_price": D(price),
        "discount_percent": D(discount),
        "description": "实施服务",
        **extra,
    }


@pytest.fixture
def opportunity(rep):
    return OpportunityFactory(customer=CustomerFactory(owner=rep), name="门店系统")


@pytest.fixture
def quote(rep, opportunity):
    return quote_create(actor=rep, opportunity=opportunity, lines=[line("2", "500")])


def _header(quote: Quote, **overrides) -> dict:
    values = {name: getattr(quote, name) for name in ["title", "contact", "currency", "rate_to_cny"]}
    values |= {"tax_rate": quote.tax_rate, "valid_until": quote.valid_until, "terms": quote.terms}
    return values | overrides


# Create


def test_rep_creates_a_draft_with_number_version_defaults_and_lines(rep, opportunity):
    contact = ContactFactory(customer=opportunity.customer)
    product = ProductFactory(name="会员模块", unit="套", list_price=D("8000"))
    quote = quote_create(
        actor=rep,
        opportunity=opportunity,
        contact=contact,
        terms="  付款：签约后 30 天内  ",
        lines=[
            {"product": product, "quantity": D("1"), "unit_price": None, "discount_percent": D("0")},
            line("3", "1200", "10", unit="人天"),
        ],
    )
    assert quote.number.startswith(f"Q{timezone.localdate():%Y%m%d}") and quote.version == 1
    assert quote.status == Quote.Status.DRAFT and quote.is_editable
    assert quote.title == "门店系统 quote"  # the default title, in the actor's language
    assert quote.tax_rate == D("13.00") and quote.currency == "CNY"
    assert quote.valid_until == timezone.localdate() + datetime.timedelta(days=30)
    assert quote.terms == "付款：签约后 30 天内" and quote.contact == contact and quote.created_by == rep
    lines = list(quote.lines.order_by("position"))
    assert [(saved.position, saved.description, saved.unit) for saved in lines] == [
        (1, "会员模块", "套"),
        (2, "实施服务", "人天"),
    ]
    assert lines[0].product == product and lines[0].unit_price == D("8000.00")
    assert quote.subtotal == D("11240.00") and quote.total == D("12701.20")


def test_quotes_are_only_made_for_open_opportunities(rep, opportunity):
    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("输单"), lost_reason=lost_reason())
    with pytest.raises(DomainError, match="open opportunit"):
        quote_create(actor=rep, opportunity=opportunity, lines=[line()])


def test_the_contact_must_be_the_customers(rep, opportunity):
    stranger = ContactFactory()
    with pytest.raises(DomainError) as error:
        quote_create(actor=rep, opportunity=opportunity, contact=stranger, lines=[line()])
    assert error.value.field == "contact"


def test_an_inactive_product_cannot_be_quoted(rep, opportunity):
    product = ProductFactory(active=False)
    with pytest.raises(DomainError, match="no longer sold"):
        quote_create(
            actor=rep,
            opportunity=opportunity,
            lines=[{"product": product, "quantity": D("1"), "unit_price": None, "discount_percent": D(0)}],
        )


def test_a_line_needs_a_product_or_a_description(rep, opportunity):
    with pytest.raises(DomainError, match="description"):
        quote_create(actor=rep, opportunity=opportunity, lines=[line(description="  ")])


# Edit


def test_editing_a_draft_replaces_its_lines_and_totals(rep, quote):
    updated = quote_update(
        actor=rep,
        quote=quote,
        lock_version=quote.lock_version,
        lines=[line("1", "1000", "20"), line("4", "25")],
        **_header(quote, title="修订报价", tax_rate=D("6")),
    )
    assert updated.lock_version == 2 and updated.title == "修订报价"
    assert list(updated.lines.order_by("position").values_list("amount", flat=True)) == [
        D("800.00"),
        D("100.00"),
    ]
    assert (
        updated.subtotal == D("900.00") and updated.tax_amount == D("54.00") and updated.total == D("954.00")
    )
    assert Quote.objects.get(pk=quote.pk).lines.count() == 2


def test_a_stale_edit_is_refused_and_names_what_changed(rep, teammate, quote):
    seen = quote_snapshot(quote)
    quote_update(
        actor=teammate,
        quote=quote,
        lock_version=1,
        lines=[line("2", "500")],
        **_header(quote, title="别人改过的标题"),
    )
    with pytest.raises(ConcurrentEditError) as error:
        quote_update(
            actor=rep, quote=quote, lock_version=1, seen=seen, lines=[line("9", "9")], **_header(quote)
        )
    assert "别人改过的标题" in error.value.message
    saved = Quote.objects.get(pk=quote.pk)
    assert saved.title == "别人改过的标题" and saved.lines.get().quantity == D("2")


def test_a_draft_keeps_a_product_taken_off_the_price_list(rep, opportunity):
    product = ProductFactory(list_price=D("100"))
    quote = quote_create(
        actor=rep,
        opportunity=opportunity,
        lines=[{"product": product, "quantity": D("1"), "unit_price": None, "discount_percent": D(0)}],
    )
    product.active = False
    product.save()
    lines = [{"product": product, "quantity": D("2"), "unit_price": D("90"), "discount_percent": D(0)}]
    updated = quote_update(actor=rep, quote=quote, lock_version=1, lines=lines, **_header(quote))
    assert updated.subtotal == D("180.00")


def test_only_a_draft_can_be_edited(rep, quote):
    quote_send(actor=rep, quote=quote)
    with pytest.raises(DomainError, match="draft"):
        quote_update(actor=rep, quote=quote, lock_version=2, lines=[line()], **_header(quote))


# Status


def test_send_then_accept_records_the_times(rep, quote):
    sent = quote_send(actor=rep, quote=quote)
    assert sent.status == Quote.Status.SENT and sent.sent_at is not None and not sent.is_editable
    accepted = quote_accept(actor=rep, quote=sent)
    assert accepted.status == Quote.Status.ACCEPTED and accepted.decided_at is not None


def test_send_then_reject(rep, quote):
    quote_send(actor=rep, quote=quote)
    rejected = quote_reject(actor=rep, quote=quote)
    assert rejected.status == Quote.Status.REJECTED and rejected.decided_at is not None


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        ([], quote_accept),
        ([], quote_reject),
        ([quote_send], quote_send),
        ([quote_send, quote_accept], quote_reject),
        ([quote_send, quote_reject], quote_accept),
        ([quote_send, quote_accept], quote_send),
    ],
)
def test_invalid_transitions_are_refused(rep, quote, steps, action):
    for step in steps:
        step(actor=rep, quote=quote)
    status = Quote.objects.get(pk=quote.pk).status
    with pytest.raises(DomainError):
        action(actor=rep, quote=quote)
    assert Quote.objects.get(pk=quote.pk).status == status


def test_only_quotes_of_an_open_opportunity_are_sent_or_accepted(rep, opportunity):
    draft = quote_create(actor=rep, opportunity=opportunity, lines=[line()])
    sent = quote_send(actor=rep, quote=quote_create(actor=rep, opportunity=opportunity, lines=[line()]))
    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("输单"), lost_reason=lost_reason())
    with pytest.raises(DomainError, match="open opportunity"):
        quote_send(actor=rep, quote=draft)
    with pytest.raises(DomainError, match="open opportunity"):
        quote_accept(actor=rep, quote=sent)


def test_an_opportunity_has_only_one_accepted_quote(rep, opportunity):
    first = quote_send(actor=rep, quote=quote_create(actor=rep, opportunity=opportunity, lines=[line()]))
    second = quote_send(actor=rep, quote=quote_create(actor=rep, opportunity=opportunity, lines=[line()]))
    quote_accept(actor=rep, quote=first)
    with pytest.raises(DomainError, match="already accepted"):
        quote_accept(actor=rep, quote=second)
    assert Quote.objects.get(pk=second.pk).status == Quote.Status.SENT


def test_a_quote_past_its_date_is_not_sent_or_accepted(rep, quote):
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(DomainError, match="valid until"):
        quote_send(actor=rep, quote=quote)


# Versions


def test_a_new_version_copies_the_quote_and_keeps_the_old_one(rep, quote):
    quote_send(actor=rep, quote=quote)
    quote_reject(actor=rep, quote=quote)
    second = quote_new_version(actor=rep, quote=quote)
    old = Quote.objects.get(pk=quote.pk)
    assert (second.number, second.version, second.status) == (quote.number, 2, Quote.Status.DRAFT)
    assert second.is_editable and not old.is_editable and old.superseded_at is not None
    assert old.status == Quote.Status.REJECTED
    assert second.total == old.total and second.title == old.title
    assert list(second.lines.values_list("description", "quantity", "unit_price", "amount")) == list(
        old.lines.values_list("description", "quantity", "unit_price", "amount")
    )
    # The old version is read-only for every action.
    for action in (quote_send, quote_accept, quote_reject, quote_new_version):
        with pytest.raises(DomainError, match="newer version"):
            action(actor=rep, quote=old)
    third = quote_new_version(actor=rep, quote=second)
    assert third.version == 3 and Quote.objects.filter(number=quote.number).count() == 3


def test_a_new_version_of_an_expired_quote_gets_a_new_date(rep, quote):
    quote_send(actor=rep, quote=quote)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=3))
    quotes_expire()
    second = quote_new_version(actor=rep, quote=quote)
    assert second.valid_until == timezone.localdate() + datetime.timedelta(days=30)


def test_an_accepted_quote_gets_no_new_version(rep, quote):
    quote_send(actor=rep, quote=quote)
    quote_accept(actor=rep, quote=quote)
    with pytest.raises(DomainError, match="final"):
        quote_new_version(actor=rep, quote=quote)


def test_only_one_version_of_a_number_is_accepted(rep, quote):
    """v1 sent, then v2 made and accepted: v1 (superseded) can no longer be accepted."""
    quote_send(actor=rep, quote=quote)
    second = quote_new_version(actor=rep, quote=quote)
    quote_send(actor=rep, quote=second)
    quote_accept(actor=rep, quote=second)
    with pytest.raises(DomainError):
        quote_accept(actor=rep, quote=quote)


# Expiry


def test_expiry_marks_sent_quotes_past_their_date_once(rep, opportunity):
    today = timezone.localdate()
    past = quote_with_lines(
        opportunity=opportunity, status=Quote.Status.SENT, valid_until=today - datetime.timedelta(days=1)
    )
    due_today = quote_with_lines(opportunity=opportunity, status=Quote.Status.SENT, valid_until=today)
    draft = quote_with_lines(opportunity=opportunity, valid_until=today - datetime.timedelta(days=5))
    accepted = QuoteFactory(
        opportunity=opportunity, status=Quote.Status.ACCEPTED, valid_until=today - datetime.timedelta(days=5)
    )
    assert quotes_expire() == 1
    assert quotes_expire() == 0
    assert expire_quotes() == 0
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses == {
        past.pk: Quote.Status.EXPIRED,
        due_today.pk: Quote.Status.SENT,
        draft.pk: Quote.Status.DRAFT,
        accepted.pk: Quote.Status.ACCEPTED,
    }


def test_the_expiry_task_is_one_update(rep, opportunity, django_assert_num_queries):
    for _ in range(5):
        quote_with_lines(
            opportunity=opportunity,
            status=Quote.Status.SENT,
            valid_until=timezone.localdate() - datetime.timedelta(days=2),
        )
    with django_assert_num_queries(1):
        assert expire_quotes() == 5


# Races


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_data")
def test_two_quotes_accepted_at_once_leave_one_accepted():
    rep = UserFactory(username="quote_racer")
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    quotes = [
        quote_send(actor=rep, quote=quote_create(actor=rep, opportunity=opportunity, lines=[line()]))
        for _ in range(4)
    ]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(quotes))

    def accept(quote):
        try:
            barrier.wait()
            quote_accept(actor=rep, quote=quote)
            outcomes.append("accepted")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(quote,)) for quote in quotes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "refused", "refused", "refused"]
    assert Quote.objects.filter(opportunity=opportunity, status=Quote.Status.ACCEPTED).count() == 1
