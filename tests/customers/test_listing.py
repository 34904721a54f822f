"""The customer list: scope, search, filters, sorting, pagination, query budget and bulk actions."""

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import Export
from customers.models import Customer, CustomerChange, Industry, Source
from tests.factories import customers_listing
from tests.factories.accounts import UserFactory
from tests.factories.customers import ContactFactory, CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

media = customers_listing.media

LIST = reverse("customers:customer-list")
BULK = reverse("customers:customer-bulk")


@pytest.fixture
def customers(rep, teammate, lead, other_team_rep):
    """One customer per situation around ``rep`` (team A) and one in team B."""
    return {
        "own": CustomerFactory(owner=rep, name="杭州云帆科技有限公司"),
        "shared": CustomerFactory(owner=teammate, name="苏州共享材料有限公司", collaborators=[rep]),
        "teammate": CustomerFactory(owner=teammate, name="无锡同组机械有限公司"),
        "lead": CustomerFactory(owner=lead, name="上海经理贸易有限公司"),
        "other": CustomerFactory(owner=other_team_rep, name="广州别组电子有限公司"),
    }


def listed(client, user, **params) -> list[Customer]:
    client.force_login(user)
    response = client.get(LIST, params)
    assert response.status_code == 200
    return list(response.context["customers"])


def names(client, user, **params) -> set[str]:
    return {customer.name for customer in listed(client, user, **params)}


# Scope


def test_rep_sees_own_and_shared_customers_only(client, rep, customers):
    assert names(client, rep) == {customers["own"].name, customers["shared"].name}


def test_lead_sees_the_whole_team(client, lead, customers):
    assert names(client, lead) == {customers[key].name for key in ("own", "shared", "teammate", "lead")}


def test_director_sees_every_team(client, director, customers):
    assert names(client, director) == {customer.name for customer in customers.values()}


def test_agent_sees_only_own_customers(client, agent, customers):
    mine = CustomerFactory(owner=agent, name="客服自己的客户")
    assert names(client, agent) == {mine.name}


def test_other_team_rep_never_sees_team_a_in_list_or_search(client, other_team_rep, customers):
    assert names(client, other_team_rep) == {customers["other"].name}
    assert names(client, other_team_rep, q="云帆") == set()
    assert names(client, other_team_rep, q=customers["own"].number) == set()
    page = client.get(LIST, {"q": "有限公司"}).content.decode()
    assert customers["own"].name not in page


def test_deleted_and_merged_customers_are_not_listed(client, rep, customers):
    Customer.objects.filter(pk=customers["own"].pk).update(deleted_at=timezone.now())
    assert names(client, rep) == {customers["shared"].name}


def test_user_without_view_permission_gets_403(client, db):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    assert client.get(LIST).status_code == 403


def test_list_page_shows_columns_badges_and_navigation_in_chinese(client, rep):
    customer = CustomerFactory(
        owner=rep,
        name="杭州云帆科技有限公司",
        stage=Customer.Stage.INTENT,
        value_class="A",
        province="浙江",
        city="杭州",
    )
    ContactFactory(customer=customer, name="王经理", phone="13912345678", is_primary=True)
    client.force_login(rep)
    page = client.get(LIST).content.decode()
    assert "<h1" in page and "客户" in page
    assert customer.number in page
    assert "王经理" in page and "13912345678" in page
    assert "意向客户" in page  # stage badge
    assert "企业客户" in page  # kind
    assert "浙江 杭州" in page
    assert str(rep) in page
    assert f'href="{LIST}"' in page  # the navigation entry


def test_navigation_entry_is_hidden_from_users_without_view_permission(client, db):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    assert f'href="{LIST}"' not in client.get(reverse("home")).content.decode()


# Search


def test_search_by_chinese_fragment(client, rep, customers):
    assert names(client, rep, q="云帆") == {customers["own"].name}


def test_search_by_number_and_english_case_insensitive(client, rep):
    customer = CustomerFactory(owner=rep, name="Acme Trading Co., Ltd.", email="Sales@Acme.example")
    CustomerFactory(owner=rep, name="别的公司")
    assert names(client, rep, q="ACME trading") == {customer.name}
    assert names(client, rep, q=customer.number.lower()) == {customer.name}
    assert names(client, rep, q="SALES@acme.EXAMPLE") == {customer.name}


