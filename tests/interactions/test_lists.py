"""The interaction list (跟进记录): scope, filters, query budget, the detail page and the export."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.exports import export_build
from accounts.models import Export
from customers.models import Customer
from interactions.models import FollowUpTask, Interaction
from tests.factories import customers_listing
from tests.factories.accounts import UserFactory
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.customers_listing import export_rows
from tests.factories.interactions import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

media = customers_listing.media

LIST = reverse("interactions:interaction-list")
EXPORT = reverse("interactions:interaction-export")
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def detail(interaction: Interaction) -> str:
    return reverse("interactions:interaction-detail", args=[interaction.pk])


@pytest.fixture
def world(rep, teammate, lead, other_team_rep):
    """One interaction per situation around ``rep`` (team A), and one in team B."""
    customers = {
        "own": CustomerFactory(owner=rep, name="杭州云帆科技有限公司"),
        "shared": CustomerFactory(owner=teammate, name="苏州共享材料有限公司", collaborators=[rep]),
        "teammate": CustomerFactory(owner=teammate, name="无锡同组机械有限公司"),
        "other": CustomerFactory(owner=other_team_rep, name="广州别组电子有限公司"),
    }
    return {
        key: InteractionFactory(customer=customer, topic=f"话题-{key}") for key, customer in customers.items()
    }


def listed(client, user, **params) -> list[Interaction]:
    client.force_login(user)
    response = client.get(LIST, params)
    assert response.status_code == 200
    return list(response.context["interactions"])


def topics(client, user, **params) -> set[str]:
    return {interaction.topic for interaction in listed(client, user, **params)}


# Scope


def test_rep_sees_own_and_shared_customers_interactions(client, rep, world):
    assert topics(client, rep) == {"话题-own", "话题-shared"}


def test_lead_sees_the_whole_team(client, lead, world):
    assert topics(client, lead) == {"话题-own", "话题-shared", "话题-teammate"}


def test_director_sees_every_team(client, director, world):
    assert topics(client, director) == {"话题-own", "话题-shared", "话题-teammate", "话题-other"}


def test_other_team_rep_sees_only_their_team(client, other_team_rep, world):
    assert topics(client, other_team_rep) == {"话题-other"}


def test_deleted_customers_interactions_are_hidden(client, rep, world):
    Customer.objects.filter(pk=world["own"].customer_id).update(deleted_at=timezone.now())
    assert topics(client, rep) == {"话题-shared"}
    assert client.get(detail(world["own"])).status_code == 404


def test_user_without_view_permission_gets_403(client, db):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    assert client.get(LIST).status_code == 403


def test_list_is_newest_first_and_shows_the_columns_in_chinese(client, rep):
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    contact = ContactFactory(customer=customer, name="王经理")
    now = timezone.now()
    old = InteractionFactory(customer=customer, occurred_at=now - datetime.timedelta(days=3), topic="旧的")
    new = InteractionFactory(
        customer=customer,
        contact=contact,
        occurred_at=now - datetime.timedelta(hours=1),
        topic="报价沟通",
        method=Interaction.Method.WECHAT,
        next_step="发送合同草稿",
    )
    assert listed(client, rep) == [new, old]
    page = client.get(LIST).content.decode()
    assert "<h1" in page and new.number in page
    assert "杭州云帆科技有限公司" in page and customer.get_absolute_url() in page
    assert "王经理" in page and "发送合同草稿" in page and str(rep) in page
    assert "微信" in page  # the method
    assert "跟进人" in page  # "followed up by"
    assert "条跟进记录" in page  # the count


def test_navigation_entry_leads_to_the_task_list(client, rep, agent):
    client.force_login(rep)
    page = client.get(LIST).content.decode()
    assert f'href="{reverse("interactions:task-list")}"' in page
    assert '<i class="bi bi-calendar-check" aria-hidden="true"></i> 跟进</a>' in page
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    assert f'href="{reverse("interactions:task-list")}"' not in client.get(reverse("home")).content.decode()


# Filters


def test_filter_by_owner(client, lead, rep, teammate, world):
    assert topics(client, lead, owner=teammate.pk) == {"话题-shared", "话题-teammate"}
    assert topics(client, lead, owner=rep.pk) == {"话题-own"}


def test_owner_choices_come_from_the_scope(client, rep, teammate, lead, other_team_rep, world):
    """A rep chooses among their own team (never other teams' names); a director among everyone
    who followed up."""
    client.force_login(rep)
    form = client.get(LIST).context["filter"].form
    assert set(form.fields["owner"].queryset) == {rep, teammate, lead}
    assert other_team_rep not in form.fields["owner"].queryset
    # Not a valid choice: the filter is left out (with an error), and nothing outside the scope shows.
    response = client.get(LIST, {"owner": other_team_rep.pk})
    assert "owner" in response.context["filter"].form.errors
    assert {interaction.topic for interaction in response.context["interactions"]} == {
        "话题-own",
        "话题-shared",
    }


def test_filter_by_team_for_leads_and_directors_only(client, director, rep, team_a, team_b, world):
    assert topics(client, director, team=team_b.pk) == {"话题-other"}
    assert topics(client, director, team=team_a.pk) == {"话题-own", "话题-shared", "话题-teammate"}
    client.force_login(rep)
    assert "team" not in client.get(LIST).context["filter"].form.fields


def test_filter_by_method(client, rep):
    customer = CustomerFactory(owner=rep)
    InteractionFactory(customer=customer, method=Interaction.Method.PHONE, topic="电话")
    InteractionFactory(customer=customer, method=Interaction.Method.VISIT, topic="拜访")
    assert topics(client, rep, method="visit") == {"拜访"}


def test_date_range_uses_local_dates(client, rep):
    customer = CustomerFactory(owner=rep)
    # 00:30 on 10 March in Shanghai is still 9 March in UTC.
    InteractionFactory(
        customer=customer,
        occurred_at=datetime.datetime(2026, 3, 10, 0, 30, tzinfo=SHANGHAI),
        topic="十日凌晨",
    )
    InteractionFactory(
        customer=customer,
        occurred_at=datetime.datetime(2026, 3, 9, 23, 50, tzinfo=SHANGHAI),
        topic="九日深夜",
    )
    assert topics(client, rep, occurred_from="2026-03-10", occurred_to="2026-03-10") == {"十日凌晨"}
    assert topics(client, rep, occurred_to="2026-03-09") == {"九日深夜"}
    assert topics(client, rep, occurred_from="2026-03-11") == set()


def test_filter_by_customer_value_class_and_stage(client, rep):
    InteractionFactory(customer=CustomerFactory(owner=rep, value_class="A", stage="intent"), topic="A意向")
    InteractionFactory(customer=CustomerFactory(owner=rep, value_class="A", stage="deal"), topic="A成交")
    InteractionFactory(customer=CustomerFactory(owner=rep, value_class="C", stage="intent"), topic="C意向")
    assert topics(client, rep, value_class="A") == {"A意向", "A成交"}
    assert topics(client, rep, stage="intent") == {"A意向", "C意向"}
    assert topics(client, rep, value_class="A", stage="intent") == {"A意向"}


def test_filter_by_customer_name_or_number(client, rep, world):
    assert topics(client, rep, customer="云帆") == {"话题-own"}
    number = world["shared"].customer.number
    assert topics(client, rep, customer=number.lower()) == {"话题-shared"}
    # Another team's customer is never found.
    assert topics(client, rep, customer="别组") == set()


def test_htmx_filter_gets_the_results_fragment(client, rep, world):
    client.force_login(rep)
    response = client.get(LIST, {"customer": "云帆"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="interaction-results"' in content and "<html" not in content
    assert "话题-own" in content and "话题-shared" not in content
    assert "HX-Request" in response["Vary"]


def test_pagination_keeps_the_filters(client, rep):
    customer = CustomerFactory(owner=rep)
    for _ in range(30):
        InteractionFactory(customer=customer, method=Interaction.Method.VISIT)
    client.force_login(rep)
    response = client.get(LIST, {"method": "visit"})
    assert len(response.context["interactions"]) == 25
    assert "method=visit&amp;page=2" in response.content.decode()
    assert len(client.get(LIST, {"method": "visit", "page": 2}).context["interactions"]) == 5


# Query budget


def _count_queries(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_list_uses_a_constant_number_of_queries(client, rep, teammate, django_assert_max_num_queries):
    def add(n: int) -> None:
        for _ in range(n):
            customer = CustomerFactory(owner=teammate, collaborators=[rep])
            InteractionFactory(customer=customer, contact=ContactFactory(customer=customer), owner=teammate)

    add(1)
    client.force_login(rep)
    one = _count_queries(client, LIST, {"method": "phone"})
    add(29)
    with django_assert_max_num_queries(one):
        response = client.get(LIST, {"method": "phone"})
    assert len(response.context["interactions"]) == 25


# Detail


def test_detail_shows_everything_with_tasks_and_the_customer(client, rep):
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    interaction = InteractionFactory(
        customer=customer,
        contact=ContactFactory(customer=customer, name="王经理"),
        topic="方案沟通",
        summary="客户关心交付周期",
        feedback="价格偏高",
        next_step="申请折扣",
        next_step_due=datetime.date(2026, 5, 1),
        proposal_sent=True,
    )
    TaskFactory(customer=customer, source_interaction=interaction, content="两天内跟进方案反馈")
    TaskFactory(
        customer=customer,
        completed_by_interaction=interaction,
        status=FollowUpTask.Status.DONE,
        content="电话确认需求",
    )
    client.force_login(rep)
    page = client.get(detail(interaction)).content.decode()
    for text in (
        interaction.number,
        "方案沟通",
        "客户关心交付周期",
        "价格偏高",
        "申请折扣",
        "2026-05-01",
        "王经理",
    ):
        assert text in page
    assert "两天内跟进方案反馈" in page and "电话确认需求" in page
    assert customer.get_absolute_url() in page
    assert "跟进人" in page


def test_collaborator_lead_and_director_open_the_detail(client, rep, lead, director, teammate):
    interaction = InteractionFactory(customer=CustomerFactory(owner=teammate, collaborators=[rep]))
    for user in (rep, lead, director):
        client.force_login(user)
        assert client.get(detail(interaction)).status_code == 200


def test_other_team_rep_gets_404_for_interaction_detail(client, other_team_rep, world):
    client.force_login(other_team_rep)
    assert client.get(detail(world["own"])).status_code == 404
    assert client.get(detail(world["other"])).status_code == 200


def test_rep_gets_404_for_a_teammates_unshared_interaction(client, rep, world):
    client.force_login(rep)
    assert client.get(detail(world["teammate"])).status_code == 404


def test_detail_uses_a_constant_number_of_queries(client, rep):
    customer = CustomerFactory(owner=rep)
    interaction = InteractionFactory(customer=customer)
    TaskFactory(customer=customer, source_interaction=interaction)
    client.force_login(rep)
    one = _count_queries(client, detail(interaction))
    for _ in range(30):
        TaskFactory(customer=customer, source_interaction=interaction, owner=UserFactory())
        TaskFactory(
            customer=customer, completed_by_interaction=interaction, status="done", owner=UserFactory()
        )
    assert _count_queries(client, detail(interaction)) == one


# Export


def _export(client, user, django_capture_on_commit_callbacks, query: str = "", fmt: str = "csv") -> Export:
    client.force_login(user)
    response = client.post(EXPORT, {"query": query, "format": fmt})
    export = Export.objects.filter(user=user).latest("created_at")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:export-detail", args=[export.pk])
    assert export.kind == "interactions"
    assert export_build(export.pk) is True
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    return export


ZH_HEADERS = [
    "记录编号",
    "跟进时间",
    "客户编号",
    "客户",
    "联系人",
    "跟进方式",
    "主题",
    "沟通内容",
    "客户反馈/异议",
    "下一步计划",
    "下一步预计完成日期",
    "已发送方案或报价",
    "跟进人",
    "团队",
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_has_chinese_headers_and_only_rows_in_scope(
    client, rep, world, media, django_capture_on_commit_callbacks, fmt
):
    world["own"].next_step = "=HYPERLINK(1)"
    world["own"].save()
    export = _export(client, rep, django_capture_on_commit_callbacks, fmt=fmt)
    rows = export_rows(export)
    assert rows[0] == ZH_HEADERS
    cells = {row[6]: dict(zip(ZH_HEADERS, row, strict=True)) for row in rows[1:]}
    assert set(cells) == {"话题-own", "话题-shared"}
    own = cells["话题-own"]
    assert own["记录编号"] == world["own"].number
    assert own["客户"] == "杭州云帆科技有限公司" and own["跟进方式"] == "电话"
    assert own["跟进人"] == str(rep) and own["团队"] == "华东销售一组"
    assert own["下一步计划"] == "'=HYPERLINK(1)"  # neutralised
    assert export.total == export.processed == 2


def test_export_follows_the_filters(client, lead, rep, world, media, django_capture_on_commit_callbacks):
    export = _export(client, lead, django_capture_on_commit_callbacks, query=f"owner={rep.pk}&page=3")
    assert export.params == {"query": f"owner={rep.pk}"}
    assert [row[6] for row in export_rows(export)[1:]] == ["话题-own"]


def test_export_is_rebuilt_in_the_requesters_scope(
    client, other_team_rep, world, media, django_capture_on_commit_callbacks
):
    export = _export(client, other_team_rep, django_capture_on_commit_callbacks, query="customer=有限公司")
    assert [row[6] for row in export_rows(export)[1:]] == ["话题-other"]


def test_director_exports_every_team(client, director, world, media, django_capture_on_commit_callbacks):
    export = _export(client, director, django_capture_on_commit_callbacks)
    assert len(export_rows(export)) == 1 + 4


def test_agent_without_export_permission_gets_403(client, agent, world):
    client.force_login(agent)
    assert client.post(EXPORT, {"query": "", "format": "csv"}).status_code == 403
    assert not Export.objects.exists()


def test_export_with_a_bad_format_goes_back_to_the_list(client, rep, world):
    client.force_login(rep)
    response = client.post(EXPORT, {"query": "method=visit", "format": "pdf"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?method=visit"
    assert not Export.objects.exists()


def test_export_fails_when_the_view_permission_was_lost(rep, world, media):
    from django.contrib.auth.models import Permission

    export = Export.objects.create(user=rep, kind="interactions", params={"query": ""}, format="csv")
    rep.user_permissions.clear()
    group_permission = Permission.objects.get(codename="view_interaction")
    for group in rep.groups.all():
        group.permissions.remove(group_permission)
    export_build(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
