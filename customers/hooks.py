"""Registries through which the apps above ``customers`` join in its workflows.

``customers`` must not import ``interactions``, ``opportunities`` or ``service``; yet merging two
customers must move their records, a transfer must move open tasks, erasing a customer's personal
data must reach their texts, and the customer page shows their entries on one timeline. Each of
those apps registers here in its ``AppConfig.ready()``; ``customers`` registers its own contacts,
attachments and history the same way. The personal-data export (PIPL access request) gathers
their records the same way. The customer page shows their panels (an app's summary of this
customer, e.g. orders and collections) through ``register_customer_panel``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class MergeHandler:
    """Moves one kind of record from ``merged`` to ``survivor`` inside the merge's transaction.

    ``move(survivor, merged, actor)`` returns how many records moved (shown in the history);
    ``count(customer)`` tells the merge screen how many there are beforehand.
    """

    name: str
    label: Promise
    move: Callable[..., int]
    count: Callable[..., int]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # e.g. "history", "interaction", "task", "opportunity", "ticket"
    icon: str  # a Bootstrap Icons name
    title: str
    body: str = ""
    url: str = ""
    actor: str = ""


# provider(customer, user, limit) -> up to ``limit`` newest entries the user may see
TimelineProvider = Callable[..., Iterable[TimelineEntry]]
# handler(customer_ids, new_owner, actor): move what belongs with the customers (e.g. open tasks)
TransferHandler = Callable[..., None]
# handler(customer, actor) -> int: clear personal data kept in an app's own records of this
# customer (e.g. what was said in calls), inside the erasure's transaction; returns how many
# records it changed.
EraseHandler = Callable[..., int]
# provider(customer) -> list of plain dicts: the app's records of this customer that hold personal
# data (what was said in calls, tasks), added under ``name`` to the personal-data export.
PersonalDataProvider = Callable[..., list[dict]]

_merge: dict[str, MergeHandler] = {}
_timeline: dict[str, TimelineProvider] = {}
_transfer: dict[str, TransferHandler] = {}
_erase: dict[str, EraseHandler] = {}
_personal_data: dict[str, PersonalDataProvider] = {}


@dataclass(frozen=True)
class CustomerPanel:
    """A card on the customer page: ``template_name`` rendered with what
    ``context(customer, user)`` returns (None leaves the panel out). ``allowed(user)`` is checked
    first, so a panel costs no query for users who never see it."""

    name: str
    template_name: str  # may name a template partial: "app/page.html#panel"
    context: Callable[..., dict | None]
    order: int = 100
    allowed: Callable[..., bool] = lambda user: True


_customer_panels: dict[str, CustomerPanel] = {}


def register_merge(handler: MergeHandler) -> None:
    _merge[handler.name] = handler


def merge_handlers() -> list[MergeHandler]:
    return list(_merge.values())


def register_timeline(name: str, provider: TimelineProvider) -> None:
    _timeline[name] = provider


def timeline_for(customer, user, *, limit: int = 50) -> list[TimelineEntry]:
    """Every registered provider's newest entries, merged, newest first (one query each)."""
    entries = [entry for provider in _timeline.values() for entry in provider(customer, user, limit)]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def register_transfer(name: str, handler: TransferHandler) -> None:
    _transfer[name] = handler


def transfer_handlers() -> list[TransferHandler]:
    return list(_transfer.values())


def register_erase(name: str, handler: EraseHandler) -> None:
    _erase[name] = handler


def erase_handlers() -> list[EraseHandler]:
    return list(_erase.values())


def register_personal_data(name: str, provider: PersonalDataProvider) -> None:
    _personal_data[name] = provider


def personal_data_providers() -> dict[str, PersonalDataProvider]:
    return dict(_personal_data)


def register_customer_panel(
    name: str,
    template_name: str,
    context_fn: Callable[..., dict | None],
    order: int = 100,
    allowed: Callable[..., bool] = lambda user: True,
) -> None:
    _customer_panels[name] = CustomerPanel(name, template_name, context_fn, order, allowed)


def render_customer_panels(request: HttpRequest, customer) -> list[SafeString]:
    """The HTML of each registered panel the user may see for ``customer``, in order."""
    rendered = []
    for panel in sorted(_customer_panels.values(), key=lambda p: (p.order, p.name)):
        if not panel.allowed(request.user):
            continue
        context = panel.context(customer, request.user)
        if context is None:
            continue
        rendered.append(
            render_to_string(
                panel.template_name, {"panel": panel, "customer": customer, **context}, request=request
            )
        )
    return rendered


# Who makes the after-sales call of a purchase (SPEC 5). The service app answers with an agent of
# its after-sales queue; without an answer the seller (the opportunity's owner) calls.
AftersalesOwner = Callable[..., object | None]
_aftersales_owner: list[AftersalesOwner] = []


def register_aftersales_owner(provider: AftersalesOwner) -> None:
    """``provider(customer)`` returns the user who should call, or None."""
    if provider not in _aftersales_owner:
        _aftersales_owner.append(provider)


def aftersales_owner(customer):
    for provider in _aftersales_owner:
        if (user := provider(customer)) is not None:
            return user
    return None