@pytest.mark.parametrize("query", ["+86 138 0013 8000", "138-0013-8000", "0086 13800138000", "0013 8000"])
def test_search_by_phone_ignores_country_code_and_spaces(client, rep, query):
    customer = CustomerFactory(owner=rep, name="电话客户", phone="13800138000")
    CustomerFactory(owner=rep, name="别的客户", phone="13911112222")
    assert names(client, rep, q=query) == {customer.name}


def test_search_by_contact_name_and_contact_phone(client, rep):
    customer = CustomerFactory(owner=rep, name="联系人客户", phone="")
    ContactFactory(customer=customer, name="欧阳娜娜", phone="+86 137 0000 1111")
    CustomerFactory(owner=rep, name="别的客户")
    assert names(client, rep, q="欧阳") == {customer.name}
    assert names(client, rep, q="13700001111") == {customer.name}


# Filters


def test_filter_by_kind_value_class_and_several_stages(client, rep):
    person = CustomerFactory(owner=rep, name="个人A", kind="individual", value_class="A", stage="deal")
    CustomerFactory(owner=rep, name="企业A", kind="enterprise", value_class="A", stage="deal")
    intent = CustomerFactory(owner=rep, name="企业B意向", value_class="B", stage="intent")
    CustomerFactory(owner=rep, name="企业C流失", value_class="C", stage="lost")
    assert names(client, rep, kind="individual") == {person.name}
    assert names(client, rep, value_class="B") == {intent.name}
    assert names(client, rep, stage=["intent", "deal"]) == {"个人A", "企业A", "企业B意向"}


def test_filter_by_owner_and_owner_choices_come_from_scope(
    client, lead, rep, teammate, other_team_rep, customers
):
    assert names(client, lead, owner=teammate.pk) == {customers["shared"].name, customers["teammate"].name}
    client.force_login(rep)
    response = client.get(LIST)
    owner_choices = set(response.context["filter"].form.fields["owner"].queryset)
    assert owner_choices == {rep, teammate}  # teammate owns the customer shared with rep
    assert other_team_rep not in owner_choices
    assert names(client, rep, owner=other_team_rep.pk) == {customers["own"].name, customers["shared"].name}


def test_team_filter_for_director_and_not_for_rep(client, director, rep, team_b, customers):
    assert names(client, director, team=team_b.pk) == {customers["other"].name}
    client.force_login(rep)
    assert "team" not in client.get(LIST).context["filter"].form.fields


def test_filter_by_source_industry_region_province_city(client, rep):
    source = Source.objects.order_by("order").last()
    industry = Industry.objects.order_by("order").last()
    hit = CustomerFactory(
        owner=rep,
        name="命中",
        source=source,
        industry=industry,
        region="domestic",
        province="浙江",
        city="宁波",
    )
    CustomerFactory(owner=rep, name="海外", region="overseas", province="", city="")
    CustomerFactory(owner=rep, name="杭州的", province="浙江", city="杭州")
    assert names(client, rep, source=source.pk) == {hit.name}
    assert names(client, rep, industry=industry.pk) == {hit.name}
    assert names(client, rep, region="overseas") == {"海外"}
    assert names(client, rep, province="浙江") == {"命中", "杭州的"}
    assert names(client, rep, province="浙江", city="宁波") == {hit.name}


def test_tags_and_needs_every_tag_or_any_tag(client, rep):
    urgent, q3 = TagFactory(name="紧急"), TagFactory(name="2024年Q3意向")
    both = CustomerFactory(owner=rep, name="两个都有", tags=[urgent, q3])
    CustomerFactory(owner=rep, name="只有紧急", tags=[urgent])
    CustomerFactory(owner=rep, name="只有Q3", tags=[q3])
    CustomerFactory(owner=rep, name="没有标签")
    assert names(client, rep, tags=[urgent.pk, q3.pk], tag_mode="and") == {both.name}
    assert names(client, rep, tags=[urgent.pk, q3.pk], tag_mode="or") == {"两个都有", "只有紧急", "只有Q3"}
    assert names(client, rep, tags=[urgent.pk]) == {"两个都有", "只有紧急"}
    # OR lists a customer having both tags once.
    assert len(listed(client, rep, tags=[urgent.pk, q3.pk], tag_mode="or")) == 3


