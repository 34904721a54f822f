"""Follow-up tasks (跟进任务): the list and its filters, overdue (待跟进), the task page, done /
reschedule / cancel in place and without JavaScript, permissions, query budget and the export."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.exports import export_build
from accounts.models import Export
from interactions.models import FollowUpTask
from interactions.services.follow_up import customers_refresh_follow_up, interaction_log, task_update
from tests.factories import customers_listing
from tests.factories.accounts import UserFactory
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.customers_listing import export_rows
from tests.factories.interactions import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

media = customers_listing.media

LIST = reverse("interactions:task-list")
EXPORT = reverse("interactions:task-export")
EVERYTHING = {"owner": "", "status": ""}  # the filters cleared: every task in scope


def url(name: str, task: FollowUpTask) -> str:
    return reverse(f"interactions:{name}", args=[task.pk])


def in_days(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


@pytest.fixture
def world(rep, teammate, lead, other_team_rep):
    """One open task per situation around ``rep`` (team A), and one in team B."""
    customers = {
        "own": CustomerFactory(owner=rep, name="杭州云帆科技有限公司", value_class="A", stage="intent"),
        "shared": CustomerFactory(owner=teammate, name="苏州共享材料有限公司", collaborators=[rep]),
        "teammate": CustomerFactory(owner=teammate, name="无锡同组机械有限公司"),
        "other": CustomerFactory(owner=other_team_rep, name="广州别组电子有限公司"),
    }
    tasks = {
        key: TaskFactory(customer=customer, content=f"任务-{key}", due_at=in_days(index + 1))
        for index, (key, customer) in enumerate(customers.items())
    }
    customers_refresh_follow_up([customer.pk for customer in customers.values()])
    return tasks


def listed(client, user, **params) -> list[FollowUpTask]:
    client.force_login(user)
    response = client.get(LIST, params)
    assert response.status_code == 200
    return list(response.context["tasks"])


def contents(client, user, **params) -> set[str]:
    return {task.content for task in listed(client, user, **params)}


# Scope and the default view


def test_default_shows_my_open_tasks(client, rep, world):
    customer = world["own"].customer
    TaskFactory(customer=customer, content="已完成的", status=FollowUpTask.Status.DONE)
    TaskFactory(customer=customer, content="已取消的", status=FollowUpTask.Status.CANCELLED)
    assert contents(client, rep) == {"任务-own"}  # not the teammate's task on the shared customer
    form = client.get(LIST).context["filter"].form
    assert form["owner"].value() == str(rep.pk) and form["status"].value() == "open"


def test_rep_sees_own_and_shared_customers_tasks(client, rep, world):
    assert contents(client, rep, **EVERYTHING) == {"任务-own", "任务-shared"}


def test_lead_sees_the_whole_team(client, lead, world):
    assert contents(client, lead, **EVERYTHING) == {"任务-own", "任务-shared", "任务-teammate"}


def test_director_sees_every_team(client, director, world):
    assert contents(client, director, **EVERYTHING) == {f"任务-{key}" for key in world}


def test_other_team_rep_sees_only_their_team(client, other_team_rep, world):
    assert contents(client, other_team_rep, **EVERYTHING) == {"任务-other"}


def test_a_tasks_owner_sees_it_on_a_customer_they_cannot_see(client, rep, teammate):
    task = TaskFactory(customer=CustomerFactory(owner=teammate), owner=rep, content="帮同事回访")
    assert contents(client, rep) == {"帮同事回访"}
    assert client.get(url("task-detail", task)).status_code == 200


def test_user_without_view_permission_gets_403(client, db):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(LIST).status_code == 403


def test_list_shows_the_columns_in_chinese(client, rep):
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    TaskFactory(
        customer=customer,
        contact=ContactFactory(customer=customer, name="王经理"),
        content="确认报价",
        priority=FollowUpTask.Priority.HIGH,
    )
    client.force_login(rep)
    page = client.get(LIST).content.decode()
    assert "<h1" in page and "跟进任务" in page
    assert "确认报价" in page and "杭州云帆科技有限公司" in page and "王经理" in page
    assert "高" in page and "未完成" in page
    assert "共 1 个任务" in page
    assert "标记完成" in page and "改期" in page and "取消任务" in page


# Filters


def test_filter_by_owner(client, lead, teammate, world):
    assert contents(client, lead, owner=teammate.pk, status="") == {"任务-shared", "任务-teammate"}


def test_filter_by_team(client, director, team_b, world):
    assert contents(client, director, owner="", team=team_b.pk) == {"任务-other"}


def test_filter_by_status(client, rep, world):
    done = TaskFactory(customer=world["own"].customer, content="做完了", status=FollowUpTask.Status.DONE)
    TaskFactory(customer=done.customer, content="不做了", status=FollowUpTask.Status.CANCELLED)
    assert contents(client, rep, owner="", status="done") == {"做完了"}
    assert contents(client, rep, owner="", status="cancelled") == {"不做了"}
    assert contents(client, rep, owner="", status="open") == {"任务-own", "任务-shared"}
    assert contents(client, rep, owner="", status="") == {"任务-own", "任务-shared", "做完了", "不做了"}


def test_filter_overdue_only(client, rep, world):
    customer = world["own"].customer
    TaskFactory(customer=customer, content="昨天就该做", due_at=in_days(-1))
    TaskFactory(customer=customer, content="昨天做完了", due_at=in_days(-1), status=FollowUpTask.Status.DONE)
    assert contents(client, rep, owner="", overdue="on") == {"昨天就该做"}


def test_filter_by_priority_and_kind(client, rep, world):
    customer = world["own"].customer
    TaskFactory(customer=customer, content="紧急的", priority=FollowUpTask.Priority.URGENT)
    TaskFactory(customer=customer, content="生日关怀", kind=FollowUpTask.Kind.CARE)
    assert contents(client, rep, priority=4) == {"紧急的"}
    assert contents(client, rep, kind="care") == {"生日关怀"}


def test_filter_by_customer_class_stage_and_name(client, rep, world):
    assert contents(client, rep, owner="", value_class="A") == {"任务-own"}
    assert contents(client, rep, owner="", stage="intent") == {"任务-own"}
    assert contents(client, rep, owner="", customer="共享") == {"任务-shared"}
    assert contents(client, rep, owner="", customer="别组") == set()


def test_sorted_by_due_time_either_way(client, rep, world):
    assert [task.content for task in listed(client, rep, **EVERYTHING)] == ["任务-own", "任务-shared"]
    assert [task.content for task in listed(client, rep, owner="", o="-due")] == ["任务-shared", "任务-own"]


def test_rep_has_no_team_filter_and_owner_choices_stay_in_scope(
    client, rep, teammate, lead, other_team_rep, world
):
    client.force_login(rep)
    form = client.get(LIST).context["filter"].form
    assert "team" not in form.fields
    assert set(form.fields["owner"].queryset) == {rep, teammate, lead}


def test_director_chooses_among_everyone_who_holds_a_task(client, director, rep, other_team_rep, world):
    from tests.factories.accounts import UserFactory

    idle = UserFactory(username="idle")  # holds no task: not offered
    client.force_login(director)
    choices = set(client.get(LIST).context["filter"].form.fields["owner"].queryset)
    assert {rep, other_team_rep} <= choices and idle not in choices and director not in choices


def test_htmx_filter_gets_the_results_fragment_with_row_actions(client, rep, world):
    client.force_login(rep)
    response = client.get(LIST, {"owner": "", "status": "open", "customer": "共享"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="task-results"' in content and "<html" not in content
    assert "任务-shared" in content and "任务-own" not in content
    assert url("task-done", world["shared"]) in content
    assert "HX-Request" in response["Vary"]


# Overdue (待跟进) is derived from the time, in the viewer's time zone


def _freeze(monkeypatch, moment: datetime.datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_a_task_due_at_half_past_midnight_is_overdue_at_one_not_at_midnight(client, rep, monkeypatch):
    today = timezone.localdate()
    local = datetime.datetime.combine

    def at(hour: int, minute: int) -> datetime.datetime:
        return timezone.make_aware(local(today, datetime.time(hour, minute)))

    TaskFactory(customer=CustomerFactory(owner=rep), content="凌晨到期", due_at=at(0, 30))
    _freeze(monkeypatch, at(0, 0))
    assert contents(client, rep, overdue="on") == set()
    page = client.get(LIST).content.decode()
    assert 'class="table-danger"' not in page and "逾期不到1小时" not in page
    _freeze(monkeypatch, at(1, 0))
    assert contents(client, rep, overdue="on") == {"凌晨到期"}
    page = client.get(LIST).content.decode()
    assert 'class="table-danger"' in page and "逾期不到1小时" in page
    # The due date filter works on the local date (00:30 in Shanghai is the day before in UTC).
    day = today.isoformat()
    assert contents(client, rep, due_from=day, due_to=day) == {"凌晨到期"}
    assert contents(client, rep, due_to=(today - datetime.timedelta(days=1)).isoformat()) == set()


def test_overdue_rows_are_highlighted_with_their_age(client, rep):
    customer = CustomerFactory(owner=rep)
    TaskFactory(
        customer=customer, content="三天前到期", due_at=timezone.now() - datetime.timedelta(days=3, hours=2)
    )
    TaskFactory(
        customer=customer, content="五小时前到期", due_at=timezone.now() - datetime.timedelta(hours=5)
    )
    client.force_login(rep)
    page = client.get(LIST).content.decode()
    assert page.count('class="table-danger"') == 2
    assert "逾期3天" in page and "逾期5小时" in page


# Sub-tasks


def test_sub_tasks_are_marked_in_the_list_and_shown_under_the_main_task(client, rep, teammate):
    customer = CustomerFactory(owner=rep, collaborators=[teammate])
    main = TaskFactory(customer=customer, content="推进签约")
    TaskFactory(customer=customer, parent=main, owner=teammate, content="准备技术方案", due_at=in_days(2))
    client.force_login(rep)
    page = client.get(LIST, EVERYTHING).content.decode()
    assert "子任务" in page and "主任务：“推进签约”" in page
    detail = client.get(url("task-detail", main)).content.decode()
    assert "准备技术方案" in detail and str(teammate) in detail
    assert timezone.localtime(in_days(2)).strftime("%Y-%m-%d") in detail


# The task page


def test_task_page_shows_customer_interactions_and_actions(client, rep, director):
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    source = InteractionFactory(customer=customer, topic="首次拜访")
    task = TaskFactory(customer=customer, source_interaction=source, content="寄送样品")
    client.force_login(rep)
    page = client.get(url("task-detail", task)).content.decode()
    assert "寄送样品" in page and "杭州云帆科技有限公司" in page and customer.get_absolute_url() in page
    assert source.number in page and "来源跟进记录" in page
    assert (
        url("task-done", task) in page and url("task-edit", task) in page and url("task-cancel", task) in page
    )
    assert f"{reverse('interactions:task-create', args=[customer.pk])}?parent={task.pk}" in page
    assert reverse("interactions:interaction-log", args=[customer.pk]) in page
    client.force_login(director)
    page = client.get(url("task-detail", task)).content.decode()
    assert "寄送样品" in page and url("task-done", task) not in page


def test_done_task_page_shows_the_completing_interaction(client, rep):
    customer = CustomerFactory(owner=rep)
    interaction = InteractionFactory(customer=customer, topic="电话确认")
    task = TaskFactory(
        customer=customer,
        status=FollowUpTask.Status.DONE,
        completed_by_interaction=interaction,
        completed_at=timezone.now(),
    )
    client.force_login(rep)
    page = client.get(url("task-detail", task)).content.decode()
    assert interaction.number in page and "电话确认" in page and "已完成" in page


# Done


def test_done_with_the_interaction_updates_the_customers_follow_up(client, rep):
    customer = CustomerFactory(owner=rep)
    first = TaskFactory(customer=customer, due_at=in_days(1))
    second = TaskFactory(customer=customer, due_at=in_days(5))
    interaction = interaction_log(
        actor=rep, customer=customer, method="phone", topic="回访", summary="已沟通"
    )
    customer.refresh_from_db()
    assert customer.next_follow_up_at == first.due_at
    client.force_login(rep)
    response = client.post(url("task-done", first), {"interaction": interaction.pk, "next": LIST})
    assert response.status_code == 302 and response["Location"] == LIST
    first.refresh_from_db()
    assert first.status == FollowUpTask.Status.DONE
    assert first.completed_by_interaction == interaction and first.completed_at is not None
    customer.refresh_from_db()
    assert customer.next_follow_up_at == second.due_at
    assert customer.last_contacted_at == interaction.occurred_at
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        f"任务“{first.content}”已完成。"
    ]


def test_done_without_an_interaction_and_back_to_the_task_page(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep))
    client.force_login(rep)
    response = client.post(url("task-done", task), {"interaction": "", "next": "https://evil.example/"})
    assert response["Location"] == url("task-detail", task)  # not to another site
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.DONE and task.completed_by_interaction is None


def test_done_offers_the_just_logged_interaction_preselected(client, rep):
    customer = CustomerFactory(owner=rep)
    old_customer = CustomerFactory(owner=rep)
    task = TaskFactory(customer=customer)
    other = TaskFactory(customer=old_customer)
    earlier = InteractionFactory(customer=customer, occurred_at=in_days(-3), created_at=in_days(-3))
    just_now = InteractionFactory(customer=customer, occurred_at=in_days(-0.1))
    old = InteractionFactory(customer=old_customer, occurred_at=in_days(-3), created_at=in_days(-3))
    client.force_login(rep)
    page = client.get(LIST).content.decode()
    assert f'<option value="{just_now.pk}" selected>' in page
    assert f'<option value="{earlier.pk}">' in page
    # Logged three days ago: offered, not chosen.
    assert f'<option value="{old.pk}">' in page
    assert f'<option value="{old.pk}" selected>' not in page
    detail = client.get(url("task-detail", task)).content.decode()
    assert f'<option value="{just_now.pk}" selected>' in detail
    assert f'<option value="{old.pk}">' in client.get(url("task-detail", other)).content.decode()


def test_done_offers_at_most_the_ten_latest_interactions(client, rep):
    customer = CustomerFactory(owner=rep)
    TaskFactory(customer=customer)
    interactions = [InteractionFactory(customer=customer, occurred_at=in_days(-n - 1)) for n in range(12)]
    client.force_login(rep)
    page = client.get(LIST).content.decode()
    assert all(f'value="{item.pk}"' in page for item in interactions[:10])
    assert not any(f'value="{item.pk}"' in page for item in interactions[10:])


def test_done_refuses_another_customers_interaction(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep))
    foreign = InteractionFactory(customer=CustomerFactory(owner=rep))
    client.force_login(rep)
    response = client.post(url("task-done", task), {"interaction": foreign.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.OPEN
    assert any("选择一个有效的选项" in str(message) for message in get_messages(response.wsgi_request))


def test_done_in_place_with_htmx_returns_the_row(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep), content="发送合同")
    client.force_login(rep)
    response = client.post(url("task-done", task), {"next": LIST}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert content.strip().startswith(f'<tr id="task-{task.pk}"') and "<html" not in content
    assert "发送合同" in content and "已完成" in content and url("task-done", task) not in content


def test_done_twice_says_the_task_is_no_longer_open(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep), status=FollowUpTask.Status.DONE)
    client.force_login(rep)
    content = client.post(url("task-done", task), {}, HTTP_HX_REQUEST="true").content.decode()
    assert "该任务已不是未完成状态。" in content
    response = client.post(url("task-done", task), {})
    assert [str(message) for message in get_messages(response.wsgi_request)] == ["该任务已不是未完成状态。"]


# Cancel


def test_cancel_updates_the_customers_next_follow_up(client, rep):
    customer = CustomerFactory(owner=rep)
    task = TaskFactory(customer=customer, due_at=in_days(1))
    customers_refresh_follow_up([customer.pk])
    client.force_login(rep)
    response = client.post(url("task-cancel", task), {"next": LIST})
    assert response["Location"] == LIST
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.CANCELLED
    customer.refresh_from_db()
    assert customer.next_follow_up_at is None


def test_cancel_in_place_with_htmx_returns_the_row(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep))
    client.force_login(rep)
    content = client.post(url("task-cancel", task), {}, HTTP_HX_REQUEST="true").content.decode()
    assert f'<tr id="task-{task.pk}"' in content and "已取消" in content


def test_actions_are_post_only(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep))
    client.force_login(rep)
    assert client.get(url("task-done", task)).status_code == 405
    assert client.get(url("task-cancel", task)).status_code == 405
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.OPEN


# Edit (reschedule, reassign, reword)


def _edit_data(task: FollowUpTask, **changes) -> dict:
    data = {
        "due_at": timezone.localtime(task.due_at).strftime("%Y-%m-%dT%H:%M"),
        "owner": task.owner_id,
        "content": task.content,
        "priority": task.priority,
        "contact": task.contact_id or "",
        "version": task.version,
    }
    return data | changes


def test_reschedule_moves_the_due_time_and_the_customers_next_follow_up(client, rep):
    customer = CustomerFactory(owner=rep)
    task = TaskFactory(customer=customer, due_at=in_days(1))
    client.force_login(rep)
    form = client.get(url("task-edit", task)).context["form"]
    assert form["version"].value() == 1
    response = client.post(url("task-edit", task), _edit_data(task, due_at="2030-05-06T09:30", next=LIST))
    assert response.status_code == 302 and response["Location"] == LIST
    task.refresh_from_db()
    due = datetime.datetime(2030, 5, 6, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    assert task.due_at == due and task.version == 2
    customer.refresh_from_db()
    assert customer.next_follow_up_at == due


def test_reassign_to_a_collaborator_and_reword(client, rep, teammate):
    customer = CustomerFactory(owner=rep, collaborators=[teammate])
    contact = ContactFactory(customer=customer)
    task = TaskFactory(customer=customer)
    client.force_login(rep)
    data = _edit_data(task, owner=teammate.pk, content="请同事跟进", priority=3, contact=contact.pk)
    assert client.post(url("task-edit", task), data).status_code == 302
    task.refresh_from_db()
    assert (task.owner, task.content, task.priority, task.contact) == (teammate, "请同事跟进", 3, contact)


def test_owner_choices_are_the_customers_people_or_the_leads_team(
    client, rep, teammate, lead, other_team_rep
):
    task = TaskFactory(customer=CustomerFactory(owner=rep))
    client.force_login(rep)
    assert set(client.get(url("task-edit", task)).context["form"].fields["owner"].queryset) == {rep}
    response = client.post(url("task-edit", task), _edit_data(task, owner=other_team_rep.pk))
    assert response.status_code == 200 and "owner" in response.context["form"].errors
    client.force_login(lead)
    assert set(client.get(url("task-edit", task)).context["form"].fields["owner"].queryset) == {
        rep,
        teammate,
        lead,
    }


def test_a_stale_version_shows_the_error_in_chinese_and_keeps_the_input(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep), content="原来的内容")
    client.force_login(rep)
    data = _edit_data(task, content="我刚输入的内容", due_at="2030-01-02T10:00")
    task_update(actor=rep, task=task, version=1, content="别人改过了")
    response = client.post(url("task-edit", task), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "在您编辑期间，其他人已修改了该任务。请刷新页面查看最新内容。" in page
    assert 'value="我刚输入的内容"' in page and 'value="2030-01-02T10:00"' in page
    task.refresh_from_db()
    assert task.content == "别人改过了" and task.version == 2


def test_editing_a_closed_task_goes_back_with_a_message(client, rep):
    task = TaskFactory(customer=CustomerFactory(owner=rep), status=FollowUpTask.Status.DONE)
    client.force_login(rep)
    response = client.get(url("task-edit", task))
    assert response.status_code == 302 and response["Location"] == url("task-detail", task)
    assert [str(message) for message in get_messages(response.wsgi_request)] == ["该任务已不是未完成状态。"]


# Permissions: out of scope is 404, in scope without the permission is 403


ACTIONS = [("task-done", "post"), ("task-cancel", "post"), ("task-edit", "get"), ("task-edit", "post")]


@pytest.mark.parametrize("name", ["task-detail", "task-done", "task-edit", "task-cancel"])
def test_other_team_rep_gets_404_for_each_task_url(client, other_team_rep, world, name):
    client.force_login(other_team_rep)
    method = client.get if name in ("task-detail", "task-edit") else client.post
    assert method(url(name, world["own"])).status_code == 404
    assert client.post(url("task-edit", world["own"]), {}).status_code == 404
    world["own"].refresh_from_db()
    assert world["own"].status == FollowUpTask.Status.OPEN


def test_rep_gets_404_for_a_teammates_unshared_task(client, rep, world):
    client.force_login(rep)
    assert client.get(url("task-detail", world["teammate"])).status_code == 404


def test_collaborator_lead_and_director_open_the_task(client, rep, lead, director, world):
    for user in (rep, lead, director):
        client.force_login(user)
        assert client.get(url("task-detail", world["shared"])).status_code == 200


@pytest.mark.parametrize(("name", "method"), ACTIONS)
def test_director_who_sees_the_task_gets_403_for_changes(client, director, world, name, method):
    client.force_login(director)
    assert getattr(client, method)(url(name, world["own"])).status_code == 403
    world["own"].refresh_from_db()
    assert world["own"].status == FollowUpTask.Status.OPEN


@pytest.mark.parametrize(("name", "method"), ACTIONS)
def test_agent_who_sees_the_task_gets_403_for_changes(client, agent, name, method):
    task = TaskFactory(customer=CustomerFactory(owner=agent))
    client.force_login(agent)
    assert client.get(url("task-detail", task)).status_code == 200
    assert getattr(client, method)(url(name, task)).status_code == 403
    task.refresh_from_db()
    assert (task.status, task.version) == ("open", 1)


def test_agent_gets_404_for_a_sales_task(client, agent, world):
    client.force_login(agent)
    assert client.get(url("task-detail", world["own"])).status_code == 404


# Query budget


def _count_queries(client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params or {}).status_code == 200
    return len(queries)


def test_list_uses_a_constant_number_of_queries(client, rep, teammate, django_assert_max_num_queries):
    def add(n: int) -> None:
        for index in range(n):
            customer = CustomerFactory(owner=teammate, collaborators=[rep])
            main = TaskFactory(customer=customer, contact=ContactFactory(customer=customer), owner=teammate)
            InteractionFactory(customer=customer, owner=teammate)
            TaskFactory(customer=customer, parent=main, owner=rep, due_at=in_days(-index - 1))

    add(1)
    client.force_login(rep)
    one = _count_queries(client, LIST, EVERYTHING)
    add(29)
    with django_assert_max_num_queries(one):
        response = client.get(LIST, EVERYTHING)
    assert len(response.context["tasks"]) == 25


def test_task_page_uses_a_constant_number_of_queries(client, rep):
    customer = CustomerFactory(owner=rep)
    main = TaskFactory(customer=customer, source_interaction=InteractionFactory(customer=customer))
    TaskFactory(customer=customer, parent=main)
    client.force_login(rep)
    one = _count_queries(client, url("task-detail", main))
    for _ in range(30):
        TaskFactory(customer=customer, parent=main, owner=UserFactory())
        InteractionFactory(customer=customer)
    assert _count_queries(client, url("task-detail", main)) == one


# Export


ZH_HEADERS = [
    "客户编号",
    "客户",
    "联系人",
    "任务内容",
    "任务类型",
    "主任务",
    "负责人",
    "截止时间",
    "优先级",
    "状态",
    "待跟进",
    "来源跟进记录",
    "完成任务的跟进记录",
    "完成时间",
    "创建时间",
]


def _export(client, user, query: str = "", fmt: str = "csv") -> Export:
    client.force_login(user)
    response = client.post(EXPORT, {"query": query, "format": fmt})
    export = Export.objects.filter(user=user).latest("created_at")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:export-detail", args=[export.pk])
    assert export.kind == "tasks"
    assert export_build(export.pk) is True
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    return export


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_has_chinese_headers_and_only_rows_in_scope(client, rep, world, media, fmt):
    late = TaskFactory(customer=world["own"].customer, content="逾期的任务", due_at=in_days(-2))
    export = _export(client, rep, query="owner=&status=&page=2", fmt=fmt)
    rows = export_rows(export)
    assert rows[0] == ZH_HEADERS
    cells = {row[3]: dict(zip(ZH_HEADERS, row, strict=True)) for row in rows[1:]}
    assert set(cells) == {"任务-own", "任务-shared", late.content}
    assert cells[late.content]["待跟进"] == "是" and cells["任务-own"]["待跟进"] == ""
    assert cells["任务-own"]["客户"] == "杭州云帆科技有限公司"
    assert cells["任务-own"]["状态"] == "未完成" and cells["任务-own"]["任务类型"] == "跟进"
    assert cells["任务-own"]["负责人"] == str(rep)


def test_export_without_filters_is_my_open_tasks(client, rep, world, media):
    export = _export(client, rep)
    assert [row[3] for row in export_rows(export)[1:]] == ["任务-own"]


def test_export_is_rebuilt_in_the_requesters_scope(client, other_team_rep, director, world, media):
    export = _export(client, other_team_rep, query="owner=&status=")
    assert [row[3] for row in export_rows(export)[1:]] == ["任务-other"]
    export = _export(client, director, query="owner=&status=")
    assert len(export_rows(export)) == 1 + 4


def test_agent_without_export_permission_gets_403(client, agent):
    client.force_login(agent)
    assert client.post(EXPORT, {"query": "", "format": "csv"}).status_code == 403
    assert not Export.objects.exists()
