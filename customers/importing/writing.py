"""Writing the rows of an import: new customers and updates of matched ones, in bulk.

One batch of rows costs a fixed number of statements whatever its size: numbers reserved in one
statement, customers, contacts, tags, stage changes and history entries each in one bulk insert
(or one bulk update), everything the rows refer to already resolved in memory by ``rows``.
The caller (``customers.services.imports.import_batch``) holds the batch's transaction.
"""

from typing import Any

from django.utils import timezone

from accounts.numbering import reserve_numbers
from customers import normalize
from customers.importing.rows import ParsedRow
from customers.models import (
    PRIVATE_FIELDS,
    PROFILE_FIELDS,
    Contact,
    Customer,
    CustomerChange,
    StageChange,
    value_class_for,
)
from customers.selectors import customers_visible_to
from customers.services.history import difference, snapshot

# What updating a matched customer may change besides its tags and contacts. The owner is not
# among them: changing it is a transfer, which has its own permission and page.
UPDATABLE_FIELDS = [field for field in PROFILE_FIELDS if field not in PRIVATE_FIELDS]
_WRITTEN_ON_UPDATE = [
    *UPDATABLE_FIELDS,
    "value_class",
    "stage",
    "stage_changed_at",
    "name_key",
    "phone_key",
    "email_key",
    "search_text",
    "version",
    "updated_at",
]


def _set_keys(customer: Customer, contacts: list[Contact]) -> None:
    """What ``refresh_keys`` computes, from contacts already in memory (it would query them)."""
    normalize.set_keys(customer, [(contact.name, contact.phone, contact.email) for contact in contacts])


def _new_contact(customer: Customer, row: ParsedRow, *, primary: bool) -> Contact:
    # The file's phone and e-mail are the contact's too: it is the person one calls.
    contact = Contact(
        customer=customer,
        name=row.contact["name"],
        title=row.contact.get("title", ""),
        phone=row.values.get("phone", ""),
        email=row.values.get("email", ""),
        is_primary=primary,
    )
    contact.phone_key = normalize.phone_key(contact.phone)
    contact.email_key = normalize.email_key(contact.email)
    return contact


def create_customers(actor, rows: list[ParsedRow], *, note: str) -> int:
    """New customers in bulk, keeping what ``customer_create`` guarantees for one.

    Numbers are reserved in one statement, keys and search text computed as ``refresh_keys``
    does (with the new contact), and each customer gets its first stage change and an
    ``imported`` history entry.
    """
    if not rows:
        return 0
    now = timezone.now()
    customers: list[Customer] = []
    contacts: list[Contact] = []
    for row, number in zip(rows, reserve_numbers("C", len(rows)), strict=True):
        owner = row.owner or actor
        customer = Customer(
            **row.values,
            number=number,
            owner=owner,
            team_id=owner.team_id,
            created_by=actor,
            created_at=now,
            stage_changed_at=now,
        )
        customer.value_class = value_class_for(customer.expected_annual_value)
        new = [_new_contact(customer, row, primary=True)] if row.contact.get("name") else []
        contacts += new
        _set_keys(customer, new)
        customers.append(customer)
    Customer.objects.bulk_create(customers)
    for contact in contacts:
        contact.customer_id = contact.customer.pk
    Contact.objects.bulk_create(contacts)
    through = Customer.tags.through
    through.objects.bulk_create(
        [
            through(customer_id=customer.pk, tag_id=tag.pk)
            for row, customer in zip(rows, customers, strict=True)
            for tag in row.tags
        ]
    )
    StageChange.objects.bulk_create(
        [
            StageChange(
                customer=customer, from_stage="", to_stage=customer.stage, changed_by=actor, changed_at=now
            )
            for customer in customers
        ]
    )
    CustomerChange.objects.bulk_create(
        [
            CustomerChange(
                customer=customer, actor=actor, action=CustomerChange.Action.IMPORTED, note=note, at=now
            )
            for customer in customers
        ]
    )
    return len(customers)


def update_customers(actor, pairs: list[tuple[ParsedRow, int]], *, note: str) -> tuple[int, list[dict]]:
    """Bring matched customers up to date from their rows; returns (updated, problems of refused rows).

    Only non-empty cells change anything; tags are added, never removed; a contact is added when
    the customer has none of that name. The customers are locked and read again through the
    importer's scope, so one moved out of it since the check is refused rather than changed.
    """
    if not pairs:
        return 0, []
    now = timezone.now()
    ids = [pk for _, pk in pairs]
    locked = {
        customer.pk: customer
        for customer in customers_visible_to(actor)
        .filter(pk__in=ids)
        .select_related("industry", "source")  # their names go into the history
        .select_for_update(of=("self",))
    }
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=locked):
        contacts.setdefault(contact.customer_id, []).append(contact)
    through = Customer.tags.through
    tag_names: dict[int, dict[int, str]] = {}
    for customer_id, tag_id, name in through.objects.filter(customer_id__in=locked).values_list(
        "customer_id", "tag_id", "tag__name"
    ):
        tag_names.setdefault(customer_id, {})[tag_id] = name
    changed: dict[int, Customer] = {}
    new_contacts: list[Contact] = []
    new_tags: list[Any] = []
    stage_changes: list[StageChange] = []
    entries: list[CustomerChange] = []
    refused: list[dict[str, Any]] = []
    for row, pk in pairs:
        customer = locked.get(pk)
        if customer is None:
            refused.append({"line": row.line, "reasons": [{"code": "match_outside", "params": {}}]})
            continue
        values = {key: value for key, value in row.values.items() if key in UPDATABLE_FIELDS}
        tracked = [*values, "value_class", "stage"]
        before = snapshot(customer, tracked)
        for key, value in values.items():
            setattr(customer, key, value)
        if not customer.value_class_overridden:
            customer.value_class = value_class_for(customer.expected_annual_value)
        stage = row.values.get("stage")
        if stage and stage != customer.stage:
            stage_changes.append(
                StageChange(
                    customer=customer,
                    from_stage=customer.stage,
                    to_stage=stage,
                    changed_by=actor,
                    changed_at=now,
                )
            )
            customer.stage, customer.stage_changed_at = stage, now
        diff = difference(before, snapshot(customer, tracked))
        having = tag_names.setdefault(pk, {})
        added = [tag for tag in row.tags if tag.pk not in having]
        if added:
            new_tags += [through(customer_id=pk, tag_id=tag.pk) for tag in added]
            before_tags = "、".join(sorted(having.values()))
            having.update({tag.pk: tag.name for tag in added})
            diff["tags"] = [before_tags, "、".join(sorted(having.values()))]
        existing = contacts.setdefault(pk, [])
        if row.contact.get("name") and row.contact["name"] not in {contact.name for contact in existing}:
            contact = _new_contact(customer, row, primary=not any(c.is_primary for c in existing))
            new_contacts.append(contact)
            existing.append(contact)
            diff["contact"] = ["", str(contact)]
        if not diff:
            continue
        _set_keys(customer, existing)
        customer.version += 1
        customer.updated_at = now
        changed[customer.pk] = customer
        entries.append(
            CustomerChange(
                customer=customer,
                actor=actor,
                action=CustomerChange.Action.IMPORTED,
                changes=diff,
                note=note,
                at=now,
            )
        )
    Customer.objects.bulk_update(changed.values(), _WRITTEN_ON_UPDATE)
    Contact.objects.bulk_create(new_contacts)
    through.objects.bulk_create(new_tags, ignore_conflicts=True)
    StageChange.objects.bulk_create(stage_changes)
    CustomerChange.objects.bulk_create(entries)
    return len(pairs) - len(refused), refused