def test_filter_by_created_and_first_contact_ranges(client, rep):
    now = timezone.now()
    old = CustomerFactory(
        owner=rep, name="去年", created_at=now - timedelta(days=400), first_contact_date=date(2024, 3, 1)
    )
    recent = CustomerFactory(
        owner=rep, name="最近", created_at=now - timedelta(days=2), first_contact_date=date(2025, 6, 1)
    )
    today = timezone.localdate()
    assert names(client, rep, created_from=str(today - timedelta(days=7))) == {recent.name}
    assert names(client, rep, created_to=str(today - timedelta(days=30))) == {old.name}
    assert names(
        client, rep, created_from=str(today - timedelta(days=2)), created_to=str(today - timedelta(days=2))
    ) == {recent.name}
    assert names(client, rep, first_contact_from="2025-01-01") == {recent.name}
    assert names(client, rep, first_contact_to="2024-12-31") == {old.name}


def test_filter_without_next_step_skips_lost_customers(client, rep):
    CustomerFactory(owner=rep, name="有计划", next_follow_up_at=timezone.now() + timedelta(days=1))
    idle = CustomerFactory(owner=rep, name="没计划")
    CustomerFactory(owner=rep, name="已流失", stage="lost")
    assert names(client, rep, no_next_step="on") == {idle.name}


def test_filter_by_review_status(client, rep):
    waiting = CustomerFactory(owner=rep, name="待审", review_status="pending")
    CustomerFactory(owner=rep, name="已过", review_status="approved")
    assert names(client, rep, review_status="pending") == {waiting.name}


def test_invalid_filter_value_shows_an_error_and_keeps_the_rest(client, rep):
    CustomerFactory(owner=rep, name="个人", kind="individual")
    CustomerFactory(owner=rep, name="企业")
    client.force_login(rep)
    response = client.get(LIST, {"kind": "individual", "created_from": "不是日期"})
    assert {customer.name for customer in response.context["customers"]} == {"个人"}
    assert "不是日期" in response.content.decode()


# Sorting and pagination


def test_sort_by_name_value_and_default_newest_first(client, rep):
    now = timezone.now()
    b = CustomerFactory(
        owner=rep, name="B公司", expected_annual_value=300, created_at=now - timedelta(days=1)
    )
    a = CustomerFactory(
        owner=rep, name="A公司", expected_annual_value=100, created_at=now - timedelta(days=3)
    )
    c = CustomerFactory(
        owner=rep, name="C公司", expected_annual_value=200, created_at=now - timedelta(days=2)
    )
    assert listed(client, rep) == [b, c, a]
    assert listed(client, rep, o="name") == [a, b, c]
    assert listed(client, rep, o="-name") == [c, b, a]
    assert listed(client, rep, o="-value") == [b, c, a]
    assert listed(client, rep, o="created") == [a, c, b]
    assert listed(client, rep, o="number") == sorted([a, b, c], key=lambda customer: customer.number)


def test_column_header_reverses_the_current_sort(client, rep):
    CustomerFactory(owner=rep)
    client.force_login(rep)
    page = client.get(LIST, {"o": "name", "kind": "enterprise"}).content.decode()
    assert 'href="/customers/?o=-name&amp;kind=enterprise"' in page
    assert 'aria-sort="ascending"' in page


def test_pagination_keeps_the_filters(client, rep):
    for n in range(30):
        CustomerFactory(owner=rep, name=f"企业{n:02d}")
    CustomerFactory(owner=rep, name="个人", kind="individual")
    client.force_login(rep)
    first = client.get(LIST, {"kind": "enterprise"})
    assert len(first.context["customers"]) == 25
    assert "?kind=enterprise&amp;page=2" in first.content.decode()
    second = client.get(LIST, {"kind": "enterprise", "page": 2})
    assert len(second.context["customers"]) == 5
    assert all(customer.kind == "enterprise" for customer in second.context["customers"])
    assert len(client.get(LIST, {"per_page": 50}).context["customers"]) == 31
    assert len(client.get(LIST, {"per_page": 7}).context["customers"]) == 25  # only 25/50/100


