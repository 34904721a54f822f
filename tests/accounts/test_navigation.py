"""The top navigation marks the page the user is on, and only that one."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def current(page: str) -> list[str]:
    return re.findall(r'<a class="nav-link active" href="([^"]+)" aria-current="page"', page)


@pytest.mark.parametrize(
    ("url_name", "marked"),
    [
        ("home", "home"),
        ("interactions:calendar", "interactions:calendar"),  # its own entry, not "Follow-ups"
        ("interactions:team", "interactions:team"),
        ("interactions:interaction-list", "interactions:task-list"),  # any other follow-up page
        ("customers:customer-list", "customers:customer-list"),
    ],
)
def test_exactly_one_entry_is_marked_current(client, lead, url_name, marked):
    client.force_login(lead)
    page = client.get(reverse(url_name)).content.decode()
    assert current(page) == [reverse(marked)]
