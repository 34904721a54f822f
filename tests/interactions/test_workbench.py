"""The rep's workbench (我的工作台) on the home page: sections, local days, in-place actions."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from interactions.models import FollowUpTask
from interactions.selectors_workbench import workbench_tasks
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

HOME = reverse("home")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def reschedule_url(task: FollowUpTask) -> str:
    return reverse("interactions:task-reschedule", args=[task.pk])


def local(days: int = 0, hour: int = 10) -> datetime.datetime:
    """A time on a local (Shanghai) day relative to today."""
    day = timezone.localdate(timezone.now(), SHANGHAI) + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def home(client, user, **headers):
    client.force_login(user)
    response = client.get(HOME, **headers)
    assert response.status_code == 200
    return response


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep, name="杭州云帆科技有限公司")


def test_rep_sees_overdue_today_and_next_7_days_sections_with_counts(client, rep, customer, teammate):
    TaskFactory(customer=customer, due_at=local(-3), content="三天前该做的")
    TaskFactory(customer=customer, due_at=local(0, 23), content="今天要做的")
    TaskFactory(customer=customer, due_at=local(6), content="下周要做的")
    TaskFactory(customer=customer, due_at=local(9), content="九天后的")
    TaskFactory(customer=customer, due_at=local(-1), content="已完成的", status=FollowUpTask.Status.DONE)
    TaskFactory(customer=CustomerFactory(owner=teammate), due_at=local(-1), content="同事的任务")

    page = home(client, rep, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    overdue = page[page.index('id="workbench-overdue"') : page.index('id="workbench-today"')]
    today = page[page.index('id="workbench-today"') : page.index('id="workbench-upcoming"')]
    upcoming = page[page.index('id="workbench-upcoming"') : page.index('id="workbench-no-next-step"')]
    assert "三天前该做的" in overdue and "逾期" in overdue
    assert "今天要做的" in today
    assert "下周要做的" in upcoming
    assert "九天后的" not in page and "已完成的" not in page and "同事的任务" not in page
    for section in (overdue, today, upcoming):
        assert 'data-count="' in section and ">1</span>" in section


def test_days_follow_the_users_own_time_zone(client, rep, customer):
    """At 01:00 in Shanghai it is still yesterday in London: a task due at 09:00 Shanghai time
    today is "today" for a Shanghai user and "tomorrow" (next 7 days) for a London user."""
    rep.time_zone = "Europe/London"
    rep.save(update_fields=["time_zone"])
    london = zoneinfo.ZoneInfo("Europe/London")
    london_today = timezone.localdate(timezone.now(), london)
    due = datetime.datetime.combine(
        london_today + datetime.timedelta(days=1), datetime.time(12), tzinfo=london
    )
    TaskFactory(customer=customer, due_at=due, content="伦敦明天中午")

    page = home(client, rep).content.decode()

    upcoming = page[page.index('id="workbench-upcoming"') : page.index('id="workbench-no-next-step"')]
    assert "伦敦明天中午" in upcoming


def test_sections_are_bounded_and_link_to_the_filtered_task_list(client, rep, customer):
    for hour in range(8):
        TaskFactory(customer=customer, due_at=local(-2, hour + 1), content=f"测试行{hour}")

    response = home(client, rep)
    page = response.content.decode()

    assert page.count("测试行") == 5
    today = timezone.localdate(timezone.now(), SHANGHAI)
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    link = f"{reverse('interactions:task-list')}?owner={rep.pk}&amp;status=open&amp;due_to={yesterday}"
    assert link in page
    # The link shows exactly the tasks counted.
    listed = client.get(f"{reverse('interactions:task-list')}?owner={rep.pk}&status=open&due_to={yesterday}")
    assert listed.context["page"].paginator.count == 8


def test_customers_with_no_next_step_and_recent_interactions(client, rep, customer, teammate):
    planned = CustomerFactory(owner=rep, name="已有计划的客户")
    TaskFactory(customer=planned, due_at=local(20))
    Customer.objects.filter(pk=planned.pk).update(next_follow_up_at=local(20))
    CustomerFactory(owner=rep, name="已流失客户", stage=Customer.Stage.LOST)
    CustomerFactory(owner=teammate, name="同事的客户")
    InteractionFactory(customer=customer, owner=rep, topic="上周的电话回访")

    page = home(client, rep).content.decode()

    without = page[page.index('id="workbench-no-next-step"') : page.index('id="workbench-recent"')]
    assert "杭州云帆科技有限公司" in without
    assert "已有计划的客户" not in without and "已流失客户" not in without and "同事的客户" not in page
    assert 'data-count="no-next-step">1<' in without
    link = f"{reverse('customers:customer-list')}?owner={rep.pk}&amp;no_next_step=on"
    assert link in without
    listed = client.get(link.replace("&amp;", "&"))
    assert [c.name for c in listed.context["page"].object_list] == ["杭州云帆科技有限公司"]
    assert "上周的电话回访" in page[page.index('id="workbench-recent"') :]


def test_home_keeps_the_role_and_team_line_and_the_leads_review_panel(client, lead, rep, customer):
    TaskFactory(customer=customer, owner=lead, due_at=local(1), content="组长自己的任务")
    page = home(client, lead, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "华东销售一组" in page and "销售经理" in page
    assert 'id="workbench-reviews-heading"' in page
    assert "组长自己的任务" in page


def test_users_without_follow_up_tasks_get_no_workbench(client, agent, director):
    for user in (agent, director):
        assert 'id="workbench"' not in home(client, user).content.decode()


def test_home_query_count_is_constant_whatever_the_number_of_rows(
    client, rep, customer, django_assert_max_num_queries
):
    def fill(count: int) -> None:
        for n in range(count):
            other = CustomerFactory(owner=rep)
            for days in (-2, 0, 3):
                TaskFactory(customer=other, due_at=local(days, 23), content=f"任务{days}-{n}")
            InteractionFactory(customer=other, owner=rep)

    fill(1)
    client.force_login(rep)
    with django_assert_max_num_queries(16) as small:
        client.get(HOME)
    fill(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(HOME).content.decode()
    assert page.count("任务-2-") == 5
    assert page.count("任务0-") == 5 and page.count("任务3-") == 5


# Reschedule in place


def test_rep_reschedules_a_task_in_place_with_htmx(client, rep, customer):
    task = TaskFactory(customer=customer, due_at=local(-1), content="改期的任务")
    client.force_login(rep)
    new_due = local(2, 15)

    response = client.post(
        reschedule_url(task),
        {"due_at": new_due.strftime("%Y-%m-%dT%H:%M"), "version": task.version},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 200
    task.refresh_from_db()
    assert task.due_at == new_due and task.version == 2
    fragment = response.content.decode()
    assert fragment.startswith('\n<div id="workbench-tasks"') or 'id="workbench-tasks"' in fragment[:200]
    upcoming = fragment[fragment.index('id="workbench-upcoming"') :]
    assert "改期的任务" in upcoming  # moved from overdue to the next 7 days
    assert response["Vary"] and "HX-Request" in response["Vary"]
    customer.refresh_from_db()
    assert customer.next_follow_up_at == new_due


def test_rep_reschedules_without_javascript_and_returns_home(client, rep, customer):
    task = TaskFactory(customer=customer, due_at=local(1))
    client.force_login(rep)
    new_due = local(3, 9)
    response = client.post(
        reschedule_url(task), {"due_at": new_due.strftime("%Y-%m-%dT%H:%M"), "version": 1, "next": HOME}
    )
    assert response.status_code == 302 and response["Location"] == HOME
    task.refresh_from_db()
    assert task.due_at == new_due


def test_a_past_time_is_refused_with_a_clear_error_and_the_typed_value_kept(client, rep, customer):
    task = TaskFactory(customer=customer, due_at=local(1))
    client.force_login(rep)
    past = local(-2, 8).strftime("%Y-%m-%dT%H:%M")

    # English: the zh-hans text of this new message lands with the shared catalogue.
    response = client.post(reschedule_url(task), {"due_at": past, "version": 1}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a time in the future." in page
    assert f'value="{past}"' in page
    task.refresh_from_db()
    assert task.due_at == local(1) and task.version == 1

    fragment = client.post(
        reschedule_url(task),
        {"due_at": past, "version": 1},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Choose a time in the future." in fragment and f'value="{past}"' in fragment


def test_a_concurrent_edit_is_refused_and_shows_the_current_version(client, rep, customer):
    task = TaskFactory(customer=customer, due_at=local(1))
    FollowUpTask.objects.filter(pk=task.pk).update(due_at=local(4), version=2)  # someone else saved
    client.force_login(rep)
    typed = local(5, 11).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reschedule_url(task),
        {"due_at": typed, "version": 1},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    task.refresh_from_db()
    assert task.due_at == local(4) and task.version == 2
    fragment = response.content.decode()
    assert "在您编辑期间，其他人已修改了该任务。" in fragment
    assert f'value="{typed}"' in fragment
    assert 'name="version" value="2"' in fragment


def test_other_team_rep_gets_404_for_reschedule_and_nothing_changes(client, other_team_rep, customer):
    task = TaskFactory(customer=customer, due_at=local(1))
    client.force_login(other_team_rep)
    response = client.post(
        reschedule_url(task), {"due_at": local(3).strftime("%Y-%m-%dT%H:%M"), "version": 1}
    )
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.due_at == local(1) and task.version == 1


def test_director_gets_403_for_reschedule_and_nothing_changes(client, director, customer):
    task = TaskFactory(customer=customer, due_at=local(1))
    client.force_login(director)
    response = client.post(
        reschedule_url(task), {"due_at": local(3).strftime("%Y-%m-%dT%H:%M"), "version": 1}
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.version == 1


def test_reschedule_is_post_only(client, rep, customer):
    task = TaskFactory(customer=customer, due_at=local(1))
    client.force_login(rep)
    assert client.get(reschedule_url(task)).status_code == 405


# Done in place: the task list's flow, posted from the workbench row


def test_done_from_the_workbench_swaps_the_row_and_completes_the_task(client, rep, customer):
    interaction = InteractionFactory(customer=customer, owner=rep)
    task = TaskFactory(customer=customer, due_at=local(-1), content="完成的任务")
    page = home(client, rep).content.decode()
    done_url = reverse("interactions:task-done", args=[task.pk])
    assert f'hx-post="{done_url}"' in page
    assert f'<option value="{interaction.pk}" selected>' in page  # just logged: proposed

    response = client.post(done_url, {"interaction": interaction.pk, "next": HOME}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.content.decode().strip().startswith(f'<tr id="task-{task.pk}"')
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.DONE and task.completed_by_interaction == interaction


def test_sections_are_cut_at_the_viewers_local_midnight(rep, customer):
    """20:00 UTC on 10 March is still the 10th in London but already the 11th in Shanghai: a task
    due at 02:00 UTC on the 11th is "today" in Shanghai and "next 7 days" in London."""
    now = datetime.datetime(2026, 3, 10, 20, 0, tzinfo=datetime.UTC)
    TaskFactory(customer=customer, due_at=datetime.datetime(2026, 3, 11, 2, 0, tzinfo=datetime.UTC))
    TaskFactory(customer=customer, due_at=datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.UTC))

    with timezone.override(SHANGHAI):
        shanghai = workbench_tasks(rep, now=now)
    with timezone.override(zoneinfo.ZoneInfo("Europe/London")):
        london = workbench_tasks(rep, now=now)

    # 15:00 UTC on the 10th: yesterday in Shanghai (overdue), earlier today in London.
    assert [shanghai[key].count for key in ("overdue", "today", "upcoming")] == [1, 1, 0]
    assert [london[key].count for key in ("overdue", "today", "upcoming")] == [0, 1, 1]


def test_a_rep_with_nothing_to_do_gets_no_empty_workbench(client, rep):
    assert 'id="workbench"' not in home(client, rep).content.decode()


# Logging in place from the workbench


def workbench_log(customer) -> str:
    return reverse("interactions:interaction-log", args=[customer.pk]) + "?from=workbench"


def test_the_workbench_opens_the_log_form_in_place(client, rep, customer):
    TaskFactory(customer=customer, due_at=local(0, 23), content="今天要打的电话")
    page = home(client, rep).content.decode()
    assert 'id="interaction-log-slot"' in page
    assert f'hx-get="{workbench_log(customer)}"' in page
    form = client.get(workbench_log(customer), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in form and 'name="from" value="workbench"' in form


def test_logging_from_the_workbench_saves_in_place_and_redraws_the_task_sections(client, rep, customer):
    from tests.interactions.test_logging import log_data

    client.force_login(rep)
    due = timezone.localtime(local(2, 15))
    data = log_data(rep, next_content="两天后确认报价", next_due_at=due.strftime("%Y-%m-%dT%H:%M"))
    response = client.post(
        reverse("interactions:interaction-log", args=[customer.pk]),
        {**data, "from": "workbench"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="interaction-log-saved"' in html and "<html" not in html
    # The task sections come out of band, with the proposed task in the next 7 days.
    assert '<div id="workbench-tasks" class="d-flex flex-column gap-3" hx-swap-oob="true">' in html
    upcoming = html[html.index('id="workbench-upcoming"') :]
    assert "两天后确认报价" in upcoming
    assert customer.interactions.get().topic == data["topic"]


def test_logging_from_the_workbench_without_javascript_returns_to_the_workbench(client, rep, customer):
    from tests.interactions.test_logging import log_data

    client.force_login(rep)
    response = client.post(
        reverse("interactions:interaction-log", args=[customer.pk]), {**log_data(rep), "from": "workbench"}
    )
    assert response.status_code == 302 and response["Location"] == HOME
    assert customer.interactions.count() == 1
