import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()


def test_rep_sees_the_duplicate_warning_while_typing_and_creates_an_enterprise(
    demo_data, live_server, page: Page
):
    from customers.models import Customer, Industry, Source

    existing = Customer.objects.filter(owner__username="rep1").exclude(phone="").order_by("pk").first()
    industry = Industry.objects.order_by("order").first()
    source = Source.objects.order_by("order").first()

    # A CSP violation (an inline script or style) shows up as a console error.
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    log_in(page, live_server.url, "rep1")
    page.goto(f"{live_server.url}/customers/new/")
    form = page.locator("#customer-form")
    # With JS, only the chosen kind's section shows (enterprise by default).
    expect(form.locator('[data-kind-section="individual"]')).to_be_hidden()
    expect(form.locator('[data-kind-section="enterprise"]')).to_be_visible()
    page.locator('input[name="kind"][value="individual"]').check()
    expect(form.locator('[data-kind-section="enterprise"]')).to_be_hidden()
    page.locator('input[name="kind"][value="enterprise"]').check()

    # Typing the phone of an existing customer shows the warning without submitting.
    page.locator("#id_phone").press_sequentially(f"+86 {existing.phone}", delay=20)
    warning = page.locator("[data-duplicate-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(existing.name)
    expect(warning).to_contain_text(existing.number)
    assert page.url == f"{live_server.url}/customers/new/"

    # A new number: the warning goes away.
    page.locator("#id_phone").fill("")
    page.locator("#id_phone").press_sequentially("0571-8765 4321", delay=20)
    expect(warning).to_have_count(0)

    page.locator("#id_name").fill("浏览器测试科技有限公司")
    page.locator("#id_industry").select_option(str(industry.pk))
    page.locator("#id_employee_band").select_option("50-199")
    page.locator("#id_needs").fill("需要一套会员管理系统")
    page.locator("#id_source").select_option(str(source.pk))
    page.locator("#id_first_contact_date").fill("2026-01-05")
    page.locator("#id_expected_annual_value").fill("250000")
    page.locator("#id_contacts-0-name").fill("赵经理")
    page.locator("#id_contacts-0-title").fill("信息部经理")
    page.locator("#id_contacts-0-phone").fill("139 1234 5678")
    page.locator("#id_contacts-0-is_primary").check()
    # The JS adds contact rows from the formset's empty form.
    page.locator("[data-add-contact]").click()
    expect(page.locator("#id_contacts-2-name")).to_be_visible()
    page.locator("#id_contacts-2-name").fill("钱工")
    page.get_by_role("button", name="保存").click()

    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="浏览器测试科技有限公司")
    assert page.url == f"{live_server.url}/customers/{customer.pk}/"
    assert customer.owner.username == "rep1" and customer.value_class == "B"
    assert customer.phone_key == "057187654321"
    primary = customer.contacts.get(is_primary=True)
    assert (primary.name, primary.title) == ("赵经理", "信息部经理")
    assert set(customer.contacts.values_list("name", flat=True)) == {"赵经理", "钱工"}
    expect(page.locator(".alert-success")).to_contain_text(customer.number)
    assert errors == []
