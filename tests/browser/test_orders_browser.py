"""The order pages in a real Chromium (Playwright), in Chinese: a rep turns an accepted quote into
an order, splits the payment plan (no JavaScript needed), signs it and records a payment; the
customer page, the order list and the workbench show what is outstanding.

Drives Debian's chromium directly (never a downloaded browser), signed in with a session cookie.
Set ORDERS_SCREENSHOTS=<folder> to keep screenshots of each page.
"""

import os
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from opportunities.models import Order
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.orders import OrderFactory, accepted_quote, plan

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data"),
]

SHOTS = os.environ.get("ORDERS_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def rep_page(live_server, client, context):
    from accounts import roles

    rep = UserFactory(username="order_rep", role=roles.SALES_REP)
    client.force_login(rep)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    yield rep, context.new_page()


def test_rep_signs_an_order_with_a_split_plan_and_records_a_payment(live_server, rep_page):
    rep, page = rep_page
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    quote = accepted_quote(
        OpportunityFactory(customer=customer), total=Decimal("90000.00"), title="云帆 CRM 报价"
    )

    page.goto(live_server.url + reverse("opportunities:order-create", args=[quote.pk]))
    page.fill("#id_split_count", "3")
    page.click("button[name=action][value=split]")
    expect(page.locator("#id_plan-2-amount")).to_have_value("30000.00")
    shot(page, "order_create_split")
    page.click("button[name=action][value=save]")

    order = Order.objects.get()
    expect(page).to_have_url(live_server.url + order.get_absolute_url())
    expect(page.locator("#instalments tbody tr")).to_have_count(3)
    expect(page.locator("#order-outstanding")).to_contain_text("¥90,000")

    page.click(f'a[href="{reverse("opportunities:payment-create", args=[order.pk])}"]')
    page.fill("#id_amount", "12000")
    page.fill("#id_reference", "BANK-20260301")
    page.click("#payment-form button[type=submit]")
    expect(page.locator("#order-received")).to_contain_text("¥12,000")
    expect(page.locator("#order-outstanding")).to_contain_text("¥78,000")
    expect(page.locator("#instalments tbody tr").first).to_have_attribute("data-state", "partly_paid")
    shot(page, "order_detail")

    page.goto(live_server.url + reverse("opportunities:order-list"))
    expect(page.locator('[data-total="outstanding"]')).to_contain_text("¥78,000")
    shot(page, "order_list")
    page.goto(live_server.url + customer.get_absolute_url())
    expect(page.locator("#customer-orders")).to_contain_text("¥78,000")
    shot(page, "customer_page")
    late = OrderFactory(
        opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep, name="苏州启明软件"))
    )
    plan(late, (-6, "100000"))
    page.goto(live_server.url + reverse("home"))
    expect(page.locator("#workbench-collections")).to_contain_text(late.number)
    shot(page, "workbench")
