import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.errors import ConcurrentEditError, DomainError
from customers.models import Customer
from opportunities.models import Instalment, Order, Payment, Quote, StageChange
from opportunities.services.orders import (
    PlannedInstalment,
    order_cancel,
    order_create_from_quote,
    order_update_plan,
    payment_record,
    payment_void,
)
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage
from tests.factories.orders import OrderFactory, PaymentFactory, accepted_quote, plan, settle

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days(n: int) -> datetime.date:
    return TODAY() + datetime.timedelta(days=n)


def line(due: int, amount: str, **kwargs) -> PlannedInstalment:
    return PlannedInstalment(due_date=days(due), amount=Decimal(amount), **kwargs)


def create(rep, quote, amount="100000.00", lines=None, **kwargs) -> Order:
    return order_create_from_quote(
        actor=rep,
        quote=quote,
        title=kwargs.pop("title", "年度软件合同"),
        signed_on=kwargs.pop("signed_on", TODAY()),
        amount=Decimal(amount),
        plan=lines or [line(30, amount)],
        **kwargs,
    )


@pytest.fixture
def quote(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep, stage=Customer.Stage.INTENT))
    return accepted_quote(opportunity)


# --- Creating an order from a quote ---------------------------------------------------------


def test_order_from_accepted_quote_copies_the_opportunity_and_wins_it(rep, quote):
    order = create(rep, quote, lines=[line(60, "40000"), line(30, "60000", note="首付款")])

    assert order.number.startswith("HT") and order.customer == quote.opportunity.customer
    assert (order.owner, order.team, order.opportunity) == (rep, rep.team, quote.opportunity)
    assert order.amount_cny == Decimal("100000.00") and order.status == Order.Status.ACTIVE
    instalments = list(order.instalments.order_by("sequence"))
    assert [(i.sequence, i.due_date, i.amount, i.note) for i in instalments] == [
        (1, days(30), Decimal("60000.00"), "首付款"),
        (2, days(60), Decimal("40000.00"), ""),
    ]
    opportunity = quote.opportunity
    opportunity.refresh_from_db()
    assert opportunity.stage.is_won and opportunity.closed_at is not None
    assert StageChange.objects.filter(opportunity=opportunity, to_stage__is_won=True).exists()
    opportunity.customer.refresh_from_db()
    assert opportunity.customer.stage == Customer.Stage.DEAL


def test_order_in_another_currency_takes_the_quote_rate(rep):
    opportunity = OpportunityFactory(
        customer=CustomerFactory(owner=rep),
        currency="USD",
        rate_to_cny=Decimal("7.123456"),
        amount=Decimal(10),
    )
    quote = accepted_quote(opportunity, total=Decimal("1000.05"))

    order = create(rep, quote, amount="1000.05")

    assert (order.currency, order.rate_to_cny) == ("USD", Decimal("7.123456"))
    assert order.amount_cny == Decimal("7123.81")  # 7123.8116… rounded once


def test_second_order_from_the_same_quote_is_refused(rep, quote):
    first = create(rep, quote)

    with pytest.raises(DomainError) as error:
        create(rep, quote)

    assert first.number in error.value.message
    assert Order.objects.count() == 1


@pytest.mark.parametrize("status", [Quote.Status.DRAFT, Quote.Status.SENT, Quote.Status.REJECTED])
def test_only_an_accepted_quote_becomes_an_order(rep, quote, status):
    Quote.objects.filter(pk=quote.pk).update(status=status)

    with pytest.raises(DomainError):
        create(rep, quote)

    assert not Order.objects.exists()


def test_plan_must_add_up_to_the_amount_and_nothing_is_saved(rep, quote):
    with pytest.raises(DomainError) as error:
        create(rep, quote, lines=[line(30, "50000"), line(60, "40000")])

    assert "¥90,000" in error.value.message and "¥10,000" in error.value.message
    assert not Order.objects.exists() and not Instalment.objects.exists()
    quote.opportunity.refresh_from_db()
    assert quote.opportunity.closed_at is None


def test_a_lost_opportunity_cannot_sign_an_order(rep, quote):
    opportunity = quote.opportunity
    opportunity.stage, opportunity.closed_at, opportunity.lost_reason = (
        stage("输单"),
        timezone.now(),
        lost_reason(),
    )
    opportunity.save()

    with pytest.raises(DomainError):
        create(rep, quote)


