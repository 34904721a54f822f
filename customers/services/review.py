"""Profile review (建档审核): the lead's decision, the review state following completeness, and
the sweep that flags profiles still incomplete after CUSTOMER_REVIEW_HOURS and tells the leads."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.errors import DomainError
from customers.completeness import missing_information
from customers.models import Customer, CustomerChange, ReviewNotice
from customers.selectors_lifecycle import REVIEW_OPEN, missing_for, with_primary_contact
from customers.services.history import difference, record_change, snapshot

logger = logging.getLogger(__name__)


def customer_review_recheck(customer: Customer, *, actor=None) -> bool:
    """After a profile edit: a returned profile that is now complete waits for review again.

    Also lifts the incomplete flag of a completed profile. Called by the profile and contact
    services after each change, in their transaction; returns whether anything changed.
    """
    if customer.review_status not in REVIEW_OPEN or missing_information(customer):
        return False
    updates: dict[str, Any] = {}
    if customer.review_status == Customer.ReviewStatus.RETURNED:
        updates["review_status"] = Customer.ReviewStatus.PENDING
    if customer.review_flagged_at is not None:
        updates["review_flagged_at"] = None
    if not updates:
        return False
    with transaction.atomic():
        changed = Customer.objects.filter(pk=customer.pk, review_status=customer.review_status).update(
            **updates
        )
        if not changed:
            return False
        before = snapshot(customer, ["review_status"])
        for name, value in updates.items():
            setattr(customer, name, value)
        diff = difference(before, snapshot(customer, ["review_status"]))
        if diff:
            record_change(customer=customer, actor=actor, action=CustomerChange.Action.REVIEWED, changes=diff)
    return True


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
