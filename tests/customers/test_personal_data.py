"""Personal-data requests (PIPL): the JSON export and the erasure; masking of private numbers."""

import json
import os

import pytest
from django.urls import reverse

from accounts.errors import ConcurrentEditError
from customers.models import Attachment, Contact, Customer, CustomerChange
from customers.services.history import record_change
from customers.services.privacy import customer_erase
from customers.services.profiles import customer_create, customer_update
from customers.services.related import contact_create, contact_update
from tests.factories.customers import AttachmentFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
ID_NUMBER = "110101199003071234"
BANK_NUMBER = "6222020200112233445"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def person(rep) -> Customer:
    """An individual with a history full of personal values, a contact and an attachment."""
    customer = customer_create(
        actor=rep,
        kind=Customer.Kind.INDIVIDUAL,
        name="王小明",
        phone="13812345678",
        email="xiaoming@example.com",
        id_card_number=ID_NUMBER,
        bank_card_number=BANK_NUMBER,
        gender="male",
        age=36,
        occupation="工程师",
        address="上海市浦东新区世纪大道100号",
        needs="家庭保险",
    )
    customer = customer_update(
        actor=rep, customer=customer, version=customer.version, phone="13987654321", name="王晓明"
    )
    contact = contact_create(actor=rep, customer=customer, name="李紧急", phone="13700001111", title="配偶")
    contact_update(actor=rep, contact=contact, phone="13700002222")
    attachment = AttachmentFactory(customer=customer, original_name="王晓明身份证.png")
    record_change(  # as customers.services.related.attachment_add writes it
        customer=customer,
        actor=rep,
        action="attachment",
        changes={"attachment": ["", attachment.original_name]},
    )
    customer.refresh_from_db()
    return customer


def url(name: str, customer: Customer) -> str:
    return reverse(f"customers:{name}", args=[customer.pk])


# --- The page ------------------------------------------------------------------------------


def test_lead_sees_what_is_held(client, lead, person):
    client.force_login(lead)
    page = client.get(url("customer-personal-data", person), **ZH).content.decode()
    assert "王晓明" in page and "13987654321" in page
    assert ID_NUMBER in page  # managers may see private numbers
    assert url("customer-erase", person) in page


def test_administrator_sees_private_numbers_masked_on_the_page(client, administrator, person):
    client.force_login(administrator)
    page = client.get(url("customer-personal-data", person)).content.decode()
    assert ID_NUMBER not in page and person.id_card_masked in page
    assert BANK_NUMBER not in page


def test_other_team_rep_gets_404_for_personal_data_and_erase(client, other_team_rep, person):
    client.force_login(other_team_rep)
    assert client.get(url("customer-personal-data", person)).status_code == 404
    assert client.post(url("customer-personal-data", person), {"action": "export"}).status_code == 404
    assert client.post(url("customer-erase", person), {"confirm_number": person.number}).status_code == 404


@pytest.mark.parametrize("persona", ["rep", "director"])
def test_users_without_the_permission_get_403(client, request, person, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url("customer-personal-data", person)).status_code == 403
    assert client.post(url("customer-personal-data", person), {"action": "export"}).status_code == 403
    assert client.post(url("customer-erase", person), {"confirm_number": person.number}).status_code == 403
    person.refresh_from_db()
    assert person.erased_at is None


# --- Export --------------------------------------------------------------------------------


def test_export_downloads_every_personal_value_decrypted_and_is_recorded(client, lead, person):
    client.force_login(lead)

    response = client.post(url("customer-personal-data", person), {"action": "export"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="{person.number}-personal-data.json"'
    data = json.loads(response.content)
    assert data["customer"]["id_card_number"] == ID_NUMBER
    assert data["customer"]["bank_card_number"] == BANK_NUMBER
    assert data["customer"]["name"] == "王晓明" and data["customer"]["phone"] == "13987654321"
    assert "search_text" not in data["customer"]
    assert [contact["name"] for contact in data["contacts"]] == ["李紧急"]
    assert data["attachments"][0]["original_name"] == "王晓明身份证.png"
    assert "file" not in data["attachments"][0]
    assert {entry["action"] for entry in data["history"]} >= {"created", "updated", "contact", "attachment"}
    assert CustomerChange.objects.get(customer=person, action="pd_exported").actor == lead


# --- Erase ---------------------------------------------------------------------------------


def test_erase_needs_the_customer_number_typed(client, lead, person):
    client.force_login(lead)
    response = client.post(url("customer-erase", person), {"confirm_number": "C000"})
    assert response.status_code == 200
    assert response.context["form"].errors["confirm_number"]
    person.refresh_from_db()
    assert person.erased_at is None and person.name == "王晓明"


def test_erasure_leaves_no_personal_value_and_keeps_the_business_record(
    client, lead, person, django_capture_on_commit_callbacks
):
    stored = Attachment.objects.get(customer=person).file.path
    client.force_login(lead)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("customer-erase", person), {"confirm_number": person.number.lower()})

    assert response["Location"] == url("customer-detail", person)
    person.refresh_from_db()
    assert person.erased_at is not None
    assert person.name == f"已删除客户 {person.number}" or person.name == f"Erased customer {person.number}"
    assert person.number.lower() in person.search_text and "王" not in person.search_text
    for field in ["phone", "email", "id_card_number", "bank_card_number", "occupation", "address", "needs"]:
        assert getattr(person, field) == "", field
    assert person.age is None and person.birthday is None and person.gender == ""
    assert person.phone_key == "" and person.email_key == ""
    assert not Contact.objects.filter(customer=person).exists()
    assert not Attachment.objects.filter(customer=person).exists()
    assert not os.path.exists(stored)
    history = json.dumps(
        list(CustomerChange.objects.filter(customer=person).values("changes", "note")), ensure_ascii=False
    )
    for personal in [
        "王小明",
        "王晓明",
        "13812345678",
        "13987654321",
        "李紧急",
        "13700001111",
        "13700002222",
        "xiaoming@example.com",
        "世纪大道",
        "身份证.png",
        "1234",
    ]:
        assert personal not in history, personal
    updated = CustomerChange.objects.get(customer=person, action="updated")
    assert updated.changes["name"] == ["—", "—"] and updated.changes["phone"] == ["—", "—"]
    erased = CustomerChange.objects.get(customer=person, action="erased")
    assert erased.actor == lead and erased.changes == {}
    # The customer itself stays, in scope as before.
    assert client.get(url("customer-detail", person)).status_code == 200


def test_erasure_cannot_be_repeated(client, lead, person):
    client.force_login(lead)
    client.post(url("customer-erase", person), {"confirm_number": person.number})
    response = client.post(url("customer-erase", person), {"confirm_number": person.number})
    assert response.status_code == 200
    assert CustomerChange.objects.filter(customer=person, action="erased").count() == 1


def test_an_edit_opened_before_the_erasure_cannot_write_data_back(lead, rep, person):
    stale_version = person.version
    customer_erase(actor=lead, customer=Customer.objects.get(pk=person.pk))
    with pytest.raises(ConcurrentEditError):
        customer_update(actor=rep, customer=person, version=stale_version, phone="13812345678")
