"""The lead's team page (团队跟进): overdue tasks by rep, reviews, stale customers, reassigning."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, CustomerChange
from interactions.models import CadenceRule, FollowUpTask
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import TaskFactory, overdue_task

pytestmark = pytest.mark.django_db

TEAM = reverse("interactions:team")


def reassign_task_url(task: FollowUpTask) -> str:
    return reverse("interactions:team-task-reassign", args=[task.pk])


def reassign_customer_url(customer: Customer) -> str:
    return reverse("interactions:team-customer-reassign", args=[customer.pk])


def team_page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(TEAM, params)
    assert response.status_code == 200
    return response.content.decode()


def ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


# Who opens it


@pytest.mark.parametrize("persona", ["rep", "teammate", "other_team_rep", "agent"])
def test_reps_and_agents_get_403_for_the_team_page(client, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(TEAM).status_code == 403


def test_lead_sees_the_team_overdue_tasks_grouped_by_rep_with_counts_and_ages(
    client, lead, rep, teammate, other_team_rep
):
    overdue_task(rep, days=3, content="三天前的回访")
    overdue_task(rep, days=1, content="昨天的回访")
    overdue_task(teammate, days=1, content="同事被标记改派的任务", flagged=True)
    overdue_task(other_team_rep, days=5, content="别组的任务")
    TaskFactory(customer=CustomerFactory(owner=rep), content="还没到期")

    page = team_page(client, lead, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "三天前的回访" in page and "昨天的回访" in page and "同事被标记改派的任务" in page
    assert "别组的任务" not in page and "还没到期" not in page
    assert "逾期3天" in page[page.index("三天前的回访") :]
    assert 'data-count="team-overdue">3<' in page
    rep_group = page[page.index(f'id="team-rep-{rep.pk}"') :]
    assert f'data-count="rep-{rep.pk}">2' in rep_group
    # The rep with a task flagged for reassignment comes first, though rep's are older.
    assert page.index(f'id="team-rep-{teammate.pk}"') < page.index(f'id="team-rep-{rep.pk}"')


def test_leads_workbench_links_to_the_team_page_and_a_reps_does_not(client, lead, rep):
    overdue_task(lead, days=1)
    overdue_task(rep, days=1)
    client.force_login(lead)
    assert f'href="{TEAM}"' in client.get(reverse("home")).content.decode()
    client.force_login(rep)
    assert f'href="{TEAM}"' not in client.get(reverse("home")).content.decode()


def test_flagged_tasks_come_first_within_a_rep(client, lead, rep):
    overdue_task(rep, days=9, content="最久的")
    overdue_task(rep, days=2, content="被标记的", flagged=True)
    page = team_page(client, lead)
    assert page.index("被标记的") < page.index("最久的")


def test_director_chooses_a_team_and_a_lead_cannot_open_another(
    client, director, lead, other_lead, rep, other_team_rep
):
    overdue_task(other_team_rep, days=2, content="华南逾期")
    overdue_task(rep, days=2, content="华东逾期")
    page = team_page(client, director, team=other_lead.team_id)
    assert "华南逾期" in page and "华东逾期" not in page
    client.force_login(lead)
    assert client.get(TEAM, {"team": other_lead.team_id}).status_code == 404


def test_profiles_waiting_review_of_the_team_are_shown(client, lead, rep, other_team_rep):
    CustomerFactory(owner=rep, review_status=Customer.ReviewStatus.PENDING)
    CustomerFactory(owner=other_team_rep, review_status=Customer.ReviewStatus.PENDING)
    client.force_login(lead)
    response = client.get(TEAM)
    assert response.context["reviews"].pending == 1
    assert 'id="workbench-reviews-heading"' in response.content.decode()


def test_stale_customers_follow_the_cadence_of_their_value_class(client, lead, rep, other_team_rep):
    # Defaults: A every 7 days, B every 14, C every 30.
    CustomerFactory(owner=rep, name="A类八天没联系", value_class="A", last_contacted_at=ago(8))
    CustomerFactory(owner=rep, name="B类八天没联系", value_class="B", last_contacted_at=ago(8))
    CustomerFactory(owner=rep, name="C类从未联系", value_class="C", created_at=ago(40))
    CustomerFactory(owner=rep, name="C类新客户", value_class="C", created_at=ago(3))
    CustomerFactory(
        owner=rep, name="流失客户", value_class="A", stage=Customer.Stage.LOST, last_contacted_at=ago(60)
    )
    CustomerFactory(owner=other_team_rep, name="别组A类", value_class="A", last_contacted_at=ago(60))

    page = team_page(client, lead)

    stale = page[page.index('id="team-stale"') :]
    assert "A类八天没联系" in stale and "C类从未联系" in stale
    for name in ("B类八天没联系", "C类新客户", "流失客户", "别组A类"):
        assert name not in stale
    assert 'data-count="stale">2<' in stale

    CadenceRule.objects.filter(trigger="value_class", value="B").update(days=5)
    assert "B类八天没联系" in team_page(client, lead)


def test_team_page_query_count_is_constant(client, lead, rep, teammate, django_assert_max_num_queries):
    def fill(count: int) -> None:
        for n in range(count):
            for owner in (rep, teammate):
                overdue_task(owner, days=n + 1, flagged=n % 3 == 0)
                CustomerFactory(owner=owner, value_class="A", last_contacted_at=ago(30 + n))
                CustomerFactory(owner=owner, review_status=Customer.ReviewStatus.PENDING)

    fill(1)
    client.force_login(lead)
    with django_assert_max_num_queries(25) as small:
        client.get(TEAM)
    fill(12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(TEAM).content.decode()
    assert page.count('id="team-task-') == 10  # 5 per rep
    assert page.count('id="team-customer-') == 10


# Reassigning a task


def test_lead_reassigns_a_flagged_task_in_place(client, lead, rep, teammate):
    task = overdue_task(rep, days=8, flagged=True, content="要改派的任务")
    client.force_login(lead)

    response = client.post(
        reassign_task_url(task), {"owner": teammate.pk, "version": task.version}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    task.refresh_from_db()
    assert task.owner == teammate and task.reassign_flagged_at is None and task.version == 2
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<section class="card mb-3" id="team-overdue"')
    assert "要改派的任务" in fragment[fragment.index(f'id="team-rep-{teammate.pk}"') :]


def test_lead_reassigns_a_task_without_javascript(client, lead, rep, teammate):
    task = overdue_task(rep, days=2)
    client.force_login(lead)
    response = client.post(reassign_task_url(task), {"owner": teammate.pk, "version": 1})
    assert response.status_code == 302 and response["Location"] == f"{TEAM}?team={lead.team_id}"
    task.refresh_from_db()
    assert task.owner == teammate


def test_a_task_cannot_go_to_someone_outside_the_team(client, lead, rep, other_team_rep):
    task = overdue_task(rep, days=2)
    client.force_login(lead)
    response = client.post(
        reassign_task_url(task), {"owner": other_team_rep.pk, "version": 1}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    task.refresh_from_db()
    assert task.owner == rep and task.version == 1


def test_a_stale_version_is_refused(client, lead, rep, teammate):
    task = overdue_task(rep, days=2)
    FollowUpTask.objects.filter(pk=task.pk).update(version=3)
    client.force_login(lead)
    client.post(reassign_task_url(task), {"owner": teammate.pk, "version": 1}, HTTP_HX_REQUEST="true")
    task.refresh_from_db()
    assert task.owner == rep and task.version == 3


def test_rep_gets_403_for_reassigning_and_nothing_changes(client, rep, teammate):
    task = overdue_task(rep, days=2)
    client.force_login(rep)
    assert client.post(reassign_task_url(task), {"owner": teammate.pk, "version": 1}).status_code == 403
    task.refresh_from_db()
    assert task.owner == rep and task.version == 1


@pytest.mark.parametrize("persona", ["other_lead", "other_team_rep", "teammate"])
def test_outsiders_get_404_for_reassigning_a_task_and_nothing_changes(
    client, persona, request, rep, teammate
):
    task = overdue_task(rep, days=2)
    client.force_login(request.getfixturevalue(persona))
    assert client.post(reassign_task_url(task), {"owner": teammate.pk, "version": 1}).status_code == 404
    task.refresh_from_db()
    assert task.owner == rep and task.version == 1


# Reassigning a customer


def test_lead_reassigns_a_stale_customer_and_its_open_tasks_follow(client, lead, rep, teammate):
    customer = CustomerFactory(owner=rep, value_class="A", last_contacted_at=ago(20), name="久未联系客户")
    task = overdue_task(rep, days=2, customer=customer)
    client.force_login(lead)

    response = client.post(reassign_customer_url(customer), {"owner": teammate.pk}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    customer.refresh_from_db()
    task.refresh_from_db()
    assert customer.owner == teammate and task.owner == teammate
    assert CustomerChange.objects.filter(customer=customer, action=CustomerChange.Action.TRANSFERRED).exists()
    assert response.content.decode().lstrip().startswith('<section class="card h-100" id="team-stale"')


@pytest.mark.parametrize("persona", ["other_lead", "other_team_rep"])
def test_outsiders_get_404_for_reassigning_a_customer_and_nothing_changes(
    client, persona, request, rep, teammate
):
    customer = CustomerFactory(owner=rep)
    client.force_login(request.getfixturevalue(persona))
    assert client.post(reassign_customer_url(customer), {"owner": teammate.pk}).status_code == 404
    customer.refresh_from_db()
    assert customer.owner == rep and customer.version == 1


def test_rep_gets_403_for_reassigning_a_customer(client, rep, teammate):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    assert client.post(reassign_customer_url(customer), {"owner": teammate.pk}).status_code == 403
    customer.refresh_from_db()
    assert customer.owner == rep


def test_a_customer_cannot_go_to_an_inactive_member(client, lead, rep):
    gone = UserFactory(username="gone", team=lead.team, is_active=False)
    customer = CustomerFactory(owner=rep)
    client.force_login(lead)
    client.post(reassign_customer_url(customer), {"owner": gone.pk}, HTTP_HX_REQUEST="true")
    customer.refresh_from_db()
    assert customer.owner == rep


def test_a_closed_task_cannot_be_reassigned(client, lead, rep, teammate):
    task = overdue_task(rep, days=2, status=FollowUpTask.Status.DONE)
    client.force_login(lead)
    response = client.post(reassign_task_url(task), {"owner": teammate.pk, "version": 1}, follow=True)
    task.refresh_from_db()
    assert task.owner == rep
    assert "该任务已不是未完成状态。" in response.content.decode()  # the flash message
