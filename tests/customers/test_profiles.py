"""The customer create and edit form: fields by kind, contacts, attachments, locking, access."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from customers.models import Attachment, Contact, Customer, CustomerChange
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory, TagDimensionFactory, TagFactory
from tests.factories.customers_profiles import (
    CREATE_URL,
    PNG,
    VALID_ID_CARD,
    edit_payload,
    edit_url,
    enterprise_payload,
    individual_payload,
)

pytestmark = pytest.mark.django_db


def created(name: str) -> Customer:
    return Customer.objects.get(name=name)


# Create ---------------------------------------------------------------------------------------


def test_rep_creates_an_enterprise_customer_with_contacts_tags_and_attachment(client, rep, teammate):
    tag = TagFactory(name="ERP")
    client.force_login(rep)
    payload = enterprise_payload(
        tags=[str(tag.pk)],
        collaborators=[str(teammate.pk)],
        **{
            "contacts-1-name": "李工",
            "contacts-1-phone": "021-5555 0001",
            "attachments-files": SimpleUploadedFile("名片.png", PNG, content_type="image/png"),
        },
    )
    response = client.post(CREATE_URL, payload)

    customer = created("杭州云帆科技有限公司")
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert customer.owner == rep and customer.team == rep.team and customer.created_by == rep
    assert customer.kind == "enterprise" and customer.employee_band == "50-199"
    assert customer.value_class == "A" and customer.stage == "intent"
    assert customer.phone_key == "057188881234"
    assert list(customer.tags.all()) == [tag]
    assert list(customer.collaborators.all()) == [teammate]
    contacts = list(customer.contacts.order_by("-is_primary", "pk"))
    assert [(c.name, c.is_primary) for c in contacts] == [("王经理", True), ("李工", False)]
    assert contacts[0].phone_key == "13800138000"
    attachment = Attachment.objects.get(customer=customer)
    assert attachment.original_name == "名片.png" and attachment.content_type == "image/png"
    assert attachment.category == "business_card" and attachment.uploaded_by == rep
    actions = set(CustomerChange.objects.filter(customer=customer).values_list("action", flat=True))
    assert {"created", "tags", "contact", "attachment"} <= actions


def test_success_message_names_the_number_and_the_missing_review_fields(client, rep):
    client.force_login(rep)
    payload = enterprise_payload(industry="", needs="", first_contact_date="")
    response = client.post(CREATE_URL, payload, follow=False)
    customer = created("杭州云帆科技有限公司")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert len(messages) == 1
    assert customer.number in messages[0]
    for label in ("行业", "需求描述", "首次接触时间"):
        assert label in messages[0]
    assert "24" in messages[0]


def test_rep_lands_on_the_customer_page_with_the_message(client, rep):
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload(), follow=True)
    customer = created("杭州云帆科技有限公司")
    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    content = response.content.decode()
    assert response.status_code == 200 and "杭州云帆科技有限公司" in content
    assert "alert-success" in content and customer.number in content


def test_complete_profile_message_asks_for_nothing(client, rep, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload(), HTTP_ACCEPT_LANGUAGE="en")
    customer = created("杭州云帆科技有限公司")
    (message,) = [str(m) for m in response.wsgi_request._messages]
    assert message == f"Customer {customer.number} was created."


def test_rep_creates_an_individual_and_enterprise_fields_are_dropped(client, rep):
    client.force_login(rep)
    payload = individual_payload(website="https://typed-by-mistake.example", employee_band="1-9")
    response = client.post(CREATE_URL, payload)
    assert response.status_code == 302
    customer = created("张三")
    assert customer.kind == "individual" and customer.gender == "male" and customer.occupation == "工程师"
    assert customer.birthday == datetime.date(1985, 6, 1)
    assert customer.website == "" and customer.employee_band == "" and customer.industry is None
    assert customer.id_card_number == VALID_ID_CARD  # upper-cased X, stored encrypted
    assert customer.bank_card_number == "6222020000001234567"
    assert customer.value_class == "C"
    assert not customer.contacts.exists()


def test_individual_fields_are_ignored_for_an_enterprise_even_when_invalid(client, rep):
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload(id_card_number="123", gender="female"))
    assert response.status_code == 302
    customer = created("杭州云帆科技有限公司")
    assert customer.gender == "" and customer.id_card_number == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "call me maybe"),
        ("phone", "12345"),
        ("phone", "1" * 21),
        ("email", "not-an-email"),
        ("website", "not a url"),
        ("first_contact_date", "2999-01-01"),
        ("expected_annual_value", "-1"),
        ("name", ""),
        ("source", ""),
    ],
)
def test_enterprise_form_refuses_bad_values_and_keeps_what_was_typed(client, rep, field, value):
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload(**{field: value}))
    assert response.status_code == 200
    assert not Customer.objects.exists()
    assert response.context["form"].errors[field]
    content = response.content.decode()
    assert "is-invalid" in content and 'class="alert alert-danger"' in content
    assert 'value="西湖区文三路 100 号"' in content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id_card_number", "110101199003071234"),  # wrong check digit
        ("id_card_number", "11010119900307"),
        ("bank_card_number", "6222 0200"),
        ("birthday", (timezone.localdate() + datetime.timedelta(days=1)).isoformat()),
        ("age", "200"),
    ],
)
def test_individual_form_refuses_bad_private_and_personal_values(client, rep, field, value):
    client.force_login(rep)
    response = client.post(CREATE_URL, individual_payload(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Customer.objects.exists()


def test_phone_or_email_is_required(client, rep):
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload(phone="", email=""))
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not Customer.objects.exists()
    response = client.post(CREATE_URL, enterprise_payload(phone=""))
    assert response.status_code == 302


def test_first_contact_becomes_primary_when_none_is_marked(client, rep):
    client.force_login(rep)
    payload = enterprise_payload(**{"contacts-1-name": "李工", "contacts-1-is_primary": "on"})
    client.post(CREATE_URL, payload)
    customer = created("杭州云帆科技有限公司")
    assert set(customer.contacts.values_list("name", "is_primary")) == {("王经理", False), ("李工", True)}

    payload = enterprise_payload(
        name="另一家公司", phone="021-1234 5678", email="", **{"contacts-1-name": "李工"}
    )
    payload["contacts-0-phone"] = "021-8765 4321"
    payload["contacts-0-email"] = ""
    client.post(CREATE_URL, payload)
    other = created("另一家公司")
    assert other.contacts.get(is_primary=True).name == "王经理"


def test_two_primary_contacts_are_a_form_error(client, rep):
    client.force_login(rep)
    payload = enterprise_payload(
        **{"contacts-0-is_primary": "on", "contacts-1-name": "李工", "contacts-1-is_primary": "on"}
    )
    response = client.post(CREATE_URL, payload)
    assert response.status_code == 200
    assert response.context["contacts"].non_form_errors()
    assert not Customer.objects.exists() and not Contact.objects.exists()


def test_a_contact_with_a_bad_phone_is_refused(client, rep):
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload(**{"contacts-0-phone": "abc"}))
    assert response.status_code == 200
    assert response.context["contacts"].forms[0].errors["phone"]
    assert not Customer.objects.exists()


def test_disguised_html_upload_is_refused_and_nothing_is_saved(client, rep):
    client.force_login(rep)
    good = SimpleUploadedFile("card.png", PNG, content_type="image/png")
    bad = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    response = client.post(CREATE_URL, enterprise_payload(**{"attachments-files": [good, bad]}))
    assert response.status_code == 200
    content = response.content.decode()
    assert "photo.png" in content
    assert response.context["attachments"].errors["files"]
    assert response.context["files_dropped"]
    assert not Customer.objects.exists()
    assert not Contact.objects.exists() and not Attachment.objects.exists()
    # What was typed is kept.
    assert 'value="杭州云帆科技有限公司"' in content


def test_several_files_are_attached(client, rep):
    client.force_login(rep)
    files = [
        SimpleUploadedFile("a.png", PNG, content_type="image/png"),
        SimpleUploadedFile("需求.txt", "需求说明".encode(), content_type="text/plain"),
    ]
    client.post(CREATE_URL, enterprise_payload(**{"attachments-files": files}))
    customer = created("杭州云帆科技有限公司")
    assert sorted(customer.attachments.values_list("original_name", flat=True)) == ["a.png", "需求.txt"]


def test_collaborators_offered_are_active_members_of_the_reps_team(client, rep, teammate, other_team_rep):
    UserFactory(username="gone", team=rep.team, is_active=False)
    client.force_login(rep)
    response = client.get(CREATE_URL)
    offered = set(response.context["form"].fields["collaborators"].queryset)
    assert teammate in offered
    assert rep not in offered and other_team_rep not in offered
    assert all(user.is_active for user in offered)
    response = client.post(CREATE_URL, enterprise_payload(collaborators=[str(other_team_rep.pk)]))
    assert response.status_code == 200
    assert response.context["form"].errors["collaborators"]


def test_create_page_shows_zh_hans_labels_and_both_kinds_without_js(client, rep):
    TagFactory(dimension=TagDimensionFactory(name="紧急程度"), name="紧急")
    client.force_login(rep)
    response = client.get(CREATE_URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    content = response.content.decode()
    assert response.status_code == 200
    for text in ("企业客户", "个人客户", "需求描述", "信息来源", "首次接触时间", "保存", "紧急程度", "紧急"):
        assert text in content, text
    assert 'data-kind-section="enterprise"' in content and 'data-kind-section="individual"' in content
    assert 'name="id_card_number"' in content and 'name="industry"' in content
    assert 'hx-get="/customers/duplicates/check/"' in content
    assert 'hx-trigger="input changed delay:400ms"' in content
    assert "js/customer-form.js" in content


def test_create_page_query_count_does_not_grow_with_tags_and_teammates(
    client, rep, django_assert_num_queries
):
    client.force_login(rep)
    TagFactory()
    client.get(CREATE_URL)  # warm up the session and permission caches

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(CREATE_URL).status_code == 200
    dimension = TagDimensionFactory()
    for index in range(30):
        TagFactory(dimension=dimension, name=f"标签-{index}")
        UserFactory(username=f"member{index}", team=rep.team)
    with django_assert_num_queries(len(few)):
        response = client.get(CREATE_URL)
    assert len(response.context["form"].fields["collaborators"].queryset) >= 30
    assert len(few) <= 12


def test_edit_page_query_count_does_not_grow_with_tags_and_collaborators(
    client, rep, django_assert_num_queries
):
    customer = CustomerFactory(owner=rep, tags=[TagFactory()])
    client.force_login(rep)
    client.get(edit_url(customer))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(edit_url(customer)).status_code == 200
    dimension = TagDimensionFactory()
    tags = [TagFactory(dimension=dimension, name=f"标签-{index}") for index in range(30)]
    members = [UserFactory(username=f"member{index}", team=rep.team) for index in range(30)]
    customer.tags.set(tags)
    customer.collaborators.set(members)
    with django_assert_num_queries(len(few)):
        content = client.get(edit_url(customer)).content.decode()
    assert content.count("checked") >= 60


def test_director_and_agent_get_403_on_create(client, director, agent):
    for user in (director, agent):
        client.force_login(user)
        assert client.get(CREATE_URL).status_code == 403
        assert client.post(CREATE_URL, enterprise_payload()).status_code == 403
    assert not Customer.objects.exists()


# Edit ------------------------------------------------------------------------------------------


def test_owner_edits_a_customer_and_history_records_it(client, rep, teammate):
    customer = CustomerFactory(owner=rep, name="旧名称", phone="13800000001", expected_annual_value=None)
    tag = TagFactory()
    client.force_login(rep)
    response = client.get(edit_url(customer))
    assert response.status_code == 200
    assert 'value="旧名称"' in response.content.decode()
    payload = edit_payload(
        customer,
        name="新名称科技有限公司",
        expected_annual_value="150000",
        stage="intent",
        tags=[str(tag.pk)],
        collaborators=[str(teammate.pk)],
    )
    response = client.post(edit_url(customer), payload)
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    customer.refresh_from_db()
    assert (
        customer.name == "新名称科技有限公司" and customer.value_class == "B" and customer.stage == "intent"
    )
    assert customer.name_key == "新名称科技"
    assert list(customer.tags.all()) == [tag] and list(customer.collaborators.all()) == [teammate]
    updates = [entry.changes for entry in CustomerChange.objects.filter(customer=customer, action="updated")]
    assert {"name": ["旧名称", "新名称科技有限公司"]}.items() <= next(
        c for c in updates if "name" in c
    ).items()
    assert any(c.get("collaborators") == ["", str(teammate)] for c in updates)
    assert CustomerChange.objects.filter(customer=customer, action="stage").exists()
    assert customer.version > 1


def test_edit_with_a_stale_version_keeps_input_and_shows_the_zh_hans_error(client, rep):
    customer = CustomerFactory(owner=rep, name="原来的名字")
    client.force_login(rep)
    stale = edit_payload(customer, name="我改的名字")
    # Someone else saves first.
    client.post(edit_url(customer), edit_payload(customer, notes="别人的修改"))
    customer.refresh_from_db()
    assert customer.version == 2

    response = client.post(edit_url(customer), stale, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    content = response.content.decode()
    assert "在您编辑期间，其他人已保存了该客户" in content
    assert 'value="我改的名字"' in content
    customer.refresh_from_db()
    assert customer.name == "原来的名字" and customer.notes == "别人的修改"


def test_stale_version_is_refused_even_when_only_tags_changed(client, rep):
    customer = CustomerFactory(owner=rep)
    tag = TagFactory()
    client.force_login(rep)
    stale = edit_payload(customer, tags=[str(tag.pk)])
    client.post(edit_url(customer), edit_payload(customer, notes="先保存"))
    response = client.post(edit_url(customer), stale)
    assert response.status_code == 200
    assert not customer.tags.exists()


def test_private_numbers_are_not_offered_to_an_editor_who_may_not_see_them(client, rep, teammate):
    customer = CustomerFactory(
        owner=rep, kind="individual", id_card_number=VALID_ID_CARD, collaborators=[teammate]
    )
    client.force_login(teammate)
    response = client.get(edit_url(customer))
    assert response.status_code == 200
    assert VALID_ID_CARD not in response.content.decode()
    assert "id_card_number" not in response.context["form"].fields
    response = client.post(edit_url(customer), edit_payload(customer, occupation="律师", gender="female"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.id_card_number == VALID_ID_CARD and customer.occupation == "律师"

    client.force_login(rep)
    assert VALID_ID_CARD in client.get(edit_url(customer)).content.decode()


def test_other_team_rep_gets_404_on_edit(client, rep, other_team_rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(other_team_rep)
    assert client.get(edit_url(customer)).status_code == 404
    assert client.post(edit_url(customer), edit_payload(customer, name="x")).status_code == 404


def test_deleted_customer_edit_is_404(client, rep):
    customer = CustomerFactory(owner=rep, deleted_at=timezone.now())
    client.force_login(rep)
    assert client.get(edit_url(customer)).status_code == 404


def test_director_gets_403_on_edit(client, rep, director):
    customer = CustomerFactory(owner=rep, name="不变")
    client.force_login(director)
    assert client.get(edit_url(customer)).status_code == 403
    assert client.post(edit_url(customer), edit_payload(customer, name="改了")).status_code == 403
    customer.refresh_from_db()
    assert customer.name == "不变"


def test_agent_owning_nothing_gets_404_and_lead_may_edit_team_customer(client, rep, agent, lead):
    customer = CustomerFactory(owner=rep)
    client.force_login(agent)
    assert client.get(edit_url(customer)).status_code == 404
    client.force_login(lead)
    assert client.get(edit_url(customer)).status_code == 200
