"""Creating and changing customer profiles: numbers, keys, value class, stage and history."""

from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConcurrentEditError, DomainError
from accounts.numbering import next_number
from customers import normalize
from customers.models import PROFILE_FIELDS, Customer, CustomerChange, StageChange, Tag, value_class_for
from customers.services.history import difference, record_change, snapshot
from customers.services.review import customer_review_recheck

# What customer_update may change; anything else goes through its own service.
EDITABLE_FIELDS = PROFILE_FIELDS


def refresh_keys(customer: Customer, *, save: bool = True) -> None:
    """Recompute the normalised keys and the search text from the customer and its contacts.

    Called by every service that changes a name, phone, e-mail or contact.
    """
    contacts = list(customer.contacts.values_list("name", "phone", "email")) if customer.pk else []
    normalize.set_keys(customer, contacts)
    if save:
        Customer.objects.filter(pk=customer.pk).update(
            name_key=customer.name_key,
            phone_key=customer.phone_key,
            email_key=customer.email_key,
            search_text=customer.search_text,
        )


def _apply_value_class(customer: Customer) -> None:
    if not customer.value_class_overridden:
        customer.value_class = value_class_for(customer.expected_annual_value)


@transaction.atomic
def customer_create(*, actor, owner=None, collaborators=(), tags=(), **fields: Any) -> Customer:
    """A new customer owned by ``owner`` (default: the actor), waiting for the lead's review."""
    unknown = set(fields) - set(EDITABLE_FIELDS) - {"created_at", "stage"}
    if unknown:
        raise TypeError(f"Not a customer field: {', '.join(sorted(unknown))}")
    owner = owner or actor
    customer = Customer(**fields, owner=owner, team_id=owner.team_id, created_by=actor)
    customer.number = next_number("C")
    customer.stage_changed_at = timezone.now()
    _apply_value_class(customer)
    refresh_keys(customer, save=False)
    customer.save()
    if collaborators:
        customer.collaborators.set(collaborators)
    if tags:
        customer.tags.set(tags)
    StageChange.objects.create(customer=customer, from_stage="", to_stage=customer.stage, changed_by=actor)
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.CREATED)
    return customer


def _stale_edit() -> ConcurrentEditError:
    return ConcurrentEditError(
        _("Someone else saved this customer while you were editing. Reload the page to see their changes.")
    )


