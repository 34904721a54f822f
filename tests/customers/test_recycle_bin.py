"""The recycle bin (回收站): managers delete and restore, administrators purge."""

import logging
import os

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Attachment, Contact, Customer, CustomerChange
from tests.factories.customers import AttachmentFactory, ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def deleted_customer(**fields) -> Customer:
    return CustomerFactory(deleted_at=timezone.now(), **fields)


def url(name: str, customer: Customer) -> str:
    return reverse(f"customers:{name}", args=[customer.pk])


# --- Delete --------------------------------------------------------------------------------


def test_lead_moves_a_team_customer_to_the_recycle_bin(client, lead, rep):
    customer = CustomerFactory(owner=rep, name="要删除的客户")
    client.force_login(lead)

    response = client.post(url("customer-delete", customer))

    assert response["Location"] == reverse("customers:recycle-bin")
    customer.refresh_from_db()
    assert customer.deleted_at is not None and customer.deleted_by == lead
    assert CustomerChange.objects.get(customer=customer, action="deleted").actor == lead
    # Gone from every normal page.
    assert client.get(url("customer-detail", customer)).status_code == 404
    assert client.get(url("customer-transfer", customer)).status_code == 404


def test_rep_gets_403_deleting_their_own_customer(client, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    assert client.post(url("customer-delete", customer)).status_code == 403
    customer.refresh_from_db()
    assert customer.deleted_at is None


def test_other_team_rep_gets_404_deleting_another_teams_customer(client, other_team_rep, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(other_team_rep)
    assert client.post(url("customer-delete", customer)).status_code == 404
    customer.refresh_from_db()
    assert customer.deleted_at is None


def test_delete_is_post_only(client, lead, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(lead)
    assert client.get(url("customer-delete", customer)).status_code == 405
    customer.refresh_from_db()
    assert customer.deleted_at is None


# --- The bin -------------------------------------------------------------------------------


def test_recycle_bin_lists_deleted_customers_in_scope_with_who_and_when(client, lead, rep, other_team_rep):
    deleted_customer(owner=rep, name="删掉的甲", deleted_by=lead)
    deleted_customer(owner=other_team_rep, name="别组删掉的")
    CustomerFactory(owner=rep, name="还在的乙")
    survivor = CustomerFactory(owner=rep)
    deleted_customer(owner=rep, name="已合并的丙", merged_into=survivor)
    client.force_login(lead)

    page = client.get(reverse("customers:recycle-bin"), **ZH).content.decode()

    assert "删掉的甲" in page and str(lead) in page
    assert "别组删掉的" not in page and "还在的乙" not in page and "已合并的丙" not in page
    assert "/purge/" not in page  # only administrators purge


@pytest.mark.parametrize("rows", [1, 30])
def test_recycle_bin_query_count_does_not_grow_with_rows(
    client, lead, rep, rows, django_assert_max_num_queries
):
    for _index in range(rows):
        deleted_customer(owner=rep, deleted_by=lead)
    client.force_login(lead)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("customers:recycle-bin"))
    assert response.content.decode().count("/restore/") == rows


@pytest.mark.parametrize("persona", ["rep", "director", "agent"])
def test_users_who_cannot_restore_get_403_for_the_recycle_bin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("customers:recycle-bin")).status_code == 403


# --- Restore -------------------------------------------------------------------------------


def test_lead_restores_a_deleted_customer(client, lead, rep):
    customer = deleted_customer(owner=rep, deleted_by=lead)
    client.force_login(lead)

    response = client.post(url("customer-restore", customer))

    assert response["Location"] == url("customer-detail", customer)
    customer.refresh_from_db()
    assert customer.deleted_at is None and customer.deleted_by is None
    assert CustomerChange.objects.get(customer=customer, action="restored").actor == lead
    assert client.get(url("customer-detail", customer)).status_code == 200


def test_other_team_rep_gets_404_restoring(client, other_team_rep, rep):
    customer = deleted_customer(owner=rep)
    client.force_login(other_team_rep)
    assert client.post(url("customer-restore", customer)).status_code == 404
    customer.refresh_from_db()
    assert customer.deleted_at is not None


def test_rep_gets_403_restoring_their_own_deleted_customer(client, rep):
    customer = deleted_customer(owner=rep)
    client.force_login(rep)
    assert client.post(url("customer-restore", customer)).status_code == 403
    customer.refresh_from_db()
    assert customer.deleted_at is not None


def test_a_live_or_merged_customer_is_not_in_the_bin(client, lead, rep):
    live = CustomerFactory(owner=rep)
    merged = deleted_customer(owner=rep, merged_into=live)
    client.force_login(lead)
    assert client.post(url("customer-restore", live)).status_code == 404
    assert client.post(url("customer-restore", merged)).status_code == 404


# --- Purge ---------------------------------------------------------------------------------


def test_lead_gets_403_purging(client, lead, rep):
    customer = deleted_customer(owner=rep)
    client.force_login(lead)
    assert client.post(url("customer-purge", customer)).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_other_team_rep_gets_404_purging(client, other_team_rep, rep):
    customer = deleted_customer(owner=rep)
    client.force_login(other_team_rep)
    assert client.post(url("customer-purge", customer)).status_code == 404
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_administrator_purges_the_row_its_records_and_files_and_it_is_logged(
    client, administrator, rep, caplog, django_capture_on_commit_callbacks
):
    customer = deleted_customer(owner=rep, number="C202601019999")
    contact = ContactFactory(customer=customer)
    attachment = AttachmentFactory(customer=customer)
    stored = attachment.file.path
    shell = deleted_customer(owner=rep, merged_into=customer)
    client.force_login(administrator)
    page = client.get(reverse("customers:recycle-bin")).content.decode()
    assert url("customer-purge", customer) in page

    with caplog.at_level(logging.INFO, logger="crm.audit"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("customer-purge", customer))

    assert response["Location"] == reverse("customers:recycle-bin")
    assert not Customer.objects.filter(pk__in=[customer.pk, shell.pk]).exists()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not CustomerChange.objects.filter(customer_id=customer.pk).exists()
    assert not os.path.exists(stored)
    [record] = [record for record in caplog.records if record.name == "crm.audit"]
    assert "administrator" in record.getMessage() and "C202601019999" in record.getMessage()


def test_a_live_customer_cannot_be_purged(client, administrator, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(administrator)
    assert client.post(url("customer-purge", customer)).status_code == 404
    assert Customer.objects.filter(pk=customer.pk).exists()
