"""The top navigation, filled by the apps that have pages.

``accounts`` sits below every other app, so it cannot import their URLs; each app registers its
entry in ``AppConfig.ready()`` and the base template shows the ones the user may open.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str  # matched against the first part of the URL's namespace to mark the active entry
    label: Promise
    url_name: str
    icon: str  # a Bootstrap Icons name
    order: int
    allowed: Callable[[object], bool] = lambda user: True

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _items[item.key] = item


def items_for(user) -> list[NavItem]:
    return [item for item in sorted(_items.values(), key=lambda i: i.order) if item.allowed(user)]


def active_item(items: list[NavItem], view_name: str, namespace: str) -> NavItem | None:
    """The entry to mark as the current page: the one that opens exactly this view (the calendar,
    the team page), otherwise the one whose key is the view's namespace (any customers page)."""
    exact = next((item for item in items if item.url_name == view_name), None)
    return exact or next((item for item in items if item.key == (namespace or view_name)), None)
