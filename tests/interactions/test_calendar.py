"""The task calendar: month and week views of one's own tasks, a manager's team, the scope rules
(another team in the URL is a 404), dense days, local day boundaries and the query budget."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from interactions.models import FollowUpTask
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import TaskFactory

pytestmark = pytest.mark.django_db

URL = reverse("interactions:calendar")
DAY = datetime.date(2026, 12, 10)


def at(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def task_for(owner, day: datetime.date = DAY, **fields) -> FollowUpTask:
    customer = fields.pop("customer", None) or CustomerFactory(owner=owner)
    return TaskFactory(customer=customer, owner=owner, due_at=fields.pop("due_at", at(day)), **fields)


def open_calendar(client, user, **params):
    client.force_login(user)
    return client.get(URL, {"date": DAY.isoformat(), **params})


def shown(response) -> dict[datetime.date, list[str]]:
    return {
        cell.date: [t.content for t in cell.tasks]
        for week in response.context["weeks"]
        for cell in week
        if cell.tasks
    }


def test_rep_sees_a_month_grid_of_their_own_tasks_only(client, rep, teammate):
    mine = task_for(rep, content="回访杭州云帆")
    task_for(rep, datetime.date(2026, 12, 31), content="年底回访")
    task_for(teammate, content="同事的任务")
    task_for(rep, datetime.date(2027, 1, 20), content="下个月")

    response = open_calendar(client, rep)

    assert response.status_code == 200
    assert shown(response) == {DAY: ["回访杭州云帆"], datetime.date(2026, 12, 31): ["年底回访"]}
    weeks = response.context["weeks"]
    assert weeks[0][0].date == datetime.date(2026, 11, 30)  # weeks start on Monday
    assert weeks[-1][-1].date == datetime.date(2027, 1, 3)
    content = response.content.decode()
    assert "同事的任务" not in content
    assert f'href="{mine.get_absolute_url()}"' in content
    assert '<th scope="col"' in content


def test_done_cancelled_and_overdue_tasks_are_told_apart(client, rep):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    task_for(rep, yesterday, content="逾期任务")
    task_for(rep, yesterday, content="已完成任务", status=FollowUpTask.Status.DONE)
    task_for(rep, yesterday, content="已取消任务", status=FollowUpTask.Status.CANCELLED)
    client.force_login(rep)

    response = client.get(URL, {"date": yesterday.isoformat(), "view": "week"})

    content = response.content.decode()
    assert content.count("text-decoration-line-through") == 2
    assert content.count("text-danger fw-semibold") == 1
    assert content.count('class="bi bi-check2"') == content.count('class="bi bi-x"') == 1
    assert content.count('class="bi bi-exclamation-circle"') == 1
    assert response.context["weeks"][0][yesterday.weekday()].total == 3


def test_week_view_shows_the_week_of_the_date_with_prev_and_next_links(client, rep):
    task_for(rep, datetime.date(2026, 12, 7), content="周一")
    task_for(rep, datetime.date(2026, 12, 13), content="周日")
    task_for(rep, datetime.date(2026, 12, 14), content="下周一")

    response = open_calendar(client, rep, view="week")

    assert [cell.date for cell in response.context["weeks"][0]] == [
        datetime.date(2026, 12, 7) + datetime.timedelta(days=n) for n in range(7)
    ]
    assert shown(response) == {datetime.date(2026, 12, 7): ["周一"], datetime.date(2026, 12, 13): ["周日"]}
    assert response.context["previous_url"] == f"{URL}?view=week&date=2026-11-30"
    assert response.context["next_url"] == f"{URL}?view=week&date=2026-12-14"
    month = open_calendar(client, rep)
    assert month.context["previous_url"] == f"{URL}?view=month&date=2026-11-01"
    assert month.context["next_url"] == f"{URL}?view=month&date=2027-01-01"


def test_days_follow_the_local_time_zone(client, rep):
    # 00:30 in Shanghai on the 10th is 16:30 UTC on the 9th.
    task_for(rep, due_at=at(DAY, 0, 30), content="凌晨")
    task_for(rep, due_at=at(DAY, 23, 50), content="深夜")

    response = open_calendar(client, rep)

    assert shown(response) == {DAY: ["凌晨", "深夜"]}


def test_a_dense_day_shows_a_few_tasks_and_links_to_the_rest(client, rep):
    for hour in range(8, 14):
        task_for(rep, due_at=at(DAY, hour), content=f"任务{hour}")

    response = open_calendar(client, rep)

    cell = next(c for week in response.context["weeks"] for c in week if c.date == DAY)
    assert [t.content for t in cell.tasks] == ["任务8", "任务9", "任务10"]
    assert (cell.total, cell.more) == (6, 3)
    assert f'href="{escape(cell.list_url)}"' in response.content.decode()
    client.force_login(rep)
    listed = client.get(cell.list_url)
    assert [t.content for t in listed.context["tasks"]] == [f"任务{hour}" for hour in range(8, 14)]


def test_lead_sees_the_team_or_one_member(client, rep, teammate, lead, other_team_rep):
    task_for(rep, content="组员任务")
    task_for(teammate, content="同事任务")
    task_for(lead, content="组长任务")
    task_for(other_team_rep, content="别组任务")

    assert shown(open_calendar(client, lead)) == {DAY: ["组长任务"]}
    assert sorted(shown(open_calendar(client, lead, who="team"))[DAY]) == sorted(
        ["组员任务", "同事任务", "组长任务"]
    )
    assert shown(open_calendar(client, lead, who=f"user:{teammate.pk}")) == {DAY: ["同事任务"]}
    choices = [
        value for _group, options in open_calendar(client, lead).context["subjects"] for value, _ in options
    ]
    assert choices[:2] == ["me", "team"]
    assert sorted(choices[2:]) == sorted([f"user:{rep.pk}", f"user:{teammate.pk}"])


@pytest.mark.parametrize(
    "who", ["user:{other_team_rep}", "team:{team_b}", "user:999999", "team:abc", "nonsense"]
)
def test_lead_gets_404_for_another_team_in_the_url(client, lead, other_team_rep, team_b, who):
    who = who.format(other_team_rep=other_team_rep.pk, team_b=team_b.pk)
    task_for(other_team_rep, content="别组任务")

    assert open_calendar(client, lead, who=who).status_code == 404


@pytest.mark.parametrize("who", ["team", "user:{teammate}", "team:{team_a}", "user:{other_team_rep}"])
def test_rep_gets_404_for_anyone_elses_calendar(client, rep, teammate, other_team_rep, team_a, who):
    who = who.format(teammate=teammate.pk, team_a=team_a.pk, other_team_rep=other_team_rep.pk)

    assert open_calendar(client, rep, who=who).status_code == 404


def test_other_team_rep_gets_404_for_rep_calendar(client, rep, other_team_rep):
    task_for(rep, content="组员任务")

    response = open_calendar(client, other_team_rep, who=f"user:{rep.pk}")

    assert response.status_code == 404


def test_director_and_administrator_pick_any_team_or_user(
    client, director, administrator, rep, other_team_rep, team_b
):
    task_for(rep, content="A组任务")
    task_for(other_team_rep, content="B组任务")

    assert shown(open_calendar(client, director, who=f"team:{team_b.pk}")) == {DAY: ["B组任务"]}
    assert shown(open_calendar(client, administrator, who=f"user:{rep.pk}")) == {DAY: ["A组任务"]}
    choices = {
        value
        for _group, options in open_calendar(client, director).context["subjects"]
        for value, _ in options
    }
    assert {f"team:{team_b.pk}", f"user:{rep.pk}", f"user:{other_team_rep.pk}"} <= choices


def test_anonymous_is_sent_to_login_and_agent_sees_an_empty_calendar(client, agent):
    assert client.get(URL).status_code == 302
    response = open_calendar(client, agent)
    assert response.status_code == 200
    assert shown(response) == {}


def test_a_bad_date_shows_today_with_a_message(client, rep):
    client.force_login(rep)

    response = client.get(URL, {"date": "2026-13-45"})

    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert "2026-13-45" in str(next(iter(get_messages(response.wsgi_request))))


def test_htmx_navigation_gets_the_calendar_fragment(client, rep):
    task_for(rep, content="回访")
    client.force_login(rep)

    response = client.get(URL, {"date": DAY.isoformat()}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="calendar"')
    assert "回访" in content
    assert "HX-Request" in response["Vary"]


def test_the_page_is_in_chinese(client, rep):
    task_for(rep, content="回访")
    client.force_login(rep)

    content = client.get(
        URL, {"date": DAY.isoformat()}, headers={"Accept-Language": "zh-hans"}
    ).content.decode()

    assert "任务日历" in content


@pytest.mark.parametrize("who", ["me", "team"])
def test_query_count_does_not_grow_with_tasks(
    client, lead, rep, teammate, django_assert_max_num_queries, who
):
    client.force_login(lead)

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"date": DAY.isoformat(), "who": who}).status_code == 200
        return len(captured)

    task_for(lead)
    few = count_queries()
    for owner in (lead, rep, teammate):
        for n in range(8):
            task_for(owner, DAY + datetime.timedelta(days=n % 4), status=["open", "done"][n % 2])
    assert count_queries() == few
    with django_assert_max_num_queries(few):
        client.get(URL, {"date": DAY.isoformat(), "who": who, "view": "week"})


def test_the_calendar_only_reads(client, rep):
    task = task_for(rep, content="回访")
    client.force_login(rep)

    assert client.post(URL, {"who": "me"}).status_code == 405
    task.refresh_from_db()
    assert (task.status, task.content) == (FollowUpTask.Status.OPEN, "回访")
