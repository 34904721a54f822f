"""The workbench registry: apps add panels to the home page (我的工作台)."""

import pytest
from django.urls import reverse

from accounts import workbench
from customers.selectors_lifecycle import ReviewSummary
from tests.factories.customers_lifecycle import incomplete_customer

pytestmark = pytest.mark.django_db

# A partial of a template that exists, so the test needs no template of its own.
TEMPLATE = "customers/review_list.html#workbench-panel"


@pytest.fixture
def registered():
    """Register test panels and take them away again afterwards."""
    keys = []

    def register(panel: workbench.Panel) -> workbench.Panel:
        workbench.register(panel)
        keys.append(panel.key)
        return panel

    yield register
    for key in keys:
        workbench.unregister(key)


def summary(pending: int, flagged: int = 0) -> dict:
    return {"summary": ReviewSummary(pending=pending, flagged=flagged, oldest_flagged=[])}


def test_panels_render_in_order_for_users_they_allow(rf, rep, registered):
    calls = []
    registered(workbench.Panel("test-late", TEMPLATE, context=lambda request: summary(222), order=900))
    registered(workbench.Panel("test-early", TEMPLATE, context=lambda request: summary(111), order=1))
    registered(
        workbench.Panel(
            "test-hidden",
            TEMPLATE,
            context=lambda request: calls.append(request) or summary(333),
            allowed=lambda user: False,
        )
    )
    request = rf.get("/")
    request.user = rep

    html = "".join(workbench.render_panels(request))

    assert html.index(">111<") < html.index(">222<")
    assert ">333<" not in html
    assert calls == []  # a panel the user may not see costs nothing


def test_a_panel_whose_context_is_none_is_left_out(rf, rep, registered):
    registered(workbench.Panel("test-empty", TEMPLATE, context=lambda request: None, order=1))
    request = rf.get("/")
    request.user = rep
    assert workbench.render_panels(request) == []


def test_home_renders_registered_panels_and_keeps_its_own_content(client, rep, registered):
    registered(workbench.Panel("test-home", TEMPLATE, context=lambda request: summary(4242)))
    client.force_login(rep)

    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert ">4242<" in page
    assert "华东销售一组" in page  # the team card is still there


def test_leads_home_shows_the_reviews_panel_and_a_reps_does_not(client, lead, rep):
    client.force_login(lead)
    assert 'id="workbench-reviews-heading"' in client.get(reverse("home")).content.decode()
    client.force_login(rep)
    assert 'id="workbench-reviews-heading"' not in client.get(reverse("home")).content.decode()


def test_home_query_count_stays_small_with_the_reviews_panel(
    client, lead, rep, django_assert_max_num_queries
):
    for hours in range(40, 70):
        incomplete_customer(owner=rep, hours_old=hours, review_flagged_at="2026-01-01T00:00:00Z")
    client.force_login(lead)
    with django_assert_max_num_queries(16):  # +1: the collections panel
        page = client.get(reverse("home")).content.decode()
    assert page.count("bi-exclamation-triangle text-danger") == 5
