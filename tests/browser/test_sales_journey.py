"""The sales journey of issue 5, on the demo data, in Chinese: rep1 drags an opportunity from
需求分析 to 方案报价 on the board, writes a quote from the price list, sends it, marks it
accepted, turns it into a contract (the opportunity is won, the customer becomes a deal) and
records a payment against it."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def login(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()


def test_rep1_moves_quotes_wins_and_collects(demo_data, live_server, page: Page):
    from django.utils import timezone

    from accounts.models import User
    from customers.models import Customer
    from opportunities.models import Opportunity, Order, Product, Quote, Stage
    from opportunities.services import opportunity_create

    rep1 = User.objects.get(username="rep1")
    analysis, proposal = Stage.objects.get(name="需求分析"), Stage.objects.get(name="方案报价")
    customer = (
        Customer.objects.filter(owner=rep1, deleted_at__isnull=True, merged_into__isnull=True)
        .exclude(stage__in=[Customer.Stage.DEAL, Customer.Stage.LOST])
        .order_by("pk")
        .first()
    )
    today = timezone.localdate()
    opportunity = opportunity_create(
        actor=rep1,
        customer=customer,
        stage=analysis,
        name="浏览器测试：门店系统",
        amount=Decimal("120000"),
        expected_close_date=today + datetime.timedelta(days=30),
        next_step="发送报价单",
        next_step_date=today + datetime.timedelta(days=2),
    )
    product = Product.objects.get(code="POS-STORE")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # 1. The board: drag the card from 需求分析 to 方案报价; the columns redraw in place.
    login(page, live_server, "rep1")
    page.goto(live_server.url + reverse("opportunities:opportunity-board") + f"?owner={rep1.pk}")
    page.evaluate("window.notReloaded = true")
    page.drag_and_drop(
        f"[data-opportunity='{opportunity.pk}']", f"#opportunity-board section[data-stage='{proposal.pk}']"
    )
    expect(
        page.locator(f"section[data-stage='{proposal.pk}'] [data-opportunity='{opportunity.pk}']")
    ).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    opportunity.refresh_from_db()
    assert opportunity.stage == proposal

    # 2. A quote from the opportunity page: a product from the price list and a free-text line.
    page.goto(live_server.url + opportunity.get_absolute_url())
    page.click(f'a[href="{reverse("opportunities:quote-create", args=[opportunity.pk])}"]')
    rows = page.locator("[data-line]:visible")
    first = rows.nth(0)
    first.locator("[data-line-product]").select_option(str(product.pk))
    expect(first.locator("[data-line-price]")).to_have_value("8800.00")
    first.locator("[data-line-quantity]").fill("10")
    first.locator("[data-line-discount]").fill("5")
    second = rows.nth(1)
    second.locator("[data-line-description]").fill("上门实施与培训")
    second.locator("[data-line-quantity]").fill("2")
    second.locator("[data-line-price]").fill("6000")
    # 10 × 8800 × 95% = 83,600 + 12,000 = 95,600; tax 13% = 12,428; total 108,028.
    expect(page.locator('[data-preview="total"]')).to_contain_text("108,028.00")
    page.locator("form[data-quote-form] button[type=submit]").click()
    quote = Quote.objects.get(opportunity=opportunity)
    expect(page).to_have_url(live_server.url + quote.get_absolute_url())
    assert quote.total == Decimal("108028.00")

    # 3. Sent, then accepted by the customer.
    page.get_by_role("button", name="标记为已发送").click()
    expect(page.get_by_role("button", name="标记为已接受")).to_be_visible()
    page.get_by_role("button", name="标记为已接受").click()
    order_link = page.locator(f'a[href="{reverse("opportunities:order-create", args=[quote.pk])}"]')
    expect(order_link).to_be_visible()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED

    # 4. The contract: two instalments; saving it wins the opportunity.
    order_link.click()
    page.fill("#id_split_count", "2")
    page.click("button[name=action][value=split]")
    expect(page.locator("#id_plan-1-amount")).to_have_value("54014.00")
    page.click("button[name=action][value=save]")
    order = Order.objects.get(quote=quote)
    expect(page).to_have_url(live_server.url + order.get_absolute_url())
    expect(page.locator("#order-outstanding")).to_contain_text("¥108,028")
    opportunity.refresh_from_db()
    customer.refresh_from_db()
    assert opportunity.stage.is_won and not opportunity.is_open
    assert customer.stage == Customer.Stage.DEAL

    # 5. The first instalment is paid.
    page.click(f'a[href="{reverse("opportunities:payment-create", args=[order.pk])}"]')
    page.fill("#id_amount", "54014")
    page.fill("#id_reference", "招商银行回单 0001")
    page.click("#payment-form button[type=submit]")
    expect(page.locator("#order-received")).to_contain_text("¥54,014")
    expect(page.locator("#order-outstanding")).to_contain_text("¥54,014")
    expect(page.locator("#instalments tbody tr").first).to_have_attribute("data-state", "paid")
    order.refresh_from_db()
    assert order.paid_amount == Decimal("54014.00")
    assert Opportunity.objects.get(pk=opportunity.pk).orders.count() == 1
    assert errors == []
