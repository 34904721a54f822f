"""The customer history (SPEC: who changed what and when, old → new).

Services snapshot the fields they may change before and after, and record the difference in the
same transaction. Values are stored as the reader sees them (choice labels, names), so the
history reads well even after a lookup is renamed or a user leaves.
"""

from collections.abc import Iterable
from typing import Any

from django.db import models

from customers.models import Customer, CustomerChange

# Never written to the history in clear: masked there as on screen.
PRIVATE_FIELDS = {"id_card_number", "bank_card_number"}


def display_value(instance: models.Model, field_name: str) -> str:
    field = instance._meta.get_field(field_name)
    value = getattr(instance, field_name)
    if value in (None, ""):
        return ""
    if field_name in PRIVATE_FIELDS:
        return "****" + str(value)[-4:]
    if field.choices:
        return str(getattr(instance, f"get_{field_name}_display")())
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
