"""Transfer (客户转移), profile review (建档审核), the recycle bin (回收站) and personal-data requests.

Each service writes the customer's history in the same transaction as the change it records.
Files of deleted attachments leave storage only once the transaction has committed.
"""

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, ProtectedError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.errors import DomainError
from customers import hooks
from customers.completeness import missing_information
from customers.models import Attachment, Contact, Customer, CustomerChange, ReviewNotice
from customers.selectors_lifecycle import REVIEW_OPEN, missing_for, with_primary_contact
from customers.services.history import difference, record_change, snapshot
from customers.services.profiles import refresh_keys
from customers.services.review import customer_review_recheck  # noqa: F401  (re-exported)

logger = logging.getLogger(__name__)
audit = logging.getLogger("crm.audit")


@transaction.atomic
def customers_transfer(*, actor, customers: Iterable[Customer], new_owner, note: str = "") -> int:
    """Give customers to ``new_owner`` (one or in bulk); their team follows the new owner.

    Open follow-up tasks and other owned work move too, through the apps' transfer hooks.
    Returns how many customers changed owner.
    """
    if not new_owner.is_active:
        raise DomainError(_("%(user)s is not an active user.") % {"user": new_owner}, field="owner")
    moving = [customer for customer in customers if customer.owner_id != new_owner.pk]
    if not moving:
        return 0
    ids = [customer.pk for customer in moving]
    Customer.objects.filter(pk__in=ids).update(
        owner=new_owner, team_id=new_owner.team_id, version=F("version") + 1
    )
    for handler in hooks.transfer_handlers():
        handler(ids, new_owner, actor)
    CustomerChange.objects.bulk_create(
        [
            CustomerChange(
                customer_id=customer.pk,
                actor=actor,
                action=CustomerChange.Action.TRANSFERRED,
                changes={"owner": [str(customer.owner), str(new_owner)]},
                note=note,
            )
            for customer in moving
        ]
    )
    return len(moving)


# --- Profile review (建档审核) ----------------------------------------------------------------


def _listing(labels: Iterable[Any]) -> str:
    # Translators: separates the items of a list such as "industry, source"; Chinese uses "、".
    return pgettext("list separator", ", ").join(str(label) for label in labels)


@transaction.atomic
def customer_review(*, actor, customer: Customer, approve: bool, note: str = "") -> Customer:
    """The lead approves a complete profile, or returns it to the owner with a note saying what to add.

    Refuses to approve while ``customers.completeness`` finds something missing. The owner reads
    ``review_status`` and ``review_note`` on the customer page.
    """
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    note = note.strip()
    if locked.review_status == Customer.ReviewStatus.APPROVED:
        raise DomainError(_("This profile has already been approved."))
    if approve:
        missing = missing_information(locked)
        if missing:
            raise DomainError(
                _("The profile cannot be approved while information is missing: %(missing)s.")
                % {"missing": _listing(missing)}
            )
        status = Customer.ReviewStatus.APPROVED
    else:
        if not note:
            raise DomainError(_("Say what the owner should complete."), field="note")
        status = Customer.ReviewStatus.RETURNED
    before = snapshot(locked, ["review_status"])
    fields = {
        "review_status": status,
        "reviewed_by": actor,
        "reviewed_at": timezone.now(),
        "review_note": note,
    }
    if approve:
        fields["review_flagged_at"] = None
    # Review fields are not on the profile form: the version stays, so no edit in progress fails.
    Customer.objects.filter(pk=locked.pk).update(**fields)
    for name, value in fields.items():
        setattr(customer, name, value)
    record_change(
        customer=customer,
        actor=actor,
        action=CustomerChange.Action.REVIEWED,
        changes=difference(before, snapshot(customer, ["review_status"])),
        note=note,
    )
    return customer