def test_an_already_won_opportunity_stays_as_it_is(rep, quote):
    opportunity = quote.opportunity
    opportunity.stage, opportunity.closed_at = stage("赢单"), timezone.now()
    opportunity.save()
    changes = StageChange.objects.count()

    create(rep, quote)

    assert StageChange.objects.count() == changes


# --- Payments and their allocation ----------------------------------------------------------


@pytest.fixture
def order(rep):
    order = OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)))
    plan(order, (-10, "30000"), (20, "30000"), (50, "40000"))
    return order


def paid(order) -> list[tuple[Decimal, bool]]:
    return [(i.paid_amount, i.settled_at is not None) for i in order.instalments.order_by("due_date")]


def test_payment_settles_the_oldest_instalments_first(rep, order):
    payment = payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("45000"))

    order.refresh_from_db()
    assert payment.number.startswith("HK") and payment.amount_cny == Decimal("45000.00")
    assert payment.recorded_by == rep
    assert order.paid_amount == Decimal("45000.00") and order.status == Order.Status.ACTIVE
    assert paid(order) == [(Decimal("30000"), True), (Decimal("15000"), False), (Decimal("0"), False)]


def test_paying_everything_completes_the_order(rep, order):
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("60000"))
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("40000"))

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.outstanding == 0
    assert all(settled for _, settled in paid(order))


def test_payment_above_the_outstanding_amount_is_refused(rep, order):
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("90000"))

    with pytest.raises(DomainError) as error:
        payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("10000.01"))

    assert error.value.field == "amount" and "¥10,000" in error.value.message
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_payment_must_be_positive(rep, order, amount):
    with pytest.raises(DomainError):
        payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal(amount))


def test_payment_in_the_future_is_refused(rep, order):
    with pytest.raises(DomainError) as error:
        payment_record(actor=rep, order=order, received_on=days(1), amount=Decimal("1"))
    assert error.value.field == "received_on"


def test_payment_in_another_currency_stores_its_cny_amount(rep):
    order = OrderFactory(
        opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)),
        currency="EUR",
        rate_to_cny=Decimal("7.8125"),
        amount=Decimal("1000"),
    )
    plan(order, (30, "1000"))

    payment = payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("10.01"))

    assert payment.amount_cny == Decimal("78.20")  # 78.203125


def test_voiding_a_payment_reallocates_and_reopens_the_order(rep, lead, order):
    first = payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("30000"))
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("70000"))
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED

    voided = payment_void(actor=lead, payment=first, reason="重复录入")

    order.refresh_from_db()
    assert voided.voided_at is not None and voided.void_reason == "重复录入"
    assert order.status == Order.Status.ACTIVE and order.paid_amount == Decimal("70000")
    assert paid(order) == [(Decimal("30000"), True), (Decimal("30000"), True), (Decimal("10000"), False)]
    with pytest.raises(DomainError):
        payment_void(actor=lead, payment=first, reason="again")


def test_voiding_needs_a_reason(lead, rep, order):
    payment = payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("1"))
    with pytest.raises(DomainError):
        payment_void(actor=lead, payment=payment, reason="  ")


def test_a_settled_instalment_keeps_its_settlement_time(rep, order):
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("30000"))
    first = order.instalments.get(sequence=1)
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("100"))

    assert order.instalments.get(sequence=1).settled_at == first.settled_at


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_data")
def test_two_payments_recorded_at_once_are_both_counted():
    owner = UserFactory(username="collector")
    order = OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=owner)))
    plan(order, (-5, "40000"), (30, "60000"))
    barrier = threading.Barrier(6)
    numbers, errors = [], []

    def record():
        try:
            barrier.wait()
            payment = payment_record(actor=owner, order=order, received_on=TODAY(), amount=Decimal("10000"))
            numbers.append(payment.number)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and len(set(numbers)) == 6
    order.refresh_from_db()
    assert order.paid_amount == Decimal("60000.00")
    assert paid(order) == [(Decimal("40000"), True), (Decimal("20000"), False)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_data")
def test_concurrent_payments_never_exceed_the_order_amount():
    owner = UserFactory(username="collector2")
    order = OrderFactory(
        opportunity=OpportunityFactory(customer=CustomerFactory(owner=owner)), amount=Decimal("25000")
    )
    plan(order, (30, "25000"))
    barrier = threading.Barrier(4)
    outcomes = []

    def record():
        try:
            barrier.wait()
            payment_record(actor=owner, order=order, received_on=TODAY(), amount=Decimal("10000"))
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok", "ok", "refused", "refused"]
    order.refresh_from_db()
    assert order.paid_amount == Decimal("20000.00")


# --- Editing the plan, cancelling -----------------------------------------------------------


def test_plan_edit_keeps_paid_instalments_and_reallocates(rep, order):
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("40000"))
    first, second, third = order.instalments.order_by("due_date")
    order.refresh_from_db()

    order_update_plan(
        actor=rep,
        order=order,
        version=order.version,
        plan=[
            PlannedInstalment(first.due_date, Decimal("30000"), pk=first.pk),
            PlannedInstalment(second.due_date, Decimal("20000"), pk=second.pk),
            PlannedInstalment(days(80), Decimal("25000"), note="尾款"),
            PlannedInstalment(days(90), Decimal("25000")),
        ],
    )

    rows = list(order.instalments.order_by("due_date"))
    assert [(r.sequence, r.amount, r.paid_amount) for r in rows] == [
        (1, Decimal("30000"), Decimal("30000")),
        (2, Decimal("20000"), Decimal("10000")),
        (3, Decimal("25000"), Decimal("0")),
        (4, Decimal("25000"), Decimal("0")),
    ]
    assert not Instalment.objects.filter(pk=third.pk).exists()


