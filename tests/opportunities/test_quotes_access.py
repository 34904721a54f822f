"""Every quote and price-list URL for every persona (the rows to add to tests/test_permissions.py).

The quote belongs to an opportunity of ``rep`` of team A: other teams get 404, people who may see
it but not act on it (director, administrator) get 403, anonymous visitors go to the login page.
The price list is not scoped: reps, managers, directors and administrators read it; managers and
administrators keep it; service agents have no business there.
"""

import pytest
from django.urls import reverse

from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.quotes import ProductFactory, quote_with_lines

pytestmark = pytest.mark.django_db

PERSONAS = ["rep", "teammate", "lead", "other_team_rep", "other_lead", "director", "agent", "administrator"]
OK = "ok"
SALES = {"rep", "teammate", "lead", "other_team_rep", "other_lead"}
MANAGERS = {"lead", "other_lead"}
SEES = {"rep": OK, "lead": OK, "director": OK, "administrator": OK}


def statuses(default, **overrides):
    return {persona: overrides.get(persona, default) for persona in PERSONAS}


def page(allowed):
    return statuses(403, **dict.fromkeys(allowed, OK))


VIEW = statuses(404, **SEES)
CHANGE = statuses(404, **SEES | {"director": 403, "administrator": 403})
# (url name, what the pk is, method): expected status per persona.
MATRIX = {
    ("opportunities:quote-list", None, "get"): page(SALES | {"director", "administrator"}),
    ("opportunities:quote-create", "opportunity", "get"): CHANGE,
    ("opportunities:quote-detail", "quote", "get"): VIEW,
    ("opportunities:quote-print", "quote", "get"): VIEW,
    ("opportunities:quote-edit", "quote", "get"): CHANGE,
    ("opportunities:quote-send", "quote", "post"): CHANGE,
    ("opportunities:quote-accept", "quote", "post"): CHANGE,
    ("opportunities:quote-reject", "quote", "post"): CHANGE,
    ("opportunities:quote-new-version", "quote", "post"): CHANGE,
    ("opportunities:product-list", None, "get"): page(SALES | {"director", "administrator"}),
    ("opportunities:product-create", None, "get"): page(MANAGERS | {"administrator"}),
    ("opportunities:product-edit", "product", "get"): page(MANAGERS | {"administrator"}),
    ("opportunities:product-active", "product", "post"): page(MANAGERS | {"administrator"}),
}


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
    name,
    record,
    method,
):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    records = {
        "opportunity": opportunity,
        "quote": quote_with_lines(opportunity=opportunity),
        "product": ProductFactory(),
    }
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


def test_other_team_rep_gets_404_on_every_quote_url_and_changes_nothing(client, rep, other_team_rep):
    quote = quote_with_lines(opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)))
    client.force_login(other_team_rep)
    for name, record, method in MATRIX:
        if record == "quote":
            assert getattr(client, method)(reverse(name, args=[quote.pk])).status_code == 404, name
    quote.refresh_from_db()
    assert quote.status == "draft" and quote.superseded_at is None and quote.lines.count() == 2


def test_a_quote_of_a_deleted_customer_is_gone(client, rep, lead):
    from django.utils import timezone

    customer = CustomerFactory(owner=rep)
    quote = quote_with_lines(opportunity=OpportunityFactory(customer=customer))
    customer.deleted_at = timezone.now()
    customer.deleted_by = lead
    customer.save()
    client.force_login(rep)
    assert client.get(reverse("opportunities:quote-detail", args=[quote.pk])).status_code == 404
