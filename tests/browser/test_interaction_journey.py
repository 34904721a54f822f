"""A rep's journey: log a call from a customer page, in place, accepting the proposed next task."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_rep1_logs_a_call_in_place_and_sees_it_on_top_of_the_timeline(demo_data, live_server, page: Page):
    from django.utils import timezone

    from customers.models import Customer
    from interactions.models import FollowUpTask, Interaction
    from interactions.services.cadence import propose_next

    customer = (
        Customer.objects.filter(owner__username="rep1", deleted_at__isnull=True, merged_into__isnull=True)
        .exclude(stage=Customer.Stage.LOST)
        .order_by("pk")
        .first()
    )
    proposal = propose_next(customer)
    after_proposal_sent = propose_next(customer, proposal_sent=True)

    # A CSP violation (an inline script or style) shows up as a console error.
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("rep1")
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    customer_url = page.url
    # Set on this document: a full page load would lose it.
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_role("link", name="记录跟进", exact=True).click()
    form = page.locator("#interaction-log-form")
    expect(form).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True

    # The proposed next task, from the customer's cadence rule.
    next_task = page.locator("#next-task")
    expect(next_task).to_contain_text(proposal.content)
    expect(page.locator("#log-next_content")).to_have_value(proposal.content)
    due = timezone.localtime(proposal.due_at).strftime("%Y-%m-%dT%H:%M")
    expect(page.locator("#log-next_due_at")).to_have_value(due)
    # A proposal sent: the proposal follows without a page load.
    page.locator("#log-proposal_sent").check()
    expect(page.locator("#log-next_content")).to_have_value(after_proposal_sent.content)

    form.locator("label", has_text="电话").click()
    page.locator("#log-topic").fill("电话沟通报价细节")
    page.locator("#log-summary").fill("客户对报价基本认可，希望下周安排演示")
    form.get_by_role("button", name="保存").click()

    saved = page.locator("#interaction-log-saved")
    expect(saved).to_be_visible()
    interaction = Interaction.objects.get(customer=customer, topic="电话沟通报价细节")
    expect(saved).to_contain_text(interaction.number)
    first_entry = page.locator("#timeline li").first
    expect(first_entry).to_contain_text("电话沟通报价细节")
    assert page.url == customer_url
    assert page.evaluate("window.stillTheSamePage") is True
    assert interaction.owner.username == "rep1" and interaction.proposal_sent
    task = FollowUpTask.objects.get(source_interaction=interaction)
    assert task.content == after_proposal_sent.content and task.owner.username == "rep1"
    assert errors == []