def test_plan_edit_cannot_cut_an_instalment_below_what_it_received(rep, order):
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("40000"))
    first, second, third = order.instalments.order_by("due_date")
    order.refresh_from_db()

    with pytest.raises(DomainError) as error:
        order_update_plan(
            actor=rep,
            order=order,
            version=order.version,
            plan=[
                PlannedInstalment(first.due_date, Decimal("30000"), pk=first.pk),
                PlannedInstalment(second.due_date, Decimal("5000"), pk=second.pk),
                PlannedInstalment(third.due_date, Decimal("65000"), pk=third.pk),
            ],
        )
    assert "¥10,000" in error.value.message

    with pytest.raises(DomainError):  # nor remove it
        order_update_plan(
            actor=rep,
            order=order,
            version=order.version,
            plan=[
                PlannedInstalment(first.due_date, Decimal("30000"), pk=first.pk),
                PlannedInstalment(third.due_date, Decimal("70000"), pk=third.pk),
            ],
        )
    assert order.instalments.count() == 3


def test_plan_edit_must_still_add_up(rep, order):
    rows = list(order.instalments.order_by("due_date"))
    with pytest.raises(DomainError) as error:
        order_update_plan(
            actor=rep,
            order=order,
            version=order.version,
            plan=[PlannedInstalment(r.due_date, Decimal("30000"), pk=r.pk) for r in rows],
        )
    assert "¥10,000" in error.value.message


def test_plan_edit_on_a_stale_version_is_refused(rep, order):
    version = order.version
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("1"))
    rows = list(order.instalments.order_by("due_date"))

    with pytest.raises(ConcurrentEditError):
        order_update_plan(
            actor=rep,
            order=order,
            version=version,
            plan=[PlannedInstalment(r.due_date, r.amount, pk=r.pk) for r in rows],
        )


def test_plan_of_a_completed_order_cannot_change(rep, order):
    payment_record(actor=rep, order=order, received_on=TODAY(), amount=Decimal("100000"))
    order.refresh_from_db()
    with pytest.raises(DomainError):
        order_update_plan(actor=rep, order=order, version=order.version, plan=[line(1, "100000")])


def test_cancel_keeps_the_reason_and_refuses_with_money_received(rep, order):
    with pytest.raises(DomainError):
        order_cancel(actor=rep, order=order, reason="")

    cancelled = order_cancel(actor=rep, order=order, reason="客户预算取消")

    assert cancelled.status == Order.Status.CANCELLED and "客户预算取消" in cancelled.notes
    with pytest.raises(DomainError):
        payment_record(actor=rep, order=cancelled, received_on=TODAY(), amount=Decimal("1"))

    other = OrderFactory(opportunity=order.opportunity)
    plan(other, (10, "100000"))
    payment_record(actor=rep, order=other, received_on=TODAY(), amount=Decimal("5"))
    with pytest.raises(DomainError):
        order_cancel(actor=rep, order=other, reason="取消")


def test_factory_settle_follows_the_service_rule(rep, order):
    PaymentFactory(order=order, amount=Decimal("35000"))
    settle(order)
    assert paid(order) == [(Decimal("30000"), True), (Decimal("5000"), False), (Decimal("0"), False)]
