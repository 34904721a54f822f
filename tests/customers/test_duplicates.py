"""Duplicate warnings: matching by normalised keys, scope, the htmx fragment and the save override."""

import pytest
from django.utils import timezone

from customers.models import Contact, Customer
from customers.services.duplicates import find_duplicates
from customers.services.related import contact_create
from tests.factories.customers import CustomerFactory
from tests.factories.customers_profiles import CREATE_URL, edit_payload, edit_url, enterprise_payload

pytestmark = pytest.mark.django_db

CHECK_URL = "/customers/duplicates/check/"


def add_contact(customer: Customer, **fields) -> Contact:
    """Through the service, which keeps the contact's keys (as the forms do)."""
    return contact_create(
        actor=customer.owner, customer=customer, name=fields.pop("name", "王经理"), **fields
    )


def reasons(result, customer) -> tuple[str, ...]:
    return next(match.reasons for match in result.matches if match.customer.pk == customer.pk)


# Matching --------------------------------------------------------------------------------------


def test_same_phone_matches_with_country_code_spaces_and_dashes(rep):
    existing = CustomerFactory(owner=rep, phone="13800138000", name="甲公司")
    result = find_duplicates(user=rep, phone="+86 138-0013 8000")
    assert [match.customer for match in result.matches] == [existing]
    assert reasons(result, existing) == ("phone",)
    assert result.hidden_count == 0


def test_same_email_matches_whatever_the_case(rep):
    existing = CustomerFactory(owner=rep, email="Sales@YunFan.example.cn")
    result = find_duplicates(user=rep, email=" sales@yunfan.EXAMPLE.cn ")
    assert reasons(result, existing) == ("email",)


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("（上海）华为技术有限公司", "(上海)华为技术公司"),
        ("ＡＢＣ科技股份有限公司", "abc科技"),
        ("杭州云帆科技有限公司", "杭州云帆科技"),
    ],
)
def test_near_identical_names_match(rep, stored, typed):
    existing = CustomerFactory(owner=rep, name=stored)
    result = find_duplicates(user=rep, name=typed)
    assert reasons(result, existing) == ("name",)


def test_contact_phone_and_email_match(rep):
    customer = CustomerFactory(owner=rep, phone="021-5555 0000", email="")
    add_contact(customer, phone="139 0000 1111", email="Wang@Example.com")
    result = find_duplicates(user=rep, phone="+8613900001111", email="wang@example.com")
    assert reasons(result, customer) == ("contact_phone", "contact_email")
    labels = [str(label) for label in result.matches[0].reason_labels]
    assert len(labels) == 2


def test_several_reasons_are_listed_once_per_customer(rep):
    customer = CustomerFactory(owner=rep, name="云帆科技有限公司", phone="13800138000")
    add_contact(customer, phone="13800138000")
    result = find_duplicates(user=rep, name="云帆科技", phone="138 0013 8000")
    assert len(result.matches) == 1
    assert reasons(result, customer) == ("phone", "name")


def test_unrelated_short_and_deleted_customers_do_not_match(rep):
    CustomerFactory(owner=rep, name="别的公司", phone="13911112222")
    CustomerFactory(owner=rep, name="已删除公司", phone="13800138000", deleted_at=timezone.now())
    assert not find_duplicates(user=rep, name="云帆", phone="13800138000", email="a@b.cn")
    assert not find_duplicates(user=rep, phone="123")
    assert not find_duplicates(user=rep)


def test_the_customer_being_edited_is_excluded(rep):
    customer = CustomerFactory(owner=rep, phone="13800138000")
    assert not find_duplicates(user=rep, phone="13800138000", exclude_pk=customer.pk)


def test_out_of_scope_matches_are_only_counted(rep, other_team_rep):
    mine = CustomerFactory(owner=rep, phone="13800138000", name="我的客户")
    CustomerFactory(owner=other_team_rep, phone="13800138000", name="别组的客户")
    CustomerFactory(owner=other_team_rep, email="x@example.com", name="别组的另一个")
    result = find_duplicates(user=rep, phone="13800138000", email="X@example.com")
    assert [match.customer for match in result.matches] == [mine]
    assert result.hidden_count == 2


def test_director_sees_every_match(rep, other_team_rep, director):
    CustomerFactory(owner=rep, phone="13800138000")
    CustomerFactory(owner=other_team_rep, phone="13800138000")
    result = find_duplicates(user=director, phone="13800138000")
    assert len(result.matches) == 2 and result.hidden_count == 0


def test_shared_customers_are_visible_to_the_collaborator(rep, teammate):
    shared = CustomerFactory(owner=teammate, phone="13800138000", collaborators=[rep])
    CustomerFactory(owner=teammate, phone="13800138000")
    result = find_duplicates(user=rep, phone="13800138000")
    assert [match.customer for match in result.matches] == [shared]
    assert result.hidden_count == 1


def test_lookup_takes_at_most_two_queries_and_lists_ten(rep, django_assert_max_num_queries):
    for _ in range(12):
        CustomerFactory(owner=rep, phone="13800138000")
    rep.has_perm("customers.add_customer")  # permissions are loaded once per request
    with django_assert_max_num_queries(2):
        result = find_duplicates(user=rep, name="随便", phone="13800138000", email="a@example.com")
        owners = [str(match.customer.owner) for match in result.matches]
    assert len(owners) == 10 and result.more_visible == 2