@transaction.atomic
def customer_update(*, actor, customer: Customer, version: int, **changes: Any) -> Customer:
    """Save profile changes made on a form read at ``version``; refuse if someone saved since."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not an editable customer field: {', '.join(sorted(unknown))}")
    fields = [*changes, "value_class"]
    before = snapshot(customer, fields)
    for name, value in changes.items():
        setattr(customer, name, value)
    _apply_value_class(customer)
    after = snapshot(customer, fields)
    diff = difference(before, after)
    if not diff:
        return customer
    # The version check and the write are one statement: two saves can never both win.
    customer.updated_at = timezone.now()
    updated = Customer.objects.filter(pk=customer.pk, version=version).update(
        **{name: getattr(customer, name) for name in fields},
        updated_at=customer.updated_at,
        version=F("version") + 1,
    )
    if not updated:
        raise _stale_edit()
    customer.version = version + 1
    refresh_keys(customer)
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.UPDATED, changes=diff)
    customer_review_recheck(customer, actor=actor)
    return customer


@transaction.atomic
def customer_set_stage(*, actor, customer: Customer, stage: str, note: str = "") -> Customer:
    """Move the lifecycle stage (潜在 → 意向 → 成交 → 流失), keeping the date of each change."""
    if stage not in Customer.Stage.values:
        raise DomainError(_("Unknown stage."), field="stage")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.stage == stage:
        return customer
    before = snapshot(locked, ["stage"])
    now = timezone.now()
    StageChange.objects.create(
        customer=locked, from_stage=locked.stage, to_stage=stage, changed_by=actor, changed_at=now
    )
    Customer.objects.filter(pk=locked.pk).update(stage=stage, stage_changed_at=now, version=F("version") + 1)
    customer.stage, customer.stage_changed_at, customer.version = stage, now, locked.version + 1
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.STAGE,
        changes=difference(before, snapshot(customer, ["stage"])),
        note=note,
    )
    return customer


@transaction.atomic
def customer_override_value_class(
    *, actor, customer: Customer, value_class: str | None, reason: str
) -> Customer:
    """A manager fixes the class (with a reason), or hands it back to the expected value (None)."""
    if value_class is not None and value_class not in Customer.ValueClass.values:
        raise DomainError(_("Unknown value class."), field="value_class")
    if value_class is not None and not reason.strip():
        raise DomainError(_("Say why the value class differs from the expected value."), field="reason")
    before = snapshot(customer, ["value_class"])
    customer.value_class_overridden = value_class is not None
    customer.value_class_reason = reason.strip() if value_class is not None else ""
    customer.value_class = value_class or value_class_for(customer.expected_annual_value)
    Customer.objects.filter(pk=customer.pk).update(
        value_class=customer.value_class,
        value_class_overridden=customer.value_class_overridden,
        value_class_reason=customer.value_class_reason,
        version=F("version") + 1,
    )
    customer.version += 1
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.VALUE_CLASS,
        changes=difference(before, snapshot(customer, ["value_class"])),
        note=customer.value_class_reason,
    )
    return customer


def _user_names(users: Iterable) -> str:
    return "、".join(sorted(str(user) for user in users))


@transaction.atomic
def customer_set_collaborators(*, actor, customer: Customer, collaborators: Iterable) -> bool:
    """Share the customer with exactly these users; returns whether anything changed."""
    collaborators = list(collaborators)
    before = list(customer.collaborators.all())
    if {user.pk for user in before} == {user.pk for user in collaborators}:
        return False
    customer.collaborators.set(collaborators)
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.UPDATED,
        changes={"collaborators": [_user_names(before), _user_names(collaborators)]},
    )
    return True


@transaction.atomic
def customer_create_with_details(
    *,
    actor,
    profile: dict[str, Any],
    stage: str = Customer.Stage.POTENTIAL,
    tags: Iterable[Tag] = (),
    collaborators: Iterable = (),
    contacts: Iterable[dict[str, Any]] = (),
    uploads: Iterable[UploadedFile] = (),
    attachment_category: str = "other",
) -> Customer:
    """The create form in one transaction: the profile, its contacts, tags and attachments.

    ``contacts`` come primary first (customers.forms.profiles.BaseContactFormSet.contacts);
    ``uploads`` were checked by the form and are checked again by ``attachment_add``. Files go
    last: the storage is not transactional, so every database step that could fail runs first.
    """
    # customers.services.related imports this module (refresh_keys), so it is imported here.
    from customers.services.related import attachment_add, contact_create, customer_set_tags

    customer = customer_create(actor=actor, collaborators=collaborators, stage=stage, **profile)
    if tags:
        customer_set_tags(actor=actor, customer=customer, tags=tags)
    for contact in contacts:
        contact_create(actor=actor, customer=customer, **contact)
    for upload in uploads:
        attachment_add(actor=actor, customer=customer, upload=upload, category=attachment_category)
    return customer


@transaction.atomic
def customer_edit(
    *,
    actor,
    customer: Customer,
    version: int,
    profile: dict[str, Any],
    stage: str | None = None,
    tags: Iterable[Tag] | None = None,
    collaborators: Iterable | None = None,
) -> Customer:
    """The edit form in one transaction, refused as a whole when the customer changed since
    ``version`` was read, even if only its tags or collaborators differ."""
    from customers.services.related import customer_set_tags

    current = Customer.objects.select_for_update().filter(pk=customer.pk).values_list("version", flat=True)
    if current.first() != version:
        raise _stale_edit()
    customer = customer_update(actor=actor, customer=customer, version=version, **profile)
    if stage is not None and stage != customer.stage:
        customer = customer_set_stage(actor=actor, customer=customer, stage=stage)
    related_changed = False
    if tags is not None:
        tags = list(tags)
        if {tag.pk for tag in tags} != {tag.pk for tag in customer.tags.all()}:
            customer_set_tags(actor=actor, customer=customer, tags=tags)
            related_changed = True
    if collaborators is not None:
        related_changed |= customer_set_collaborators(
            actor=actor, customer=customer, collaborators=collaborators
        )
    if related_changed and customer.version == version:
        # Tags and collaborators are part of what the form read: a later stale form must fail too.
        Customer.objects.filter(pk=customer.pk).update(version=F("version") + 1)
        customer.version = version + 1
    return customer
