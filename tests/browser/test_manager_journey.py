"""A sales manager's journey: find a duplicate pair, compare it side by side, merge it."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_manager1_finds_and_merges_a_duplicate_pair(demo_data, live_server, page: Page):
    from accounts.models import User
    from customers.models import Contact, Customer
    from customers.services.profiles import customer_create
    from customers.services.related import contact_create

    rep1, rep2 = User.objects.get(username="rep1"), User.objects.get(username="rep2")
    older = customer_create(actor=rep1, name="苏州恒远精密机械有限公司", phone="139 5555 6666", email="")
    contact_create(actor=rep1, customer=older, name="周建国", title="采购经理")
    newer = customer_create(
        actor=rep2, name="苏州恒远精密机械公司", phone="+86 13955556666", email="hy@example.cn"
    )
    contact_create(actor=rep2, customer=newer, name="钱小红", title="财务")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("manager1")
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()

    page.get_by_role("link", name="客户", exact=True).click()
    page.get_by_role("link", name="重复客户").click()
    row = page.locator("tr", has_text="苏州恒远精密机械有限公司")
    expect(row).to_contain_text("苏州恒远精密机械公司")
    row.get_by_role("link", name="比较并合并").click()

    # Side by side: the older profile survives by default; take the e-mail only the newer has.
    expect(page.get_by_role("button", name=re.compile("合并到"))).to_be_visible()
    page.get_by_role("button", name=re.compile("合并到")).click()

    expect(page).to_have_url(f"{live_server.url}/customers/{older.pk}/")
    expect(page.get_by_text("已合并到")).to_be_visible()
    expect(page.locator("#contacts")).to_contain_text("周建国")
    expect(page.locator("#contacts")).to_contain_text("钱小红")
    newer.refresh_from_db()
    assert newer.merged_into_id == older.pk
    assert Customer.objects.get(pk=older.pk).email == "hy@example.cn"  # empty on the survivor: taken
    assert Contact.objects.filter(customer=older, is_primary=True).count() == 1

    # The merged customer's old address leads to the survivor.
    page.goto(f"{live_server.url}/customers/{newer.pk}/")
    expect(page).to_have_url(f"{live_server.url}/customers/{older.pk}/")
