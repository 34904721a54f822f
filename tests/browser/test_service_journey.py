"""The service journey of issue 6, on the demo data, in Chinese: rep1 opens a complaint from a
customer page; it is dispatched automatically to agent1 (agent2 is inactive, so skipped); agent1
finds it in "my tickets", replies to the customer, resolves and closes it; the customer answers the
e-mailed satisfaction survey on a phone-sized page in a fresh browser context, without logging in,
and cannot answer twice."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser


def login(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()


def test_complaint_dispatched_answered_resolved_and_rated(
    demo_data, live_server, page: Page, browser: Browser
):
    from accounts.models import User
    from customers.models import Contact, Customer
    from service.models import ResolutionCategory, SurveyInvitation, Ticket
    from service.services.surveys import surveys_deliver

    rep1, agent1 = User.objects.get(username="rep1"), User.objects.get(username="agent1")
    User.objects.filter(username="agent2").update(is_active=False)
    customer = (
        Customer.objects.filter(owner=rep1, deleted_at__isnull=True, merged_into__isnull=True)
        .order_by("pk")
        .first()
    )
    contact = Contact.objects.filter(customer=customer).order_by("-is_primary", "pk").first()
    Contact.objects.filter(pk=contact.pk).update(email="buyer@example.com")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # rep1 opens a complaint from the customer page.
    login(page, live_server, "rep1")
    page.goto(live_server.url + customer.get_absolute_url())
    page.click(f'a[href="{reverse("service:ticket-create")}?customer={customer.pk}"]')
    page.select_option("#id_ticket_type", "complaint")
    page.select_option("#id_priority", str(Ticket.Priority.HIGH))
    page.select_option("#id_contact", str(contact.pk))
    page.fill("#id_subject", "浏览器测试：安装后系统频繁掉线")
    page.fill("#id_description", "客户反映上周安装后每天掉线三四次，影响门店收银。")
    page.locator("form button[type=submit]").last.click()
    ticket = Ticket.objects.get(subject="浏览器测试：安装后系统频繁掉线")
    expect(page).to_have_url(live_server.url + ticket.get_absolute_url())
    assert ticket.assignee == agent1 and ticket.status == Ticket.Status.ASSIGNED
    assert ticket.first_response_due is not None and ticket.resolution_due is not None

    # agent1 finds it among their tickets, replies, resolves and closes it.
    login(page, live_server, "agent1")
    page.goto(live_server.url + reverse("service:desk"))
    page.get_by_role("link", name=re.compile(ticket.number)).first.click()
    expect(page.locator("h1")).to_contain_text("安装后系统频繁掉线")
    page.check("input[name=kind][value=reply]")
    page.fill("#id_body", "您好，我们已远程检查，是路由器固件问题，已协助升级。")
    page.locator("#comment button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("已协助升级")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert any("buyer@example.com" in message.to for message in mail.outbox)

    page.select_option("#id_resolution_category", str(ResolutionCategory.objects.get(name="远程指导解决").pk))
    page.fill("#id_resolution", "升级路由器固件后连续三天未再掉线。")
    page.locator("#resolve button[type=submit]").click()
    page.locator("form[action$='/status/close/'] button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("已关闭")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED

    # The survey goes out by e-mail (the worker's job, run here); the customer answers it on a
    # phone, in a browser that never logged in.
    mail.outbox.clear()
    assert surveys_deliver() >= 1
    bodies = "\n".join(message.body for message in mail.outbox if "buyer@example.com" in message.to)
    path = re.search(r"/s/[\w-]+/", bodies).group(0)
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    customer_page = phone.new_page()
    customer_page.goto(live_server.url + path)
    expect(customer_page.locator("body")).to_contain_text(ticket.number)
    expect(customer_page.locator("body")).not_to_contain_text(customer.name)
    customer_page.locator("input[name=rating][value='4'] + label").click()
    customer_page.locator("textarea").fill("响应很快，问题解决了。")
    customer_page.locator("form button[type=submit]").click()
    expect(customer_page.locator("body")).to_contain_text(re.compile("感谢|谢谢"))
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation.rating == 4 and invitation.comment == "响应很快，问题解决了。"
    customer_page.goto(live_server.url + path)
    expect(customer_page.locator("body")).to_contain_text(re.compile("已.*(回答|提交|评价)"))
    phone.close()
    assert errors == []
