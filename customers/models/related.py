"""Records that belong to one customer: contacts, attachments, history and stage changes.

Each is scoped through its customer (``scope_q(user, prefix="customer__")``) and moved to the
survivor when two customers are merged (customers.merging).
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models.customer import Customer


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    # Normalised keys (customers.normalize) for duplicate warnings and search.
    phone_key = models.CharField(max_length=40, blank=True, editable=False)
    email_key = models.CharField(max_length=254, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(is_primary=True), name="contact_one_primary"
            )
        ]
        indexes = [
            # Duplicate warnings: a new customer's phone or e-mail matching a contact's.
            models.Index(fields=["phone_key"], name="contact_phone_key"),
            models.Index(fields=["email_key"], name="contact_email_key"),
            # The birthday care sweep (interactions.services.care): birthdays by (month, day).
            models.Index(
                ExtractMonth("birthday"),
                ExtractDay("birthday"),
                condition=models.Q(birthday__isnull=False),
                name="contact_birthday_md",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name


def attachment_path(instance: "Attachment", filename: str) -> str:
    """A random name under a dated folder: the uploader's file name is never used on disk."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    class Category(models.TextChoices):
        BUSINESS_CARD = "business_card", _("Business card")
        SCREENSHOT = "screenshot", _("Screenshot")
        REQUIREMENTS = "requirements", _("Requirements document")
        CONTRACT = "contract", _("Contract")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="attachments"
    )
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    # Stored outside the web root (MEDIA_ROOT is not served); downloads go through a scoped view.
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    # Detected from the content on upload (customers.uploads), never taken from the browser.
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    description = models.CharField(_("description"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class CustomerChange(models.Model):
    """One entry of a customer's history: who did what, when, with old → new values.

    Written by the services in the same transaction as the change it records.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        STAGE = "stage", _("Stage changed")
        VALUE_CLASS = "value_class", _("Value class overridden")
        TRANSFERRED = "transferred", _("Transferred")
        TAGS = "tags", _("Tags changed")
        CONTACT = "contact", _("Contact changed")
        ATTACHMENT = "attachment", _("Attachment changed")
        REVIEWED = "reviewed", _("Reviewed")
        FLAGGED = "flagged", _("Flagged as incomplete")
        MERGED = "merged", _("Merged")
        DELETED = "deleted", _("Moved to the recycle bin")
        RESTORED = "restored", _("Restored")
        IMPORTED = "imported", _("Imported")
        PERSONAL_DATA_EXPORTED = "pd_exported", _("Personal data exported")
        ERASED = "erased", _("Personal data erased")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="changes"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {field name: [old display value, new display value]}, as shown to the reader.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer history entry")
        verbose_name_plural = _("customer history")
        ordering = ["-at", "-pk"]
        indexes = [
            # The history on the customer page and the timeline, newest first.
            models.Index(fields=["customer", "-at"], name="customerchange_customer_at"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class StageChange(models.Model):
    """Every lifecycle stage change with its date (SPEC 2), for history, churn and conversion."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(_("from"), max_length=10, choices=Customer.Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=10, choices=Customer.Stage.choices)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at"]
        indexes = [
            models.Index(fields=["customer", "-changed_at"], name="stagechange_customer"),
            # Analytics: customers that became lost / deal within a period (churn, conversion).
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_at"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage} → {self.to_stage}"


class ReviewNotice(models.Model):
    """One "profile still incomplete" notice to a team lead, delivered in the lead's digest.

    Written in the transaction that flags the customer; the digest sweep claims pending notices
    with a conditional update (pending → sending), sends one e-mail per lead, and marks them
    sent. A notice stuck in ``sending`` past a lease (a worker died) is pending again on the next
    sweep; a failed e-mail is retried on the next sweep. So a lead hears of each flag, once.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="review_notices"
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("team lead"), on_delete=models.CASCADE, related_name="+"
    )
    flagged_at = models.DateTimeField(_("flagged"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("review notice")
        verbose_name_plural = _("review notices")
        constraints = [
            # One notice per flag: a second sweep over the same flag cannot add another.
            models.UniqueConstraint(fields=["customer", "flagged_at"], name="reviewnotice_once_per_flag")
        ]
        indexes = [
            # The digest sweep: pending notices, and sending ones past their lease.
            models.Index(fields=["state", "claimed_at"], name="reviewnotice_state_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.lead_id}: {self.state}"
