"""Personal data requests (个人信息保护法, PIPL): export of one customer's data, and erasure."""

import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from customers import hooks
from customers.models import Attachment, Contact, Customer, CustomerChange
from customers.services.history import record_change
from customers.services.profiles import refresh_keys
from customers.services.recycle import delete_files_on_commit

# Internal columns left out of the export: derived from the exported values.
_INTERNAL_FIELDS = {"name_key", "phone_key", "email_key", "search_text", "version"}

# Cleared on erasure (the name is replaced). The customer's business records stay.
ERASED_VALUES: dict[str, Any] = {
    "phone": "",
    "email": "",
    "id_card_number": "",
    "bank_card_number": "",
    "birthday": None,
    "age": None,
    "gender": "",
    "occupation": "",
    "address": "",
    "website": "",
    "notes": "",
    "needs": "",
}

# History keys whose values are business facts, kept on erasure; every other value is scrubbed.
_BUSINESS_KEYS = {
    "kind",
    "industry",
    "employee_band",
    "revenue_band",
    "source",
    "first_contact_date",
    "region",
    "province",
    "city",
    "expected_annual_value",
    "value_class",
    "stage",
    "review_status",
    "tags",
    "owner",  # user names, not the customer's personal data
}
SCRUBBED = "—"


def _plain(value: Any) -> Any:
    if hasattr(value, "_meta"):  # a related record: its name, as the page shows it
        return str(value)
    return value


def plain_record(instance, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A record's fields as plain values for the personal-data export (related records by name)."""
    skip = set(exclude)
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in skip:
            continue
        data[field.name] = (
            _plain(getattr(instance, field.name)) if field.is_relation else field.value_from_object(instance)
        )
    return data


def customer_personal_data(customer: Customer) -> dict[str, Any]:
    """Everything held about one customer, unmasked: the profile (ID and bank numbers decrypted),
    contacts, the attachments' metadata and the history. The only unmasked export there is."""
    profile = plain_record(customer, exclude=_INTERNAL_FIELDS)
    profile["tags"] = sorted(tag.name for tag in customer.tags.all())
    profile["collaborators"] = sorted(str(user) for user in customer.collaborators.all())
    contacts = [
        plain_record(contact, exclude={"customer", "phone_key", "email_key"})
        for contact in Contact.objects.filter(customer=customer).order_by("pk")
    ]
    attachments = [
        plain_record(attachment, exclude={"customer", "file"})
        for attachment in Attachment.objects.filter(customer=customer)
        .select_related("uploaded_by")
        .order_by("pk")
    ]
    history = [
        {
            "at": change.at,
            "action": change.action,
            "actor": str(change.actor) if change.actor else "",
            "changes": change.changes,
            "note": change.note,
        }
        for change in CustomerChange.objects.filter(customer=customer)
        .select_related("actor")
        .order_by("at", "pk")
    ]
    data = {"customer": profile, "contacts": contacts, "attachments": attachments, "history": history}
    # Records other apps keep about the customer (interactions, tasks, …), one query each.
    for name, provider in hooks.personal_data_providers().items():
        data[name] = provider(customer)
    return data


@transaction.atomic
def customer_personal_data_export(*, actor, customer: Customer) -> bytes:
    """The JSON file of ``customer_personal_data``; the export itself goes into the history."""
    data = {"exported_at": timezone.now(), "exported_by": str(actor), **customer_personal_data(customer)}
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.PERSONAL_DATA_EXPORTED)
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def scrub_changes(changes: dict[str, Any], *, keep: set[str]) -> dict[str, Any]:
    """Keep which fields changed; replace personal old/new values (and names in keys) with "—"."""
    scrubbed = {}
    for key, values in changes.items():
        if key in keep:
            scrubbed[key] = values
            continue
        if isinstance(values, list):
            scrubbed[key] = [SCRUBBED if value not in ("", None) else value for value in values]
        else:
            scrubbed[key] = SCRUBBED
    return scrubbed


@transaction.atomic
def customer_erase(*, actor, customer: Customer) -> Customer:
    """Anonymise a customer on request (PIPL): personal values, contacts and attachments go; the
    customer, its number and its business records stay. The erasure is recorded, without data."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.erased_at is not None:
        raise DomainError(_("The personal data of this customer was already erased."))
    now = timezone.now()
    # Stored data, not a page: written in the site's language whoever asks.
    with translation.override(settings.LANGUAGE_CODE):
        name = _("Erased customer %(number)s") % {"number": locked.number}
    files = [
        stored
        for stored in Attachment.objects.filter(customer=locked).values_list("file", flat=True)
        if stored
    ]
    Attachment.objects.filter(customer=locked).delete()
    Contact.objects.filter(customer=locked).delete()
    delete_files_on_commit(files)
    values = {**ERASED_VALUES, "name": name, "erased_at": now}
    for field, value in values.items():
        setattr(customer, field, value)
    customer.updated_at = now
    # The version moves on, so a profile form opened before the erasure cannot write data back.
    Customer.objects.filter(pk=locked.pk).update(**values, updated_at=now, version=F("version") + 1)
    customer.version = locked.version + 1
    refresh_keys(customer)
    entries = list(CustomerChange.objects.filter(customer=locked))
    for entry in entries:
        entry.changes = scrub_changes(entry.changes, keep=_BUSINESS_KEYS)
        # A contact entry's note is the contact's name (customers.services.related).
        if entry.action == CustomerChange.Action.CONTACT and entry.note:
            entry.note = SCRUBBED
    CustomerChange.objects.bulk_update(entries, ["changes", "note"], batch_size=500)
    # The other apps clear what their own records say about the customer (hooks.register_erase).
    cleared = sum(handler(locked, actor) for handler in hooks.erase_handlers())
    with translation.override(settings.LANGUAGE_CODE):
        note = _("Texts of %(count)s related records cleared.") % {"count": cleared} if cleared else ""
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.ERASED, note=note)
    return customer