def customers_flag_incomplete(*, now: datetime | None = None) -> list[int]:
    """Flag profiles still incomplete ``CUSTOMER_REVIEW_HOURS`` after creation; returns the ids flagged.

    Each flag is a conditional update, so a second run (or two workers at once) flags nothing
    twice and only the rows this run flagged are returned (and mailed to the leads).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.CUSTOMER_REVIEW_HOURS)
    candidates = (
        with_primary_contact(
            Customer.objects.alive().filter(
                review_status__in=REVIEW_OPEN, review_flagged_at__isnull=True, created_at__lt=cutoff
            )
        )
        .select_related("team__lead")
        .order_by("pk")
    )
    flagged = []
    for customer in candidates.iterator(chunk_size=500):
        missing = missing_for(customer)
        if not missing:
            continue
        with transaction.atomic():
            claimed = Customer.objects.filter(
                pk=customer.pk,
                review_flagged_at__isnull=True,
                review_status__in=REVIEW_OPEN,
                deleted_at__isnull=True,
            ).update(review_flagged_at=now)
            if not claimed:
                continue
            with translation.override(settings.LANGUAGE_CODE):
                note = _("Missing: %(missing)s") % {"missing": _listing(missing)}
            record_change(customer=customer, actor=None, action=CustomerChange.Action.FLAGGED, note=note)
            lead = customer.team.lead if customer.team_id else None
            if lead is not None and lead.is_active and lead.email:
                ReviewNotice.objects.create(customer=customer, lead=lead, flagged_at=now)
            else:
                logger.info("No team lead to tell that customer %s is incomplete", customer.number)
        flagged.append(customer.pk)
    return flagged


def _absolute(path: str) -> str:
    # SITE_URL (e.g. https://crm.example.com) makes links in e-mails absolute when configured.
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


# A notice claimed longer ago than this is taken to belong to a worker that died.
NOTICE_LEASE = timedelta(minutes=10)


def review_digests_send(*, now: datetime | None = None) -> int:
    """E-mail each team lead one digest of their pending "incomplete profile" notices.

    Rendered in the lead's language and time zone. Notices are claimed per lead with a
    conditional update, so two workers never send the same one; a failed e-mail leaves them
    pending for the next sweep, and the other leads still get theirs. Returns the e-mails sent.
    """
    now = now or timezone.now()
    ReviewNotice.objects.filter(state=ReviewNotice.State.SENDING, claimed_at__lt=now - NOTICE_LEASE).update(
        state=ReviewNotice.State.PENDING
    )
    pending = ReviewNotice.objects.filter(state=ReviewNotice.State.PENDING)
    sent = 0
    for lead_id in pending.values_list("lead_id", flat=True).distinct().order_by("lead_id"):
        claimed = pending.filter(lead_id=lead_id).update(
            state=ReviewNotice.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        if not claimed:
            continue
        notices = ReviewNotice.objects.filter(
            lead_id=lead_id, state=ReviewNotice.State.SENDING, claimed_at=now
        )
        ids = list(notices.values_list("pk", flat=True))
        customers = with_primary_contact(
            Customer.objects.alive().filter(review_notices__in=ids).select_related("owner", "team")
        ).order_by("created_at", "pk")
        lead = get_user_model().objects.get(pk=lead_id)
        try:
            if customers and lead.is_active and lead.email:
                _send_digest(lead, list(customers))
                sent += 1
        except Exception:
            logger.exception("The incomplete-profile digest to %s failed; retried next time", lead.username)
            ReviewNotice.objects.filter(pk__in=ids).update(state=ReviewNotice.State.PENDING)
            continue
        ReviewNotice.objects.filter(pk__in=ids).update(state=ReviewNotice.State.SENT, sent_at=timezone.now())
    return sent


def _send_digest(lead, flagged: list[Customer]) -> None:
    language = lead.language or settings.LANGUAGE_CODE
    zone = ZoneInfo(lead.time_zone or settings.TIME_ZONE)
    with translation.override(language), timezone.override(zone):
        rows = []
        for customer in flagged:
            detail = reverse("customers:customer-detail", args=[customer.pk])
            rows.append({"customer": customer, "missing": missing_for(customer), "url": _absolute(detail)})
        context = {
            "lead": lead,
            "rows": rows,
            "count": len(rows),
            "hours": settings.CUSTOMER_REVIEW_HOURS,
            "review_url": _absolute(reverse("customers:review-list") + "?status=flagged"),
        }
        subject = " ".join(render_to_string("emails/incomplete_profiles_subject.txt", context).split())
        text = render_to_string("emails/incomplete_profiles_body.txt", context)
        html = render_to_string("emails/incomplete_profiles_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[lead.email])
    message.attach_alternative(html, "text/html")
    message.send()


# --- Recycle bin (回收站) -------------------------------------------------------------------


@transaction.atomic
def customer_delete(*, actor, customer: Customer) -> Customer:
    """Move a customer to the recycle bin: hidden from every page until restored or purged."""
    now = timezone.now()
    moved = Customer.objects.filter(pk=customer.pk, deleted_at__isnull=True).update(
        deleted_at=now, deleted_by=actor, version=F("version") + 1
    )
    if not moved:
        raise DomainError(_("This customer is already in the recycle bin."))
    customer.deleted_at, customer.deleted_by = now, actor
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.DELETED)
    return customer


@transaction.atomic
def customer_restore(*, actor, customer: Customer) -> Customer:
    """Bring a customer back from the recycle bin (merged customers stay merged)."""
    restored = Customer.objects.filter(
        pk=customer.pk, deleted_at__isnull=False, merged_into__isnull=True
    ).update(deleted_at=None, deleted_by=None, version=F("version") + 1)
    if not restored:
        raise DomainError(_("This customer is not in the recycle bin."))
    customer.deleted_at, customer.deleted_by = None, None
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.RESTORED)
    return customer


def _merged_into_chain(customer: Customer) -> list[int]:
    """The customer and every customer merged into it (directly or through another)."""
    ids, frontier = [customer.pk], [customer.pk]
    while frontier:
        frontier = list(Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def _delete_files_on_commit(names: list[str]) -> None:
    storage = Attachment._meta.get_field("file").storage

    def delete() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Could not delete the attachment file %s", name)

    if names:
        transaction.on_commit(delete)


@transaction.atomic
def customer_purge(*, actor, customer: Customer) -> None:
    """Remove a customer in the recycle bin for good: the row, its records and its files.

    The merged-away shells pointing at it go too (their records already moved to it). There is
    no audit model yet: the purge is written to the ``crm.audit`` log.
    """
    if customer.deleted_at is None:
        raise DomainError(_("Only customers in the recycle bin can be purged."))
    number = customer.number
    ids = _merged_into_chain(customer)
    files = [
        stored
        for stored in Attachment.objects.filter(customer_id__in=ids).values_list("file", flat=True)
        if stored
    ]
    try:
        Customer.objects.filter(pk__in=ids).delete()
    except ProtectedError:
        raise DomainError(
            _("This customer still has records that must be kept, so it cannot be purged.")
        ) from None
    _delete_files_on_commit(files)
    username = actor.get_username()
    transaction.on_commit(lambda: audit.info("%s purged customer %s", username, number))


# --- Personal data (个人信息, PIPL) ----------------------------------------------------------

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


def _record(instance, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
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
    profile = _record(customer, exclude=_INTERNAL_FIELDS)
    profile["tags"] = sorted(tag.name for tag in customer.tags.all())
    profile["collaborators"] = sorted(str(user) for user in customer.collaborators.all())
    contacts = [
        _record(contact, exclude={"customer", "phone_key", "email_key"})
        for contact in Contact.objects.filter(customer=customer).order_by("pk")
    ]
    attachments = [
        _record(attachment, exclude={"customer", "file"})
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
    return {"customer": profile, "contacts": contacts, "attachments": attachments, "history": history}


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
    _delete_files_on_commit(files)
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
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.ERASED)
    return customer