# The htmx endpoint ----------------------------------------------------------------------------


def test_fragment_lists_visible_matches_and_counts_the_rest(client, rep, other_team_rep):
    mine = CustomerFactory(owner=rep, phone="13800138000", name="我的云帆客户")
    CustomerFactory(owner=other_team_rep, phone="13800138000", name="别组的秘密客户")
    client.force_login(rep)
    response = client.get(
        CHECK_URL, {"name": "", "phone": "+86 138 0013 8000", "email": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content and "<form" not in content
    assert "我的云帆客户" in content and mine.number in content
    assert "别组的秘密客户" not in content
    assert "data-hidden-duplicates" in content
    assert 'name="confirm_duplicates"' in content
    assert "HX-Request" in response["Vary"]


def test_fragment_is_empty_without_matches(client, rep):
    client.force_login(rep)
    response = client.get(CHECK_URL, {"name": "全新的公司", "phone": "", "email": ""})
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_fragment_excludes_the_customer_being_edited(client, rep):
    customer = CustomerFactory(owner=rep, phone="13800138000", name="正在编辑的客户")
    client.force_login(rep)
    response = client.get(CHECK_URL, {"phone": "13800138000", "exclude": str(customer.pk)})
    assert "正在编辑的客户" not in response.content.decode()
    response = client.get(CHECK_URL, {"phone": "13800138000", "exclude": "nonsense"})
    assert "正在编辑的客户" in response.content.decode()


def test_other_team_rep_never_sees_names_from_the_fragment(client, rep, other_team_rep):
    CustomerFactory(owner=rep, phone="13800138000", name="甲组客户")
    client.force_login(other_team_rep)
    content = client.get(CHECK_URL, {"phone": "13800138000"}).content.decode()
    assert "甲组客户" not in content
    assert "data-hidden-duplicates" in content


def test_fragment_refuses_post_and_users_who_cannot_create(client, rep, director, agent):
    client.force_login(rep)
    assert client.post(CHECK_URL, {"phone": "13800138000"}).status_code == 405
    for user in (director, agent):
        client.force_login(user)
        assert client.get(CHECK_URL, {"phone": "13800138000"}).status_code == 403


# On submit, without JavaScript -----------------------------------------------------------------


def test_create_stops_on_a_duplicate_until_the_rep_confirms(client, rep):
    existing = CustomerFactory(owner=rep, phone="13800138000", name="老客户")
    client.force_login(rep)
    payload = enterprise_payload(phone="+86 138 0013 8000")

    response = client.post(CREATE_URL, payload, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    content = response.content.decode()
    assert "老客户" in content and existing.number in content
    assert response.context["form"].errors["confirm_duplicates"]
    assert 'value="杭州云帆科技有限公司"' in content and 'value="王经理"' in content
    assert Customer.objects.count() == 1

    response = client.post(CREATE_URL, {**payload, "confirm_duplicates": "on"})
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_create_stops_on_an_out_of_scope_duplicate_without_naming_it(client, rep, other_team_rep):
    CustomerFactory(owner=other_team_rep, email="info@yunfan.example.cn", name="别组的云帆")
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload())
    assert response.status_code == 200
    content = response.content.decode()
    assert "别组的云帆" not in content and "data-hidden-duplicates" in content
    assert Customer.objects.count() == 1


def test_create_matches_a_contact_phone_and_a_name_variant(client, rep):
    holder = CustomerFactory(owner=rep, name="杭州云帆科技股份有限公司", phone="021-1111 2222")
    add_contact(holder, phone="0571 8888 1234")
    client.force_login(rep)
    response = client.post(CREATE_URL, enterprise_payload(email=""))
    assert response.status_code == 200
    (match,) = response.context["duplicates"].matches
    assert match.customer == holder and match.reasons == ("name", "contact_phone")


def test_edit_warns_only_when_name_phone_or_email_changes(client, rep):
    CustomerFactory(owner=rep, phone="13800138000", name="已有客户")
    customer = CustomerFactory(owner=rep, phone="13911112222", name="在编辑的客户")
    client.force_login(rep)
    response = client.post(edit_url(customer), edit_payload(customer, phone="138 0013 8000"))
    assert response.status_code == 200
    assert "已有客户" in response.content.decode()
    customer.refresh_from_db()
    assert customer.phone == "13911112222"
    response = client.post(edit_url(customer), edit_payload(customer, notes="只改备注"))
    assert response.status_code == 302


def test_edit_page_sends_the_customer_to_exclude(client, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    content = client.get(edit_url(customer)).content.decode()
    assert f"&quot;exclude&quot;: {customer.pk}" in content


def test_create_stops_when_a_typed_contact_is_already_someone_elses(client, rep):
    """The new customer's own phone and e-mail are new, but its buyer is a known contact."""
    holder = CustomerFactory(owner=rep, name="宁波某贸易公司", phone="0574-1234 5678")
    add_contact(holder, phone="139 1111 2222", email="li@trade.example.cn")
    client.force_login(rep)
    payload = enterprise_payload(
        **{"contacts-0-phone": "+86 13911112222", "contacts-0-email": "other@yunfan.example.cn"}
    )
    response = client.post(CREATE_URL, payload, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    (match,) = response.context["duplicates"].matches
    assert match.customer == holder and match.reasons == ("contact_phone",)
    assert Customer.objects.count() == 1
