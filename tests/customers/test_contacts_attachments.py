"""Contacts and attachments, managed from the customer page."""

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Attachment, Contact, Customer, CustomerChange
from tests.factories.customers import AttachmentFactory, ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep, name="杭州云帆科技有限公司")


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="王经理", is_primary=True)


@pytest.fixture
def attachment(customer, rep):
    return AttachmentFactory(customer=customer, original_name="客户名片 2024.png", uploaded_by=rep)


def customer_url(name: str, customer: Customer) -> str:
    return reverse(f"customers:{name}", args=[customer.pk])


def contact_url(name: str, contact: Contact) -> str:
    return reverse(f"customers:{name}", args=[contact.customer_id, contact.pk])


def attachment_url(name: str, attachment: Attachment) -> str:
    return reverse(f"customers:{name}", args=[attachment.customer_id, attachment.pk])


def png(name: str = "名片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


# ---- scope and permissions -------------------------------------------------------------------


def every_request(customer: Customer, contact: Contact, attachment: Attachment) -> list[tuple[str, str]]:
    return [
        ("get", customer_url("contact-create", customer)),
        ("post", customer_url("contact-create", customer)),
        ("get", contact_url("contact-edit", contact)),
        ("post", contact_url("contact-edit", contact)),
        ("post", contact_url("contact-delete", contact)),
        ("get", customer_url("attachment-upload", customer)),
        ("post", customer_url("attachment-upload", customer)),
        ("get", attachment_url("attachment-download", attachment)),
        ("post", attachment_url("attachment-delete", attachment)),
    ]


def test_other_team_rep_gets_404_for_every_contact_and_attachment_url(
    client, other_team_rep, customer, contact, attachment
):
    client.force_login(other_team_rep)
    for method, address in every_request(customer, contact, attachment):
        response = getattr(client, method)(address, {"name": "入侵者", "file": png()})
        assert response.status_code == 404, (method, address)
    assert list(customer.contacts.values_list("name", flat=True)) == ["王经理"]
    assert customer.attachments.count() == 1


@pytest.mark.parametrize("persona", ["director", "agent"])
def test_read_only_roles_get_403_for_contact_and_attachment_changes(
    client, request, customer, contact, attachment, persona
):
    user = request.getfixturevalue(persona)
    customer.collaborators.add(user)  # in scope for the agent too
    client.force_login(user)
    for method, address in every_request(customer, contact, attachment):
        response = getattr(client, method)(address, {"name": "改名", "file": png()})
        # Downloading is reading: everyone who sees the customer may.
        expected = 200 if address == attachment_url("attachment-download", attachment) else 403
        assert response.status_code == expected, (method, address)
    contact.refresh_from_db()
    assert contact.name == "王经理" and Attachment.objects.filter(pk=attachment.pk).exists()


def test_contact_and_attachment_of_another_customer_are_404_under_this_customer(client, rep, customer):
    other = CustomerFactory(owner=rep)
    foreign_contact = ContactFactory(customer=other)
    foreign_attachment = AttachmentFactory(customer=other)
    client.force_login(rep)
    base = f"/customers/{customer.pk}"
    assert client.get(f"{base}/contacts/{foreign_contact.pk}/edit/").status_code == 404
    assert client.post(f"{base}/contacts/{foreign_contact.pk}/delete/").status_code == 404
    assert client.get(f"{base}/attachments/{foreign_attachment.pk}/").status_code == 404
    assert client.post(f"{base}/attachments/{foreign_attachment.pk}/delete/").status_code == 404
    assert Contact.objects.filter(pk=foreign_contact.pk).exists()
    assert Attachment.objects.filter(pk=foreign_attachment.pk).exists()


def test_delete_urls_refuse_get(client, rep, contact, attachment):
    client.force_login(rep)
    assert client.get(contact_url("contact-delete", contact)).status_code == 405
    assert client.get(attachment_url("attachment-delete", attachment)).status_code == 405


# ---- contacts --------------------------------------------------------------------------------


def test_first_contact_added_becomes_primary(client, rep, customer):
    client.force_login(rep)
    form = client.get(customer_url("contact-create", customer), **ZH).content.decode()
    assert "添加联系人" in form and "主联系人" in form
    response = client.post(
        customer_url("contact-create", customer),
        {"name": "王经理", "title": "采购经理", "phone": "+86 138-0013-8000", "email": "wang@example.cn"},
    )
    assert response.status_code == 302 and response["Location"] == customer_url("customer-detail", customer)
    contact = customer.contacts.get()
    assert contact.is_primary and contact.phone_key == "13800138000"
    customer.refresh_from_db()
    assert "13800138000" in customer.search_text
    assert CustomerChange.objects.filter(customer=customer, action="contact").exists()
    page = client.get(response["Location"], **ZH).content.decode()
    assert "已添加联系人 王经理" in page


def test_marking_a_new_contact_primary_unmarks_the_old_one(client, rep, customer, contact):
    client.force_login(rep)
    client.post(customer_url("contact-create", customer), {"name": "李工", "is_primary": "on"})
    contact.refresh_from_db()
    assert not contact.is_primary
    assert customer.contacts.get(is_primary=True).name == "李工"


def test_bad_phone_and_email_are_refused_and_typed_values_kept(client, rep, customer):
    client.force_login(rep)
    response = client.post(
        customer_url("contact-create", customer),
        {"name": "赵六", "title": "总监", "phone": "call me maybe", "email": "not-an-email"},
        **ZH,
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.has_error("phone", code="phone") and form.has_error("email", code="invalid")
    body = response.content.decode()
    assert "输入一个有效的 Email 地址" in body
    assert 'value="赵六"' in body and 'value="总监"' in body and 'value="call me maybe"' in body
    assert not customer.contacts.exists()


def test_edit_contact_records_old_and_new(client, rep, customer, contact):
    client.force_login(rep)
    form = client.get(contact_url("contact-edit", contact), **ZH).content.decode()
    assert 'value="王经理"' in form and "编辑联系人" in form
    response = client.post(
        contact_url("contact-edit", contact),
        {"name": "王经理", "title": "副总经理", "phone": "021-6234 5678", "is_primary": "on"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "副总经理" and contact.phone == "021-6234 5678"
    entry = CustomerChange.objects.filter(customer=customer, action="contact").latest("at")
    assert ["采购经理", "副总经理"] in entry.changes.values()


def test_primary_contact_cannot_be_unmarked_without_a_successor(client, rep, customer, contact):
    client.force_login(rep)
    response = client.post(contact_url("contact-edit", contact), {"name": "王经理", "title": "经理"}, **ZH)
    assert response.status_code == 200
    assert "请将另一位联系人设为主联系人" in response.content.decode()
    contact.refresh_from_db()
    assert contact.is_primary and contact.title == "采购经理"


def test_delete_contact_promotes_the_next_one(client, rep, customer, contact):
    second = ContactFactory(customer=customer, name="李工")
    client.force_login(rep)
    response = client.post(contact_url("contact-delete", contact))
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    second.refresh_from_db()
    assert second.is_primary
    entry = CustomerChange.objects.filter(customer=customer, action="contact").latest("at")
    assert entry.changes == {"contact": [str(contact), ""]}


# ---- attachments -----------------------------------------------------------------------------


def test_upload_stores_the_file_under_a_random_name(client, rep, customer, tmp_path):
    client.force_login(rep)
    form = client.get(customer_url("attachment-upload", customer), **ZH).content.decode()
    assert "上传附件" in form and 'enctype="multipart/form-data"' in form
    response = client.post(
        customer_url("attachment-upload", customer),
        {"file": png("需求 截图.png"), "category": "screenshot", "description": "首页需求"},
    )
    assert response.status_code == 302
    attachment = customer.attachments.get()
    assert (attachment.original_name, attachment.category, attachment.description) == (
        "需求 截图.png",
        "screenshot",
        "首页需求",
    )
    assert attachment.content_type == "image/png" and attachment.size == len(PNG)
    assert attachment.uploaded_by == rep
    assert "需求" not in attachment.file.name and (tmp_path / attachment.file.name).exists()
    assert CustomerChange.objects.get(customer=customer, action="attachment").changes == {
        "attachment": ["", "需求 截图.png"]
    }


def test_disguised_html_upload_is_refused_and_typed_values_kept(client, rep, customer):
    client.force_login(rep)
    html = SimpleUploadedFile(
        "名片.png", b"<!DOCTYPE html><script>alert(1)</script>", content_type="image/png"
    )
    response = client.post(
        customer_url("attachment-upload", customer),
        {"file": html, "category": "business_card", "description": "张总名片"},
        **ZH,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "名片.png" in body and "is-invalid" in body
    assert 'value="张总名片"' in body
    assert 'value="business_card" selected' in body
    assert not customer.attachments.exists()


def test_upload_without_a_file_is_refused(client, rep, customer):
    client.force_login(rep)
    response = client.post(customer_url("attachment-upload", customer), {"category": "other"})
    assert response.status_code == 200 and not customer.attachments.exists()


def test_download_sends_the_file_as_an_attachment_with_its_chinese_name(client, rep, attachment):
    client.force_login(rep)
    response = client.get(attachment_url("attachment-download", attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('客户名片 2024.png')}" in disposition


@pytest.mark.parametrize("persona", ["teammate", "lead", "director"])
def test_everyone_who_sees_the_customer_may_download(client, request, customer, attachment, persona):
    user = request.getfixturevalue(persona)
    customer.collaborators.add(user)
    client.force_login(user)
    assert client.get(attachment_url("attachment-download", attachment)).status_code == 200


def test_missing_file_is_404(client, rep, attachment):
    attachment.file.storage.delete(attachment.file.name)
    client.force_login(rep)
    assert client.get(attachment_url("attachment-download", attachment)).status_code == 404


def test_delete_attachment_removes_row_file_and_records_it(
    client, rep, customer, attachment, tmp_path, django_capture_on_commit_callbacks
):
    stored = tmp_path / attachment.file.name
    assert stored.exists()
    client.force_login(rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(attachment_url("attachment-delete", attachment))
    assert response.status_code == 302
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not stored.exists()
    assert CustomerChange.objects.get(customer=customer, action="attachment").changes == {
        "attachment": ["客户名片 2024.png", ""]
    }


def test_customer_page_lists_attachments_with_download_links(client, rep, customer, attachment):
    client.force_login(rep)
    page = client.get(customer_url("customer-detail", customer), **ZH).content.decode()
    assert "客户名片 2024.png" in page and attachment_url("attachment-download", attachment) in page
    assert "72\xa0字节" in page and str(rep) in page and "其他" in page
