"""The customer page, its history, and the stage, value class and tags managed from it."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, CustomerChange, StageChange
from customers.services.history import record_change
from customers.services.profiles import customer_create, customer_update
from tests.factories.accounts import UserFactory
from tests.factories.customers import AttachmentFactory, ContactFactory, CustomerFactory, TagFactory
from tests.factories.interactions import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def customer(rep):
    return CustomerFactory(
        owner=rep, name="杭州云帆科技有限公司", expected_annual_value=200000, value_class="B"
    )


def url(name: str, customer: Customer) -> str:
    return reverse(f"customers:{name}", args=[customer.pk])


# (URL name, method) of every customer-level URL of the page; contacts and attachments are in
# test_contacts_attachments.py.
PAGE_URLS = [
    ("customer-detail", "get"),
    ("customer-history", "get"),
    ("customer-stage", "post"),
    ("customer-value-class", "get"),
    ("customer-value-class", "post"),
    ("customer-tags", "get"),
    ("customer-tags", "post"),
]
CHANGE_URLS = [
    ("customer-stage", "post"),
    ("customer-tags", "get"),
    ("customer-tags", "post"),
    ("customer-value-class", "get"),
    ("customer-value-class", "post"),
]


@pytest.mark.parametrize(("name", "method"), PAGE_URLS)
def test_other_team_rep_gets_404_for_every_page_url(client, other_team_rep, customer, name, method):
    client.force_login(other_team_rep)
    response = getattr(client, method)(
        url(name, customer), {"stage": "deal", "value_class": "A", "reason": "x"}
    )
    assert response.status_code == 404
    customer.refresh_from_db()
    assert customer.stage == "potential" and customer.value_class == "B"


@pytest.mark.parametrize(("name", "method"), CHANGE_URLS)
@pytest.mark.parametrize("persona", ["director", "agent"])
def test_read_only_roles_get_403_for_changes(client, request, customer, persona, name, method):
    user = request.getfixturevalue(persona)
    customer.collaborators.add(user)  # in the agent's scope (own and shared)
    client.force_login(user)
    assert client.get(url("customer-detail", customer)).status_code == 200
    response = getattr(client, method)(
        url(name, customer), {"stage": "deal", "value_class": "A", "reason": "x"}
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.stage == "potential" and customer.value_class == "B"


def test_detail_page_is_get_only(client, rep, customer):
    client.force_login(rep)
    assert client.post(url("customer-detail", customer)).status_code == 405


def test_owner_sees_the_page_in_chinese_with_everything(client, rep, teammate, customer):
    customer.collaborators.add(teammate)
    ContactFactory(customer=customer, name="王经理", is_primary=True)
    ContactFactory(customer=customer, name="李工")
    tag = TagFactory(name="2024年Q3意向", dimension__name="意向")
    customer.tags.add(tag)
    AttachmentFactory(customer=customer, original_name="需求说明.png", uploaded_by=rep)
    client.force_login(rep)
    page = client.get(url("customer-detail", customer), **ZH).content.decode()
    for text in [
        "杭州云帆科技有限公司",
        customer.number,
        "企业客户",
        "联系人",
        "主联系人",
        "王经理",
        "李工",
        "意向",
        "2024年Q3意向",
        "需求说明.png",
        "附件",
        "负责人",
        str(rep),
        str(teammate),
        "¥200,000",
        "客户资料",
        "协作人",
        "时间线",
    ]:
        assert text in page, text
    # Primary contact first.
    assert page.index("王经理") < page.index("李工")
    # Rep may change, but not merge or override the class.
    assert url("contact-create", customer) in page
    assert url("customer-value-class", customer) not in page


@pytest.mark.parametrize(("persona", "masked"), [("teammate", True), ("rep", False), ("lead", False)])
def test_private_numbers_masked_except_for_owner_and_managers(
    client, request, rep, teammate, persona, masked
):
    customer = customer_create(
        actor=rep,
        kind=Customer.Kind.INDIVIDUAL,
        name="张三",
        gender="male",
        id_card_number="110101199003071234",
        bank_card_number="6222020200112233445",
    )
    customer.collaborators.add(teammate)
    client.force_login(request.getfixturevalue(persona))
    page = client.get(url("customer-detail", customer), **ZH).content.decode()
    assert "身份证号" in page and "个人客户" in page
    if masked:
        assert "110101199003071234" not in page and "6222020200112233445" not in page
        assert "110***********1234" in page and "***************3445" in page
    else:
        assert "110101199003071234" in page and "6222020200112233445" in page


def test_missing_information_and_review_status_are_listed(client, rep):
    customer = customer_create(actor=rep, name="不完整公司", phone="13800138000")
    Customer.objects.filter(pk=customer.pk).update(review_status="returned", review_note="请补充行业和需求")
    client.force_login(rep)
    page = client.get(url("customer-detail", customer), **ZH).content.decode()
    assert "已退回补充" in page and "请补充行业和需求" in page
    assert "所属行业" in page
    assert "missing-information" in page


def test_approved_complete_profile_shows_no_review_box(client, rep, customer):
    ContactFactory(customer=customer, is_primary=True)
    Customer.objects.filter(pk=customer.pk).update(
        needs="ERP", employee_band="10-49", first_contact_date="2026-01-05"
    )
    client.force_login(rep)
    page = client.get(url("customer-detail", customer)).content.decode()
    assert 'id="review"' not in page


def populate(customer: Customer, count: int) -> None:
    """``count`` of everything the page lists."""
    for index in range(count):
        ContactFactory(customer=customer, is_primary=index == 0)
        AttachmentFactory(customer=customer, uploaded_by=UserFactory())
        customer.tags.add(TagFactory())
        customer.collaborators.add(UserFactory())
        record_change(customer=customer, actor=UserFactory(), action="updated", changes={"name": ["a", "b"]})
        StageChange.objects.create(
            customer=customer, from_stage="potential", to_stage="intent", changed_by=UserFactory()
        )
        interaction = InteractionFactory(customer=customer, owner=UserFactory())
        TaskFactory(customer=customer, owner=UserFactory(), source_interaction=interaction)


@pytest.mark.parametrize("count", [1, 30])
def test_customer_page_query_count_does_not_grow(client, django_assert_max_num_queries, rep, count):
    customer = CustomerFactory(owner=rep)
    populate(customer, count)
    client.force_login(rep)
    # Session, user, 2 × permissions, teams led, customer, then one each: collaborators, contacts,
    # tags, their dimensions, attachments, their uploaders, stage changes, who changed them, history;
    # one per query of the other apps' timeline providers (interactions, tasks, opportunity stage
    # changes); the registered customer panels' queries (orders & collections: open opportunities,
    # orders with their totals); and the bell's unread count.
    with django_assert_max_num_queries(15 + 4 + 2 + 3):  # +3: the tickets and purchases panels
        response = client.get(url("customer-detail", customer))
    assert response.status_code == 200
    page = response.content.decode()
    shown = sum(page.count(f'data-kind="{kind}"') for kind in ("history", "interaction", "task"))
    assert shown == min(3 * count, 50)  # the timeline shows the newest 50 of all kinds


@pytest.mark.parametrize("count", [1, 60])
def test_history_page_query_count_does_not_grow(client, django_assert_max_num_queries, rep, count):
    customer = CustomerFactory(owner=rep)
    for _ in range(count):
        record_change(customer=customer, actor=UserFactory(), action="updated", changes={"name": ["a", "b"]})
    client.force_login(rep)
    with django_assert_max_num_queries(8):
        response = client.get(url("customer-history", customer))
    assert response.status_code == 200


def test_history_shows_old_and_new_in_chinese_paginated(client, rep, teammate):
    customer = customer_create(actor=rep, name="老名字", expected_annual_value=50000)
    customer_update(actor=rep, customer=customer, version=1, name="新名字", expected_annual_value=800000)
    for index in range(55):
        record_change(
            customer=customer, actor=rep, action="updated", changes={"city": [f"城{index}", "杭州"]}
        )
    customer.collaborators.add(teammate)
    client.force_login(teammate)  # anyone who sees the customer
    page = client.get(url("customer-history", customer), **ZH).content.decode()
    assert "城54" in page and "城5<" in page and "城4<" not in page
    assert page.count("<del>") == 50
    second = client.get(url("customer-history", customer) + "?page=2", **ZH).content.decode()
    assert "城4<" in second
    for text in ["老名字", "新名字", "价值分类", "C类", "A类", "创建", str(rep)]:
        assert text in second, text


def test_timeline_shows_history_newest_first(client, rep, customer):
    record_change(customer=customer, actor=rep, action="stage", changes={"stage": ["potential", "intent"]})
    later = record_change(customer=customer, actor=rep, action="tags", changes={"tags": ["", "重点"]})
    CustomerChange.objects.filter(pk=later.pk).update(at=timezone.now() + timezone.timedelta(minutes=1))
    client.force_login(rep)
    page = client.get(url("customer-detail", customer), **ZH).content.decode()
    assert "意向客户" in page and "潜在客户 → 意向客户" in page
    assert page.index("重点") < page.index("潜在客户 → 意向客户")


def test_rep_changes_stage_with_a_note(client, rep, customer):
    client.force_login(rep)
    response = client.post(url("customer-stage", customer), {"stage": "intent", "note": "需求已确认"})
    assert response.status_code == 302 and response["Location"] == url("customer-detail", customer)
    customer.refresh_from_db()
    assert customer.stage == "intent" and customer.stage_changed_at is not None
    change = StageChange.objects.get(customer=customer, to_stage="intent")
    assert change.from_stage == "potential" and change.changed_by == rep
    entry = CustomerChange.objects.get(customer=customer, action="stage")
    assert entry.note == "需求已确认" and entry.changes == {"stage": ["potential", "intent"]}
    page = client.get(response["Location"], **ZH).content.decode()
    assert "阶段" in page and "需求已确认" in page


def test_stage_change_over_htmx_returns_the_stage_block(client, rep, customer):
    client.force_login(rep)
    response = client.post(url("customer-stage", customer), {"stage": "lost"}, HTTP_HX_REQUEST="true", **ZH)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="customer-stage"')
    assert "<html" not in body and "流失客户" in body
    assert '<span id="header-stage" hx-swap-oob="true">' in body
    # The timeline follows out of band, starting with this change.
    timeline = body[body.index('id="timeline"') :]
    assert 'hx-swap-oob="true"' in timeline.split(">", 1)[0]
    assert "阶段变更" in timeline and "流失客户" in timeline
    customer.refresh_from_db()
    assert customer.stage == "lost"


def test_unknown_stage_is_refused_and_shown(client, rep, customer):
    client.force_login(rep)
    response = client.post(url("customer-stage", customer), {"stage": "won", "note": "保留"}, **ZH)
    assert response.status_code == 400
    assert "保留" in response.content.decode()
    customer.refresh_from_db()
    assert customer.stage == "potential"
    assert not CustomerChange.objects.filter(customer=customer, action="stage").exists()


def test_lead_overrides_value_class_with_a_reason(client, lead, customer):
    client.force_login(lead)
    form = client.get(url("customer-value-class", customer), **ZH).content.decode()
    assert "价值分类" in form and 'id="computed-class">B<' in form
    response = client.post(
        url("customer-value-class", customer), {"value_class": "A", "reason": "集团战略客户"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.value_class, customer.value_class_overridden, customer.value_class_reason) == (
        "A",
        True,
        "集团战略客户",
    )
    entry = CustomerChange.objects.get(customer=customer, action="value_class")
    assert entry.actor == lead and entry.changes == {"value_class": ["B", "A"]}
    page = client.get(url("customer-detail", customer), **ZH).content.decode()
    assert "集团战略客户" in page


def test_override_needs_a_reason_and_keeps_the_choice(client, lead, customer):
    client.force_login(lead)
    response = client.post(url("customer-value-class", customer), {"value_class": "A", "reason": "  "}, **ZH)
    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r'value="A"[^>]*checked', body) and "手动设定价值分类时必须填写" in body
    customer.refresh_from_db()
    assert customer.value_class == "B" and not customer.value_class_overridden


def test_lead_hands_the_class_back_to_the_expected_value(client, lead, customer):
    Customer.objects.filter(pk=customer.pk).update(
        value_class="A", value_class_overridden=True, value_class_reason="旧原因"
    )
    client.force_login(lead)
    response = client.post(url("customer-value-class", customer), {"value_class": "auto", "reason": ""})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.value_class, customer.value_class_overridden, customer.value_class_reason) == (
        "B",
        False,
        "",
    )


def test_rep_cannot_override_value_class(client, rep, customer):
    client.force_login(rep)
    assert client.get(url("customer-value-class", customer)).status_code == 403
    response = client.post(url("customer-value-class", customer), {"value_class": "A", "reason": "我想"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert not customer.value_class_overridden


def test_other_lead_cannot_override_another_teams_customer(client, other_lead, customer):
    client.force_login(other_lead)
    response = client.post(url("customer-value-class", customer), {"value_class": "A", "reason": "x"})
    assert response.status_code == 404
    customer.refresh_from_db()
    assert not customer.value_class_overridden


def test_lead_of_another_team_sharing_the_customer_sees_it_but_cannot_manage_it(client, other_lead, customer):
    customer.collaborators.add(other_lead)
    client.force_login(other_lead)
    page = client.get(url("customer-detail", customer)).content.decode()
    assert url("customer-value-class", customer) not in page
    assert f'"/customers/{customer.pk}/transfer/"' not in page
    response = client.post(url("customer-value-class", customer), {"value_class": "A", "reason": "x"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert not customer.value_class_overridden


def test_rep_sets_tags_grouped_by_dimension(client, rep, customer):
    urgent = TagFactory(name="紧急", dimension__name="紧急程度")
    intent = TagFactory(name="2024年Q3意向", dimension__name="意向")
    retired = TagFactory(name="旧标签", active=False)
    old = TagFactory(name="要去掉的", dimension=intent.dimension)
    customer.tags.set([retired, old])
    client.force_login(rep)
    form = client.get(url("customer-tags", customer), **ZH).content.decode()
    assert "紧急程度" in form and "2024年Q3意向" in form and "旧标签" not in form
    response = client.post(
        url("customer-tags", customer),
        {f"dimension_{urgent.dimension_id}": [urgent.pk], f"dimension_{intent.dimension_id}": [intent.pk]},
    )
    assert response.status_code == 302
    assert set(customer.tags.all()) == {urgent, intent, retired}
    entry = CustomerChange.objects.get(customer=customer, action="tags")
    assert "紧急" in entry.changes["tags"][1] and "要去掉的" in entry.changes["tags"][0]


def test_tags_form_refuses_an_unknown_tag(client, rep, customer):
    tag = TagFactory()
    client.force_login(rep)
    response = client.post(url("customer-tags", customer), {f"dimension_{tag.dimension_id}": [999999]})
    assert response.status_code == 200
    assert not customer.tags.exists()


def test_merged_customer_redirects_to_the_survivor(client, rep, customer):
    merged = CustomerFactory(owner=rep, merged_into=customer, deleted_at=timezone.now())
    client.force_login(rep)
    response = client.get(url("customer-detail", merged))
    assert response.status_code == 302 and response["Location"] == url("customer-detail", customer)
    history = client.get(url("customer-history", merged))
    assert history.status_code == 302 and history["Location"] == url("customer-history", customer)


def test_merged_customer_outside_scope_is_404(client, other_team_rep, rep, customer):
    merged = CustomerFactory(owner=rep, merged_into=customer, deleted_at=timezone.now())
    client.force_login(other_team_rep)
    assert client.get(url("customer-detail", merged)).status_code == 404


def test_deleted_customer_is_404(client, rep):
    deleted = CustomerFactory(owner=rep, deleted_at=timezone.now())
    client.force_login(rep)
    assert client.get(url("customer-detail", deleted)).status_code == 404


MANAGER_ACTIONS = ["transfer", "merge", "delete", "personal-data", "review"]


def test_manager_sees_every_action_and_rep_only_edit(client, lead, rep, customer):
    Customer.objects.filter(pk=customer.pk).update(review_status="pending")
    client.force_login(lead)
    page = client.get(url("customer-detail", customer), **ZH).content.decode()
    for action in ["edit", *MANAGER_ACTIONS]:
        assert f'"/customers/{customer.pk}/{action}/"' in page, action
    assert 'name="decision" value="approve"' in page and "建档审核" in page
    client.force_login(rep)
    page = client.get(url("customer-detail", customer)).content.decode()
    assert f'"/customers/{customer.pk}/edit/"' in page
    for action in MANAGER_ACTIONS:
        assert f'"/customers/{customer.pk}/{action}/"' not in page, action


def test_actions_follow_permissions(client, lead, director, customer):
    client.force_login(lead)
    page = client.get(url("customer-detail", customer)).content.decode()
    assert url("customer-value-class", customer) in page and url("customer-stage", customer) in page
    client.force_login(director)
    page = client.get(url("customer-detail", customer)).content.decode()
    assert url("customer-stage", customer) not in page and url("contact-create", customer) not in page
    assert url("customer-history", customer) in page


def test_page_reads_in_english_for_an_english_user(client, rep, customer):
    rep.language = "en"
    rep.save(update_fields=["language"])
    ContactFactory(customer=customer, name="王经理", is_primary=True)
    client.force_login(rep)
    page = client.get(url("customer-detail", customer)).content.decode()
    for text in ["Contacts", "Primary contact", "Lifecycle stage", "Potential", "Enterprise", "Timeline"]:
        assert text in page, text
    assert "联系人" not in page


def test_amounts_are_grouped_by_thousands_in_chinese_too(client, rep):
    from decimal import Decimal

    from accounts.templatetags.crm import yuan

    assert yuan(Decimal("650000")) == "¥650,000"
    assert yuan(Decimal("1234.5")) == "¥1,234.50"
    assert yuan(None) == ""
    customer = CustomerFactory(owner=rep, expected_annual_value=Decimal("1200000"))
    client.force_login(rep)
    page = client.get(customer.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "¥1,200,000" in page


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("650000"), "CNY", "¥650,000"),
        (Decimal("1240496.75"), "CNY", "¥1,240,496.75"),
        (Decimal("74477"), "EUR", "74,477.00 EUR"),
        (None, "USD", ""),
    ],
)
def test_money_groups_thousands_in_its_currency(amount, currency, shown):
    from accounts.templatetags.crm import money

    assert money(amount, currency) == shown
