"""Every order and payment URL for every persona (the rows to add to tests/test_permissions.py).

The order belongs to ``rep`` of team A: other teams get 404 on every record URL, people who may
see it but not act on it get 403 (the director and administrator read; voiding a payment is a
manager's), anonymous visitors are sent to the login page.
"""

import pytest
from django.urls import reverse

from opportunities.models import Order
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.orders import OrderFactory, PaymentFactory, accepted_quote, plan, settle

pytestmark = pytest.mark.django_db

PERSONAS = ["rep", "teammate", "lead", "other_team_rep", "other_lead", "director", "agent", "administrator"]
OK = "ok"
SALES = {"rep", "teammate", "lead", "other_team_rep", "other_lead"}
SEES = {"rep": OK, "lead": OK, "director": OK, "administrator": OK}


def statuses(default, **overrides):
    return {persona: overrides.get(persona, default) for persona in PERSONAS}


def page(allowed):
    return statuses(403, **dict.fromkeys(allowed, OK))


VIEW = statuses(404, **SEES)
CHANGE = statuses(404, **SEES | {"director": 403, "administrator": 403})
MANAGE = statuses(404, **SEES | {"rep": 403, "director": 403, "administrator": 403})
MATRIX = {
    ("opportunities:order-list", None, "get"): page(SALES | {"director", "administrator"}),
    ("opportunities:order-export", None, "post"): page(SALES | {"director", "administrator"}),
    ("opportunities:order-create", "quote", "get"): CHANGE,
    ("opportunities:order-create", "quote", "post"): CHANGE,
    ("opportunities:order-detail", "order", "get"): VIEW,
    ("opportunities:order-plan", "order", "get"): CHANGE,
    ("opportunities:order-plan", "order", "post"): CHANGE,
    ("opportunities:order-cancel", "order", "get"): CHANGE,
    ("opportunities:order-cancel", "order", "post"): CHANGE,
    ("opportunities:payment-create", "order", "get"): CHANGE,
    ("opportunities:payment-create", "order", "post"): CHANGE,
    ("opportunities:payment-void", "payment", "get"): MANAGE,
    ("opportunities:payment-void", "payment", "post"): MANAGE,
}


@pytest.fixture
def records(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    order = OrderFactory(opportunity=opportunity)
    plan(order, (10, "100000"))
    payment = PaymentFactory(order=order, amount="100")
    settle(order)
    return {"quote": accepted_quote(opportunity), "order": order, "payment": payment}


@pytest.mark.parametrize(("name", "record", "method"), list(MATRIX))
def test_every_persona_gets_the_expected_status(
    client,
    request,
    rep,
    teammate,
    lead,
    other_team_rep,
    other_lead,
    director,
    agent,
    administrator,
    records,
    name,
    record,
    method,
):
    url = reverse(name, args=[records[record].pk] if record else [])
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    for persona, expected in MATRIX[(name, record, method)].items():
        client.force_login(request.getfixturevalue(persona))
        status = getattr(client, method)(url).status_code
        if expected == OK:
            assert status in (200, 302), (persona, status)
        else:
            assert status == expected, (persona, status)


def test_every_order_url_is_in_the_matrix():
    from opportunities.views.orders import urlpatterns

    assert {f"opportunities:{pattern.name}" for pattern in urlpatterns} == {name for name, _, _ in MATRIX}


def test_other_team_rep_changes_nothing(client, other_team_rep, records):
    """The 404s above are not after the fact: nothing was written by the out-of-scope posts."""
    client.force_login(other_team_rep)
    order = records["order"]
    client.post(reverse("opportunities:order-cancel", args=[order.pk]), {"reason": "x"})
    client.post(
        reverse("opportunities:payment-create", args=[order.pk]),
        {"received_on": "2026-01-01", "amount": "1", "method": "bank"},
    )
    order.refresh_from_db()
    assert order.status == Order.Status.ACTIVE and order.payments.count() == 1


def test_collaborator_of_the_customer_sees_the_order(client, teammate, records):
    order = records["order"]
    order.customer.collaborators.add(teammate)
    client.force_login(teammate)
    assert client.get(order.get_absolute_url()).status_code == 200
