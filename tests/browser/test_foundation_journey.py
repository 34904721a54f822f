import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_rep1_logs_in_in_chinese_and_switches_to_english(demo_data, live_server, page: Page):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()

    page.get_by_label("用户名").fill("rep1")
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="欢迎，李娜")).to_be_visible()
    expect(page.get_by_role("link", name="工作台")).to_be_visible()
    expect(page.get_by_text("销售代表")).to_be_visible()
    expect(page.get_by_text("华东销售一组")).to_be_visible()

    # The switcher submits itself on change (crm.js); the no-JS button is hidden.
    expect(page.get_by_role("button", name="切换")).to_be_hidden()
    page.get_by_label("语言").select_option("en")
    expect(page.get_by_role("heading", name="Welcome, 李娜")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Workbench")).to_be_visible()

    # The choice is kept on the account: a fresh login elsewhere is in English too.
    page.get_by_role("button", name="李娜").click()
    page.get_by_role("button", name="Log out").click()
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("rep1")
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="Welcome, 李娜")).to_be_visible()


def test_pages_load_no_asset_from_outside_the_app(page: Page, live_server, demo_data):
    """Intranet rule: every request the page makes stays on our own origin."""
    foreign: list[str] = []
    failed: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(live_server.url) else foreign.append(request.url),
    )
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("rep1")
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="欢迎，李娜")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert foreign == []
    assert failed == []
    # Bootstrap's CSS and htmx really loaded.
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "flex"
