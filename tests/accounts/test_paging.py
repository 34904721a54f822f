"""Lists that can hold hundreds of thousands of rows count at most COUNT_CAP of them."""

import pytest
from django.urls import reverse

from accounts.paging import CappedPaginator
from interactions.models import Interaction
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import InteractionFactory

pytestmark = pytest.mark.django_db


def test_the_count_stops_at_the_cap_and_says_so(rep):
    customer = CustomerFactory(owner=rep)
    InteractionFactory.create_batch(5, customer=customer, owner=rep)
    capped = CappedPaginator(Interaction.objects.all(), 2, cap=3)
    assert capped.count == 3 and capped.capped and capped.num_pages == 2
    exact = CappedPaginator(Interaction.objects.all(), 2, cap=5)
    assert exact.count == 5 and not exact.capped
    assert [len(exact.page(n).object_list) for n in (1, 2, 3)] == [2, 2, 1]


def test_the_interaction_list_says_more_than_when_capped(client, rep, monkeypatch):
    monkeypatch.setattr("accounts.paging.COUNT_CAP", 3)
    customer = CustomerFactory(owner=rep)
    InteractionFactory.create_batch(4, customer=customer, owner=rep)
    client.force_login(rep)
    page = client.get(reverse("interactions:interaction-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "More than 3 interactions" in page
    monkeypatch.setattr("accounts.paging.COUNT_CAP", 4)
    page = client.get(reverse("interactions:interaction-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "More than" not in page and "4 interactions" in page
