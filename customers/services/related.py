"""Contacts, attachments and tags of a customer; each change is in the customer's history."""

from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from customers import normalize
from customers.models import Attachment, Contact, Customer, CustomerChange, Tag
from customers.services.history import difference, record_change, snapshot
from customers.services.profiles import refresh_keys
from customers.services.review import customer_review_recheck
from customers.uploads import check_attachment

CONTACT_FIELDS = ["name", "title", "phone", "email", "wechat", "birthday", "is_primary", "notes"]


def _set_keys(contact: Contact) -> None:
    contact.phone_key = normalize.phone_key(contact.phone)
    contact.email_key = normalize.email_key(contact.email)


def _make_primary(contact: Contact) -> None:
    """One primary contact per customer (a partial unique constraint backs this)."""
    contact.customer.contacts.exclude(pk=contact.pk).filter(is_primary=True).update(is_primary=False)


@transaction.atomic
def contact_create(*, actor, customer: Customer, **fields: Any) -> Contact:
    contact = Contact(customer=customer, **fields)
    # The first contact of a customer is its primary one.
    if not contact.is_primary and not customer.contacts.filter(is_primary=True).exists():
        contact.is_primary = True
    _set_keys(contact)
    if contact.is_primary:
        _make_primary(contact)
    contact.save()
    refresh_keys(customer)
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.CONTACT,
        changes={"contact": ["", str(contact)]},
    )
    customer_review_recheck(customer, actor=actor)
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, **changes: Any) -> Contact:
    fields = list(changes)
    before = snapshot(contact, fields)
    for name, value in changes.items():
        setattr(contact, name, value)
    diff = difference(before, snapshot(contact, fields))
    if not diff:
        return contact
    _set_keys(contact)
    if contact.is_primary:
        _make_primary(contact)
    contact.save()
    refresh_keys(contact.customer)
    # Keys name the field (translated when read, customers.services.history.describe); the note
    # says which contact.
    record_change(
        customer=contact.customer,
        actor=actor,
        action=CustomerChange.Action.CONTACT,
        changes={f"contact:{name}": pair for name, pair in diff.items()},
        note=contact.name,
    )
    customer_review_recheck(contact.customer, actor=actor)
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    customer = contact.customer
    was_primary = contact.is_primary
    label = str(contact)
    contact.delete()
    if was_primary and (successor := customer.contacts.order_by("created_at").first()):
        successor.is_primary = True
        successor.save(update_fields=["is_primary"])
    refresh_keys(customer)
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.CONTACT,
        changes={"contact": [label, ""]},
    )
    customer_review_recheck(customer, actor=actor)


@transaction.atomic
def attachment_add(
    *,
    actor,
    customer: Customer,
    upload: UploadedFile,
    category: str = Attachment.Category.OTHER,
    description: str = "",
) -> Attachment:
    """Store an upload after checking its content; raises ValidationError for a refused file."""
    detected = check_attachment(upload)
    attachment = Attachment(
        customer=customer,
        category=category,
        original_name=upload.name[:255],
        content_type=detected.content_type,
        size=upload.size,
        description=description,
        uploaded_by=actor,
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.ATTACHMENT,
        changes={"attachment": ["", attachment.original_name]},
    )
    return attachment


@transaction.atomic
def attachment_delete(*, actor, attachment: Attachment) -> None:
    customer, name = attachment.customer, attachment.original_name
    stored = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    # The file goes only once the row is surely gone.
    transaction.on_commit(lambda: storage.delete(stored))
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.ATTACHMENT,
        changes={"attachment": [name, ""]},
    )


def _tag_names(tags: Iterable[Tag]) -> str:
    return "、".join(sorted(tag.name for tag in tags))


@transaction.atomic
def customer_set_tags(*, actor, customer: Customer, tags: Iterable[Tag]) -> None:
    tags = list(tags)
    before = list(customer.tags.all())
    if {tag.pk for tag in before} == {tag.pk for tag in tags}:
        return
    customer.tags.set(tags)
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.TAGS,
        changes={"tags": [_tag_names(before), _tag_names(tags)]},
    )


@transaction.atomic
def customers_change_tag(*, actor, customers: Iterable[Customer], tag: Tag, add: bool) -> int:
    """Bulk: add or remove one tag on many customers; returns how many changed."""
    through = Customer.tags.through
    ids = [customer.pk for customer in customers]
    having = set(through.objects.filter(customer_id__in=ids, tag=tag).values_list("customer_id", flat=True))
    if add:
        changed = [pk for pk in ids if pk not in having]
        through.objects.bulk_create(
            [through(customer_id=pk, tag=tag) for pk in changed], ignore_conflicts=True
        )
    else:
        changed = [pk for pk in ids if pk in having]
        through.objects.filter(customer_id__in=changed, tag=tag).delete()
    pair = ["", tag.name] if add else [tag.name, ""]
    CustomerChange.objects.bulk_create(
        [
            CustomerChange(
                customer_id=pk, actor=actor, action=CustomerChange.Action.TAGS, changes={"tags": pair}
            )
            for pk in changed
        ]
    )
    return len(changed)
