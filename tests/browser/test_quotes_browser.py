"""The quote pages in a real Chromium (Playwright): the line items script and the printable page,
which must print to one clean A4 page of PDF.

Drives Debian's chromium directly (never a downloaded browser), signed in with a session cookie.
"""

import os
import re
import shutil
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from opportunities.models import Quote
from tests.factories.accounts import UserFactory
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.quotes import ProductFactory, QuoteLineFactory, refresh_totals

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data"),
]


@pytest.fixture
def signed_in_page(live_server, client, context):
    """A Chromium page signed in as ``rep`` (a sales rep), and any CSP violations it reports."""
    from accounts import roles

    rep = UserFactory(
        username="quote_rep", role=roles.SALES_REP, phone="13800000000", email="rep@example.com"
    )
    client.force_login(rep)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield rep, page, errors


def test_rep_fills_lines_from_the_price_list_and_saves_a_quote(signed_in_page, live_server):
    rep, page, errors = signed_in_page
    opportunity = OpportunityFactory(
        customer=CustomerFactory(owner=rep, name="杭州云帆科技有限公司"), name="门店系统"
    )
    product = ProductFactory(name="会员模块", unit="套", list_price=Decimal("8000.00"))
    page.goto(live_server.url + reverse("opportunities:quote-create", args=[opportunity.pk]))
    rows = page.locator("[data-line]:visible")
    expect(rows).to_have_count(3)

    # Choosing a product fills description, unit and price; the preview adds up.
    first = rows.nth(0)
    first.locator("[data-line-product]").select_option(str(product.pk))
    expect(first.locator("[data-line-description]")).to_have_value("会员模块")
    expect(first.locator("[data-line-unit]")).to_have_value("套")
    expect(first.locator("[data-line-price]")).to_have_value("8000.00")
    first.locator("[data-line-quantity]").fill("2")
    second = rows.nth(1)
    second.locator("[data-line-description]").fill("上门培训")
    second.locator("[data-line-quantity]").fill("3")
    second.locator("[data-line-price]").fill("33.33")
    second.locator("[data-line-discount]").fill("10")
    expect(page.locator('[data-preview="total"]')).to_contain_text("18,181.69")

    # A line added with the button, then removed again.
    page.locator("[data-add-line]").click()
    expect(page.locator("[data-line]:visible")).to_have_count(4)
    added = page.locator("[data-line]:visible").nth(3)
    added.locator("[data-line-description]").fill("不要这一行")
    added.locator("[data-line-price]").fill("999")
    added.locator("[data-line-remove]").click()
    expect(page.locator("[data-line]:visible")).to_have_count(3)
    expect(page.locator('[data-preview="total"]')).to_contain_text("18,181.69")

    artifacts = os.environ.get("QUOTE_PRINT_ARTIFACTS")
    if artifacts:
        os.makedirs(artifacts, exist_ok=True)
        page.screenshot(path=os.path.join(artifacts, "quote-form.png"), full_page=True)
    page.locator("form[data-quote-form] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("门店系统")
    if artifacts:
        page.screenshot(path=os.path.join(artifacts, "quote-detail.png"), full_page=True)
    quote = Quote.objects.get()
    assert quote.total == Decimal("18181.69")
    assert list(quote.lines.order_by("position").values_list("description", flat=True)) == [
        "会员模块",
        "上门培训",
    ]
    assert errors == []


def pdf_pages(pdf: bytes) -> tuple[int, set[tuple[int, int]]]:
    """The page count and the page sizes (in points) of a PDF Chromium wrote."""
    counts = [int(count) for count in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    pages = max(counts) if counts else len(re.findall(rb"/Type\s*/Page\b", pdf))
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    return pages, {(round(float(width)), round(float(height))) for width, height in boxes}


@pytest.mark.parametrize(("line_count", "expected_pages"), [(10, 1), (45, 2)])
def test_printable_quote_prints_cleanly_to_a4(
    signed_in_page, live_server, settings, tmp_path, line_count, expected_pages
):
    rep, page, errors = signed_in_page
    settings.COMPANY_NAME = "云帆软件有限公司"
    settings.COMPANY_ADDRESS = "杭州市西湖区文三路 100 号 云帆大厦 8 楼"
    settings.COMPANY_PHONE = "0571-88886666"
    settings.COMPANY_TAX_ID = "91330100MA2XXXXXXX"
    settings.COMPANY_BANK_ACCOUNT = "招商银行杭州分行 5719 0000 0000 001"
    opportunity = OpportunityFactory(
        customer=CustomerFactory(owner=rep, name="宁波海工集团有限公司"), name="ERP 升级"
    )
    contact = ContactFactory(customer=opportunity.customer, name="王建国", title="采购总监")
    quote = Quote.objects.create(
        number="Q202601150001",
        opportunity=opportunity,
        contact=contact,
        title="ERP 升级项目报价",
        valid_until=opportunity.expected_close_date,
        terms="1. 签约后 7 日内支付 30% 预付款；\n2. 上线验收后 30 日内支付余款。\n3. 报价含一年免费维护。",
        created_by=rep,
    )
    for index in range(line_count):
        QuoteLineFactory(
            quote=quote,
            position=index + 1,
            description=f"ERP 模块 {index + 1}：财务、供应链与生产管理",
            quantity=Decimal("3"),
            unit_price=Decimal("12800.00"),
            discount_percent=Decimal("5"),
        )
    refresh_totals(quote)

    page.goto(live_server.url + reverse("opportunities:quote-print", args=[quote.pk]))
    expect(page.locator("[data-print]")).to_be_visible()  # the script shows the print button
    expect(page.locator(".quote-company-name")).to_have_text("云帆软件有限公司")
    page.screenshot(path=str(tmp_path / f"quote-{line_count}-screen.png"), full_page=True)
    page.emulate_media(media="print")
    expect(page.locator(".quote-toolbar")).to_be_hidden()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (tmp_path / f"quote-{line_count}.pdf").write_bytes(pdf)
    if os.environ.get("QUOTE_PRINT_ARTIFACTS"):  # to look at them: QUOTE_PRINT_ARTIFACTS=/tmp/quote-print
        target = os.environ["QUOTE_PRINT_ARTIFACTS"]
        os.makedirs(target, exist_ok=True)
        for path in tmp_path.iterdir():
            shutil.copy(path, target)

    assert pdf.startswith(b"%PDF")
    pages, sizes = pdf_pages(pdf)
    # A usual quote fits one page; a long one flows over pages (rows and blocks never split).
    assert pages == expected_pages
    assert sizes == {(595, 842)}  # A4 in points
    assert errors == []
