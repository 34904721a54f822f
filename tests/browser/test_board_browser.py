"""The pipeline board in a real Chromium (Playwright): dragging a card swaps the board's columns in
place (no page reload, filters kept); the keyboard path asks for the lost reason in a dialog.

Drives Debian's chromium directly (never a downloaded browser), signed in with a session cookie.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from opportunities.models import Opportunity
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data"),
]


@pytest.fixture
def board_page(live_server, client, context):
    """A Chromium page signed in as a sales rep, and any CSP violations or script errors."""
    from accounts import roles

    rep = UserFactory(username="board_rep", role=roles.SALES_REP)
    client.force_login(rep)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield rep, page, errors


def column(page, name: str):
    return page.locator("#opportunity-board section", has=page.get_by_role("heading", name=name))


def test_rep_drags_a_card_to_the_next_stage_and_the_board_updates_in_place(board_page, live_server):
    rep, page, errors = board_page
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    dragged = OpportunityFactory(customer=customer, name="门店系统", stage=stage("需求分析"))
    OpportunityFactory(customer=customer, name="会员系统", stage=stage("需求分析"))
    page.goto(live_server.url + reverse("opportunities:opportunity-board") + "?close_month=")
    page.evaluate("window.notReloaded = true")
    analysis, proposal = column(page, "需求分析"), column(page, "方案报价")
    expect(analysis.locator("[data-column-count]")).to_have_text("2")

    page.drag_and_drop(
        f"[data-opportunity='{dragged.pk}']",
        f"#opportunity-board section[data-stage='{stage('方案报价').pk}']",
    )

    expect(proposal.locator("[data-opportunity]")).to_have_count(1)
    expect(proposal.locator("[data-column-count]")).to_have_text("1")
    expect(analysis.locator("[data-column-count]")).to_have_text("1")
    expect(proposal.locator("[data-column-total]")).to_have_text("¥100,000")
    expect(page.get_by_role("status")).to_contain_text("门店系统")
    assert page.evaluate("window.notReloaded") is True  # swapped in place, not reloaded
    assert Opportunity.objects.get(pk=dragged.pk).stage == stage("方案报价")
    assert errors == []


def test_keyboard_move_to_lost_asks_for_the_reason_in_a_dialog(board_page, live_server):
    rep, page, errors = board_page
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep), name="门店系统")
    page.goto(live_server.url + reverse("opportunities:opportunity-board"))
    page.evaluate("window.notReloaded = true")
    card = page.locator(f"[data-opportunity='{opportunity.pk}']")

    card.locator("select[name=stage]").select_option(str(stage("输单").pk))
    card.locator("form.opportunity-move button[type=submit]").click()

    dialog = page.locator("#opportunity-move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("select[name=lost_reason]")).to_be_visible()
    dialog.locator("select[name=lost_reason]").select_option(str(lost_reason().pk))
    dialog.locator("button[type=submit]").click()

    expect(dialog).to_be_hidden()
    expect(page.locator(f"[data-opportunity='{opportunity.pk}']")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    opportunity.refresh_from_db()
    assert opportunity.stage == stage("输单") and opportunity.lost_reason == lost_reason()
    assert errors == []
