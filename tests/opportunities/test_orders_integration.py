"""Orders in the customers app's workflows (merge, transfer, erasure, personal data) and on the
customer page (the panel registry of customers.hooks)."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from customers import hooks
from customers.models import Customer
from customers.services import merge as merge_services
from customers.services.privacy import customer_erase
from customers.services.transfer import customers_transfer
from opportunities.models import Order
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.orders import InstalmentFactory, OrderFactory, PaymentFactory, plan, settle

pytestmark = pytest.mark.django_db


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def order_of(customer, **fields) -> Order:
    return OrderFactory(opportunity=OpportunityFactory(customer=customer), **fields)


def test_merging_moves_orders_with_their_opportunities(lead, rep, teammate):
    survivor, other = CustomerFactory(owner=rep), CustomerFactory(owner=teammate)
    moved = order_of(other)
    handler = next(handler for handler in hooks.merge_handlers() if handler.name == "orders")
    assert handler.count(other) == 1
    merge_services.customer_merge(
        actor=lead,
        survivor=fresh(survivor),
        merged=fresh(other),
        choices={},
        expected_versions={c.pk: fresh(c).version for c in (survivor, other)},
    )
    moved.refresh_from_db()
    assert moved.customer == survivor and moved.opportunity.customer == survivor


def test_transfer_moves_orders_in_force_and_keeps_the_others(lead, rep, other_team_rep):
    customer = CustomerFactory(owner=rep)
    active = order_of(customer)
    completed = order_of(customer, status=Order.Status.COMPLETED)
    customers_transfer(actor=lead, customers=[fresh(customer)], new_owner=other_team_rep)
    active.refresh_from_db()
    completed.refresh_from_db()
    assert (active.owner, active.team) == (other_team_rep, other_team_rep.team)
    assert completed.owner == rep


def test_erasure_clears_order_and_payment_texts_and_keeps_the_money(lead, rep):
    customer = CustomerFactory(owner=rep)
    order = order_of(customer, notes="张总手机13812345678")
    instalment = InstalmentFactory(order=order, note="张总签字后付")
    payment = PaymentFactory(order=order, note="张总个人账户", reference="6222 0000 1111")
    settle(order)
    customer_erase(actor=lead, customer=fresh(customer))
    for record in (order, instalment, payment):
        record.refresh_from_db()
    assert "13812345678" not in order.notes and instalment.note == ""
    assert payment.note == "" and payment.reference == ""
    assert order.amount == Decimal("100000.00") and payment.amount == Decimal("1000.00") and order.paid_amount


def test_personal_data_export_includes_orders_and_payments(client, lead, rep):
    customer = CustomerFactory(owner=rep)
    order = order_of(customer, notes="张总的合同")
    plan(order, (10, "100000"))
    PaymentFactory(order=order, reference="BANK-9")
    order_of(CustomerFactory(owner=rep))
    client.force_login(lead)
    response = client.post(
        reverse("customers:customer-personal-data", args=[customer.pk]), {"action": "export"}
    )
    data = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)
    assert [entry["number"] for entry in data["orders"]] == [order.number]
    assert data["orders"][0]["notes"] == "张总的合同"
    assert data["orders"][0]["payments"][0]["reference"] == "BANK-9"
    assert len(data["orders"][0]["instalments"]) == 1


@pytest.mark.parametrize("count", [1, 12])
def test_customer_page_queries_do_not_grow_with_orders(client, rep, count, django_assert_max_num_queries):
    customer = CustomerFactory(owner=rep)
    for _ in range(count):
        order = order_of(customer)
        plan(order, (-5, "50000"), (30, "50000"))
        PaymentFactory(order=order, amount=Decimal("20000"))
        settle(order)
    client.force_login(rep)
    with django_assert_max_num_queries(24):  # with the service panels
        response = client.get(customer.get_absolute_url())
    page = response.content.decode()
    assert 'id="customer-orders"' in page
    # overdue: 30,000 per order
    assert f"¥{30000 * count:,}" in page
    assert (gettext("All orders of this customer") in page) == (count > 5)


def test_registered_panels_render_in_order_and_may_opt_out(rf, rep):

    customer = CustomerFactory(owner=rep)
    request = rf.get("/")
    request.user = rep
    before = dict(hooks._customer_panels)
    try:
        hooks.register_customer_panel(
            "zz-none", "opportunities/_customer_orders.html", lambda c, u: None, order=1
        )
        hooks.register_customer_panel(
            "zz-hidden", "opportunities/_customer_orders.html", lambda c, u: {}, allowed=lambda user: False
        )
        rendered = hooks.render_customer_panels(request, customer)
        # The two test panels stay out: the orders panel is there once (other apps add theirs).
        assert sum('id="customer-orders"' in html for html in rendered) == 1
    finally:
        hooks._customer_panels.clear()
        hooks._customer_panels.update(before)
