"""The customer history (SPEC: who changed what and when, old → new).

Services snapshot the fields they may change before and after, and record the difference in the
same transaction. Choice fields are stored as their value and translated when read (``describe``),
so each reader sees their own language; related records are stored by name, so the history
reads well after a lookup is renamed or a user leaves. Keys are field names of the customer, or
``contact:<field>`` / ``contact`` / ``attachment`` / ``tags`` for the records around it.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer, CustomerChange

# Never written to the history in clear: masked there as on screen.
PRIVATE_FIELDS = {"id_card_number", "bank_card_number"}


def display_value(instance: models.Model, field_name: str) -> str:
    value = getattr(instance, field_name)
    if value in (None, ""):
        return ""
    if field_name in PRIVATE_FIELDS:
        return "****" + str(value)[-4:]
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, str]:
    return {name: display_value(instance, name) for name in fields}


def difference(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    return {name: [before[name], after[name]] for name in before if before[name] != after.get(name)}


def record_change(
    *,
    customer: Customer,
    actor,
    action: str,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> CustomerChange:
    return CustomerChange.objects.create(
        customer=customer, actor=actor, action=action, changes=changes or {}, note=note
    )


_RELATED_LABELS = {"contact": _("contact"), "attachment": _("attachment"), "tags": _("tags")}


def _label_and_choices(key: str) -> tuple[str, dict[str, str]]:
    model, name = (Contact, key.split(":", 1)[1]) if key.startswith("contact:") else (Customer, key)
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(_RELATED_LABELS.get(key, key)), {}
    label = str(field.verbose_name)
    if model is Contact:
        label = f"{_('contact')} · {label}"
    return label, {str(value): str(text) for value, text in field.flatchoices}


def describe(change: CustomerChange) -> list[tuple[str, str, str]]:
    """``[(label, old, new), ...]`` in the reader's language, for the history and timeline."""
    rows = []
    for key, (old, new) in change.changes.items():
        label, choices = _label_and_choices(key)
        rows.append((label, choices.get(old, old), choices.get(new, new)))
    return rows