def test_htmx_request_gets_the_results_fragment(client, rep, customers):
    client.force_login(rep)
    response = client.get(LIST, {"q": "云帆"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert 'id="customer-results"' in body and "<html" not in body
    assert customers["own"].name in body and customers["shared"].name not in body


@pytest.mark.parametrize("rows", [1, 50])
def test_query_count_does_not_grow_with_rows(client, lead, rep, rows, django_assert_max_num_queries):
    tags = [TagFactory(name="紧急"), TagFactory(name="重点")]
    for n in range(rows):
        customer = CustomerFactory(owner=rep if n % 2 else lead, tags=tags, collaborators=[lead])
        ContactFactory(customer=customer, is_primary=True)
        ContactFactory(customer=customer)
    client.force_login(lead)
    client.get(LIST)  # warm the session and the permission cache
    with django_assert_max_num_queries(18):
        response = client.get(LIST, {"per_page": 50, "o": "name"})
    assert len(response.context["customers"]) == rows
    assert all(len(customer.primary_contacts) == 1 for customer in response.context["customers"])


# Bulk actions


def _ids(*customers: Customer) -> list[int]:
    return [customer.pk for customer in customers]


def test_lead_transfers_customers_in_bulk_and_history_records_it(client, lead, rep, teammate, customers):
    client.force_login(lead)
    response = client.post(
        BULK,
        {
            "action": "assign_owner",
            "ids": _ids(customers["own"], customers["teammate"]),
            "owner": teammate.pk,
            "note": "客户重新分配",
            "query": "kind=enterprise&page=3",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?kind=enterprise"
    customers["own"].refresh_from_db()
    assert customers["own"].owner == teammate
    assert customers["own"].team_id == teammate.team_id
    entry = CustomerChange.objects.get(customer=customers["own"], action=CustomerChange.Action.TRANSFERRED)
    assert entry.actor == lead and entry.note == "客户重新分配"
    assert not CustomerChange.objects.filter(customer=customers["teammate"], action="transferred").exists()
    message = str(next(iter(get_messages(response.wsgi_request))))
    assert "1" in message and str(teammate) in message


def test_rep_may_not_assign_owners(client, rep, teammate, customers):
    client.force_login(rep)
    response = client.post(
        BULK, {"action": "assign_owner", "ids": _ids(customers["own"]), "owner": teammate.pk}
    )
    assert response.status_code == 403
    customers["own"].refresh_from_db()
    assert customers["own"].owner == rep


def test_lead_cannot_hand_customers_to_another_teams_rep(client, lead, other_team_rep, customers):
    client.force_login(lead)
    response = client.post(
        BULK, {"action": "assign_owner", "ids": _ids(customers["own"]), "owner": other_team_rep.pk}
    )
    assert response.status_code == 200  # the list again, with the error and the selection kept
    assert "bulk_owner" in response.content.decode()
    assert response.context["bulk_form"].errors["owner"]
    assert customers["own"].pk in response.context["selected"]
    customers["own"].refresh_from_db()
    assert customers["own"].owner != other_team_rep


def test_lead_bulk_transfer_leaves_out_another_teams_customer_they_only_collaborate_on(
    client, lead, rep, teammate, other_team_rep
):
    mine = CustomerFactory(owner=rep)
    shared = CustomerFactory(owner=other_team_rep, collaborators=[lead])
    client.force_login(lead)
    response = client.post(BULK, {"action": "assign_owner", "ids": _ids(mine, shared), "owner": teammate.pk})
    assert response.status_code == 302
    mine.refresh_from_db()
    shared.refresh_from_db()
    assert mine.owner == teammate
    assert shared.owner == other_team_rep
    notes = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("未转移" in note for note in notes), notes


def test_service_agents_cannot_receive_customers_from_a_director(director, agent, rep):
    from customers.selectors import customer_transfer_targets

    assert rep in customer_transfer_targets(director)
    assert agent not in customer_transfer_targets(director)


def test_director_transfer_targets_are_every_active_user(client, director, rep, other_team_rep):
    from customers.selectors import customer_transfer_targets

    UserFactory(username="gone", is_active=False)
    targets = set(customer_transfer_targets(director))
    assert {rep, other_team_rep} <= targets
    assert all(user.is_active for user in targets)
    assert not customer_transfer_targets(rep).exists()


def test_bulk_add_and_remove_tag_with_counts_and_history(client, rep, customers):
    tag = TagFactory(name="重点客户")
    customers["shared"].tags.add(tag)
    client.force_login(rep)
    response = client.post(
        BULK, {"action": "add_tag", "ids": _ids(customers["own"], customers["shared"]), "tag": tag.pk}
    )
    assert response.status_code == 302
    assert set(tag.customers.all()) == {customers["own"], customers["shared"]}
    assert "1" in str(next(iter(get_messages(response.wsgi_request))))
    assert CustomerChange.objects.filter(customer=customers["own"], action="tags").exists()
    client.post(
        BULK, {"action": "remove_tag", "ids": _ids(customers["own"], customers["shared"]), "tag": tag.pk}
    )
    assert not tag.customers.exists()


def test_bulk_without_selection_or_tag_shows_errors(client, rep, customers):
    client.force_login(rep)
    response = client.post(BULK, {"action": "add_tag", "query": "kind=enterprise"})
    assert response.status_code == 200
    form = response.context["bulk_form"]
    assert form.errors["ids"] and form.errors["tag"]
    page = response.content.decode()
    assert "请至少选择一个客户。" in page and "请选择标签。" in page
    assert 'name="query" value="kind=enterprise"' in page


def test_other_team_rep_gets_404_for_bulk_on_team_a(client, other_team_rep, customers):
    tag = TagFactory()
    client.force_login(other_team_rep)
    response = client.post(BULK, {"action": "add_tag", "ids": _ids(customers["own"]), "tag": tag.pk})
    assert response.status_code == 404
    assert not tag.customers.exists()


def test_bulk_ignores_ids_outside_scope(client, rep, customers):
    tag = TagFactory()
    client.force_login(rep)
    client.post(BULK, {"action": "add_tag", "ids": _ids(customers["own"], customers["other"]), "tag": tag.pk})
    assert set(tag.customers.all()) == {customers["own"]}


def test_agent_may_not_tag_in_bulk(client, agent):
    mine = CustomerFactory(owner=agent)
    tag = TagFactory()
    client.force_login(agent)
    assert client.post(BULK, {"action": "add_tag", "ids": _ids(mine), "tag": tag.pk}).status_code == 403
    assert not tag.customers.exists()


def test_bulk_needs_post(client, rep):
    client.force_login(rep)
    assert client.get(BULK).status_code == 405


def test_bulk_export_selected_creates_an_export_of_those_rows(client, rep, customers, media):
    client.force_login(rep)
    response = client.post(BULK, {"action": "export_csv", "ids": _ids(customers["own"], customers["other"])})
    export = Export.objects.get()
    assert response["Location"] == reverse("accounts:export-detail", args=[export.pk])
    assert export.params == {"ids": [customers["own"].pk]}
    assert export.format == "csv" and export.user == rep


def test_agent_may_not_export_selected(client, agent):
    mine = CustomerFactory(owner=agent)
    client.force_login(agent)
    assert client.post(BULK, {"action": "export_xlsx", "ids": _ids(mine)}).status_code == 403
    assert not Export.objects.exists()


# Each filter and sort of the list, with the column it reads (search uses the trigram index of
# migration 0004, tags the indexed columns of the through table).
FILTER_COLUMNS = {
    "kind": "kind",
    "value_class": "value_class",
    "stage": "stage",
    "owner": "owner_id",
    "team": "team_id",
    "source": "source_id",
    "industry": "industry_id",
    "region": "region",
    "province": "province",
    "city": "city",
    "created_from": "created_at",
    "created_to": "created_at",
    "first_contact_from": "first_contact_date",
    "first_contact_to": "first_contact_date",
    "no_next_step": "next_follow_up_at",
    "review_status": "review_status",
}


def test_every_filter_and_sort_of_the_list_is_backed_by_an_index():
    from customers.filters import SORT_FIELDS, CustomerFilter

    leading = {field.column for field in Customer._meta.fields if field.db_index or field.unique}
    for index in Customer._meta.indexes:
        if not index.fields:  # an expression index (birthdays by month and day) leads no column
            continue
        first = index.fields[0].lstrip("-")
        leading.add(Customer._meta.get_field(first).column)
    declared = set(CustomerFilter.base_filters) - {"q", "tags", "tag_mode", "o"}
    assert declared == set(FILTER_COLUMNS), "map the new filter to its column above"
    for name, column in FILTER_COLUMNS.items():
        assert column in leading, f"the filter {name} reads {column}, which no index leads with"
    for name, field in SORT_FIELDS.items():
        assert Customer._meta.get_field(field).column in leading, f"the sort {name} has no index"
