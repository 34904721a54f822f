"""Transfer of one customer (客户转移) by a team lead."""

import pytest
from django.urls import reverse

from customers import hooks
from customers.models import Customer, CustomerChange
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def transfer_url(customer: Customer) -> str:
    return reverse("customers:customer-transfer", args=[customer.pk])


def test_lead_chooses_among_active_members_of_their_team(client, lead, rep, teammate, other_team_rep):
    gone = UserFactory(username="gone", team=lead.team, is_active=False)
    customer = CustomerFactory(owner=rep)
    client.force_login(lead)

    form = client.get(transfer_url(customer), **ZH).context["form"]

    choices = set(form.fields["owner"].queryset)
    assert teammate in choices and lead in choices
    assert rep not in choices  # the current owner
    assert other_team_rep not in choices and gone not in choices


def test_lead_transfers_a_customer_and_the_history_says_who_when_and_old_to_new(client, lead, rep, teammate):
    customer = CustomerFactory(owner=rep)
    moved = []
    hooks.register_transfer("test-tasks", lambda ids, new_owner, actor: moved.append((ids, new_owner, actor)))
    client.force_login(lead)
    try:
        response = client.post(transfer_url(customer), {"owner": teammate.pk, "note": "负责华东区"})
    finally:
        hooks._transfer.pop("test-tasks")

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer-detail", args=[customer.pk])
    customer.refresh_from_db()
    assert customer.owner == teammate and customer.team == teammate.team
    entry = CustomerChange.objects.get(customer=customer, action="transferred")
    assert entry.actor == lead and entry.note == "负责华东区"
    assert list(entry.changes.values()) == [[str(rep), str(teammate)]]
    assert moved == [([customer.pk], teammate, lead)]


def test_transfer_to_someone_outside_the_leads_teams_is_refused(client, lead, rep, other_team_rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(lead)

    response = client.post(transfer_url(customer), {"owner": other_team_rep.pk, "note": "试试"})

    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert "试试" in response.content.decode()
    customer.refresh_from_db()
    assert customer.owner == rep
    assert not CustomerChange.objects.filter(customer=customer, action="transferred").exists()


def test_other_team_rep_gets_404_for_the_transfer_page(client, other_team_rep, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(other_team_rep)
    assert client.get(transfer_url(customer)).status_code == 404
    assert client.post(transfer_url(customer), {"owner": other_team_rep.pk}).status_code == 404


def test_other_lead_gets_404_for_another_teams_customer(client, other_lead, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(other_lead)
    assert client.get(transfer_url(customer)).status_code == 404


def test_rep_gets_403_transferring_their_own_customer(client, rep, teammate):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    assert client.get(transfer_url(customer)).status_code == 403
    assert client.post(transfer_url(customer), {"owner": teammate.pk}).status_code == 403
    customer.refresh_from_db()
    assert customer.owner == rep


def test_director_gets_403_for_transfer(client, director, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(director)
    assert client.get(transfer_url(customer)).status_code == 403


def test_deleted_customer_cannot_be_transferred(client, lead, rep, teammate):
    customer = CustomerFactory(owner=rep, deleted_at="2026-01-01T00:00:00Z")
    client.force_login(lead)
    assert client.get(transfer_url(customer)).status_code == 404
    assert client.post(transfer_url(customer), {"owner": teammate.pk, "note": "x"}).status_code == 404
    customer.refresh_from_db()
    assert customer.owner == rep


def test_a_user_who_sees_every_team_may_choose_anyone_who_can_own_customers(
    client, rep, teammate, other_team_rep, agent
):
    customer = CustomerFactory(owner=rep)
    client.force_login(UserFactory(username="root", is_superuser=True))
    choices = set(client.get(transfer_url(customer)).context["form"].fields["owner"].queryset)
    assert teammate in choices and other_team_rep in choices
    assert agent not in choices  # service agents do not own customers
