"""The workbench journeys: manager1 sees rep1's overdue task on the team page; rep1 marks a task
done, reschedules another and logs a call in place on the workbench (no page load)."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def login(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("欢迎"))).to_be_visible()


def test_manager1_sees_rep1s_overdue_task_and_rep1_acts_in_place(demo_data, live_server, page: Page):
    from django.utils import timezone

    from accounts.models import User
    from customers.models import Customer
    from interactions.models import FollowUpTask
    from interactions.services.follow_up import task_create

    rep1 = User.objects.get(username="rep1")
    customer = (
        Customer.objects.filter(owner=rep1, deleted_at__isnull=True, merged_into__isnull=True)
        .exclude(stage=Customer.Stage.LOST)
        .order_by("pk")
        .first()
    )
    now = timezone.now()
    late = task_create(
        actor=rep1,
        customer=customer,
        due_at=now - datetime.timedelta(days=3),
        content="浏览器测试：三天前的回访",
    )
    later = task_create(
        actor=rep1,
        customer=customer,
        due_at=now - datetime.timedelta(days=2),
        content="浏览器测试：要改期的任务",
    )

    # manager1: the team page lists rep1's overdue task with its age.
    login(page, live_server, "manager1")
    page.goto(f"{live_server.url}/team/")
    row = page.locator(f"#team-task-{late.pk}")
    expect(row).to_contain_text("浏览器测试：三天前的回访")
    expect(row).to_contain_text("3")
    expect(page.locator(f"#team-rep-{rep1.pk}")).to_be_visible()

    # rep1: the workbench shows both in "overdue"; done and reschedule work in place.
    login(page, live_server, "rep1")
    overdue = page.locator("#workbench-overdue")
    expect(overdue).to_contain_text("浏览器测试：三天前的回访")
    page.evaluate("window.stillTheSamePage = true")

    done_row = page.locator(f"#task-{late.pk}")
    done_row.locator("summary", has=page.locator(".bi-check2-square")).click()
    done_row.locator("form[action$='/done/'] button[type=submit]").click()
    expect(page.locator(f"#task-{late.pk} .badge.text-bg-success")).to_be_visible()

    move_row = page.locator(f"#task-{later.pk}")
    move_row.locator("summary", has=page.locator(".bi-calendar-event")).click()
    new_due = timezone.localtime(now + datetime.timedelta(days=2)).replace(hour=15, minute=30)
    move_row.locator("input[type=datetime-local]").fill(new_due.strftime("%Y-%m-%dT%H:%M"))
    move_row.locator("form[action$='/reschedule/'] button[type=submit]").click()
    expect(page.locator("#workbench-upcoming")).to_contain_text("浏览器测试：要改期的任务")
    expect(page.locator("#workbench-overdue")).not_to_contain_text("浏览器测试：要改期的任务")
    # Log a call in place from the workbench: the form opens above the sections, the proposed next
    # task lands in "next 7 days" without a page load.
    page.locator(f"#task-{later.pk} a[data-log-open]").click()
    form = page.locator("#interaction-log-slot #interaction-log-form")
    expect(form).to_be_visible()
    page.locator("#log-topic").fill("浏览器测试：工作台记录")
    page.locator("#log-summary").fill("在工作台直接记录的电话")
    page.locator("#log-next_content").fill("浏览器测试：工作台提议的任务")
    soon = timezone.localtime(now + datetime.timedelta(days=1)).replace(hour=8, minute=0)
    page.locator("#log-next_due_at").fill(soon.strftime("%Y-%m-%dT%H:%M"))  # first in its section
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#interaction-log-saved")).to_be_visible()
    expect(page.locator("#workbench-upcoming")).to_contain_text("浏览器测试：工作台提议的任务")
    assert page.evaluate("window.stillTheSamePage") is True

    late.refresh_from_db()
    later.refresh_from_db()
    assert late.status == FollowUpTask.Status.DONE
    assert later.due_at == new_due.replace(second=0, microsecond=0)
