"""Every opportunity URL for every persona (the rows to add to tests/test_permissions.py).

The opportunity belongs to ``rep`` of team A: other teams get 404, people who may see it but not
act on it get 403, anonymous visitors are sent to the login page.
"""

import pytest
from django.urls import reverse

from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory

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
MATRIX = {
    ("opportunities:opportunity-list", False, "get"): page(SALES | {"director", "administrator"}),
    ("opportunities:opportunity-board", False, "get"): page(SALES | {"director", "administrator"}),
    ("opportunities:opportunity-export", False, "post"): page(SALES | {"director", "administrator"}),
    ("opportunities:opportunity-create", False, "get"): page(SALES),
    ("opportunities:opportunity-detail", True, "get"): VIEW,
    ("opportunities:opportunity-edit", True, "get"): CHANGE,
    ("opportunities:opportunity-move", True, "get"): CHANGE,
}


@pytest.mark.parametrize(("name", "with_pk", "method"), list(MATRIX))
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
    with_pk,
    method,
):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    url = reverse(name, args=[opportunity.pk] if with_pk else [])
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    for persona, expected in MATRIX[(name, with_pk, method)].items():
        client.force_login(request.getfixturevalue(persona))
        status = getattr(client, method)(url).status_code
        if expected == OK:
            assert status in (200, 302), (persona, status)
        else:
            assert status == expected, (persona, status)
