"""The reports journey of issue 7, on the demo data, in Chinese: manager1 opens the funnel report
(the "funnel" section of analytics.kpis.sales), its charts are drawn from the app's own Chart.js,
changes the period to this quarter, and drills down from a stage of the funnel into the
opportunity list filtered by that stage."""

import re
from urllib.parse import parse_qs, urlparse

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


def test_manager1_opens_the_funnel_changes_the_period_and_drills_into_a_stage(
    demo_data, live_server, page: Page
):
    from accounts.models import Team
    from opportunities.models import Stage

    team = Team.objects.get(name="华东销售一组")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A chart blocked by the CSP (an inline script or style) shows up as a console error.
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # 1. From the navigation to the dashboard, then to the funnel report.
    login(page, live_server, "manager1")
    page.locator(f'#main-nav a[href="{reverse("analytics:dashboard")}"]').click()
    expect(page).to_have_url(re.compile(re.escape(reverse("analytics:dashboard")) + r"$"))
    page.locator("#section-funnel-heading a").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("analytics:section", args=["funnel"]))))
    funnel = page.locator("#table-funnel-funnel")
    expect(funnel).to_be_visible()
    # Only manager1's team is offered.
    expect(page.locator("#id_team option")).to_have_count(2)  # "---------" and 华东销售一组
    expect(page.locator("#id_team option").nth(1)).to_have_text(team.name)

    # The charts are drawn (Chart.js from static/vendor, data from json_script).
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".some(canvas => window.Chart && Chart.getChart(canvas))"
    )

    # 2. Change the period to this quarter.
    page.locator("#id_period").select_option("quarter")
    page.locator("#report-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"period=quarter"))
    expect(page.locator("#id_period")).to_have_value("quarter")
    expect(page.locator("#table-funnel-funnel")).to_be_visible()

    # 3. Drill down into the first stage of the funnel: the opportunity list with that stage.
    link = page.locator("#table-funnel-funnel tbody th a").first
    stage_name = link.inner_text().strip()
    stage = Stage.objects.get(name=stage_name)
    link.click()
    expect(page).to_have_url(re.compile(re.escape(reverse("opportunities:opportunity-list"))))
    query = parse_qs(urlparse(page.url).query)
    assert query["stage"] == [str(stage.pk)]
    expect(page.locator("#opportunity-filter select[name=stage]")).to_have_value(str(stage.pk))
    assert errors == []
