from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractDay, ExtractMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import ScopedQuerySet
from accounts.crypto import EncryptedCharField, mask
from customers.models.lookups import Industry, Source, Tag


class CustomerQuerySet(ScopedQuerySet):
    scope_owner = "owner"
    scope_team = "team"
    scope_shared = "collaborators"

    def alive(self) -> "CustomerQuerySet":
        """Not in the recycle bin and not merged away: what every page but the bin works on."""
        return self.filter(deleted_at__isnull=True)

    def in_recycle_bin(self) -> "CustomerQuerySet":
        return self.filter(deleted_at__isnull=False, merged_into__isnull=True)

    def without_next_step(self) -> "CustomerQuerySet":
        """No open follow-up planned (SPEC 3 workbench: customers with no next step)."""
        return self.filter(next_follow_up_at__isnull=True).exclude(stage="lost")


class Customer(models.Model):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        INDIVIDUAL = "individual", _("Individual")

    class Stage(models.TextChoices):
        POTENTIAL = "potential", _("Potential")
        INTENT = "intent", _("Intent")
        DEAL = "deal", _("Deal")
        LOST = "lost", _("Lost")

    class ValueClass(models.TextChoices):
        A = "A", pgettext_lazy("customer value class", "A")
        B = "B", pgettext_lazy("customer value class", "B")
        C = "C", pgettext_lazy("customer value class", "C")

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class Region(models.TextChoices):
        DOMESTIC = "domestic", _("Mainland China")
        OVERSEAS = "overseas", _("Overseas")

    class EmployeeBand(models.TextChoices):
        MICRO = "1-9", _("1–9 employees")
        SMALL = "10-49", _("10–49 employees")
        MEDIUM = "50-199", _("50–199 employees")
        LARGE = "200-999", _("200–999 employees")
        HUGE = "1000+", _("1,000+ employees")

    class RevenueBand(models.TextChoices):
        UNDER_5M = "<5m", _("Under ¥5 million")
        UNDER_50M = "5m-50m", _("¥5–50 million")
        UNDER_500M = "50m-500m", _("¥50–500 million")
        OVER_500M = "500m+", _("Over ¥500 million")

    class ReviewStatus(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for completion")

    number = models.CharField(_("customer number"), max_length=20, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.ENTERPRISE)
    name = models.CharField(_("name"), max_length=200)
    # Enterprise profile
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.PROTECT, null=True, blank=True
    )
    employee_band = models.CharField(_("employees"), max_length=10, choices=EmployeeBand.choices, blank=True)
    revenue_band = models.CharField(
        _("annual revenue"), max_length=10, choices=RevenueBand.choices, blank=True
    )
    website = models.URLField(_("website"), blank=True)
    # Individual profile
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    # Private data of individuals: encrypted at rest, masked unless customers.privacy allows.
    id_card_number = EncryptedCharField(_("ID card number"), max_length=18)
    bank_card_number = EncryptedCharField(_("bank card number"), max_length=23)
    # Both kinds
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    needs = models.TextField(_("needs"), blank=True)
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, null=True, blank=True
    )
    first_contact_date = models.DateField(_("first contact date"), null=True, blank=True)
    region = models.CharField(_("region"), max_length=10, choices=Region.choices, default=Region.DOMESTIC)
    province = models.CharField(_("province"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    # Normalised keys (customers.normalize), kept in step by customers.services.profiles.refresh_keys:
    # duplicate warnings, the dedupe scan and list search read them.
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    phone_key = models.CharField(max_length=40, blank=True, editable=False)
    email_key = models.CharField(max_length=254, blank=True, editable=False)
    # Number, name, contact names, phones and e-mails of the customer and its contacts, lowercased:
    # the list's search box is one ILIKE on this column, backed by a trigram index (migration 0004).
    search_text = models.TextField(blank=True, editable=False)
    # Classification
    expected_annual_value = models.DecimalField(
        _("expected annual contract value (¥)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    value_class = models.CharField(
        _("value class"), max_length=1, choices=ValueClass.choices, default=ValueClass.C
    )
    # A manager may fix the class by hand; then it no longer follows the expected value.
    value_class_overridden = models.BooleanField(_("value class set by a manager"), default=False)
    value_class_reason = models.CharField(_("reason for the value class"), max_length=255, blank=True)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.POTENTIAL)
    stage_changed_at = models.DateTimeField(_("stage changed"), null=True, blank=True)
    # Kept by the interactions app (issue 4) so lists need no extra query: the last interaction,
    # and the due time of the earliest open follow-up task (none means "no next step").
    last_contacted_at = models.DateTimeField(_("last contacted"), null=True, blank=True)
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    # Ownership and scope (accounts.access): the owner's team is kept in step on every transfer.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("collaborators"), blank=True, related_name="shared_customers"
    )
    # Profile review (建档审核): the team lead checks a new profile for completeness.
    review_status = models.CharField(
        _("review"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    # Set once by the sweep customers.tasks.flag_incomplete_profiles: still incomplete 24 hours
    # after creation. Cleared when the profile is completed or approved.
    review_flagged_at = models.DateTimeField(_("flagged as incomplete"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A default rather than auto_now_add, so imports and demo data can keep historical dates.
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Soft deletion (回收站): a deleted customer is hidden everywhere but the recycle bin until a
    # manager restores it or an administrator purges it. A merged customer is deleted too, and
    # points at the survivor so its old URL redirects.
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_from",
    )
    # PIPL erasure: the personal data was anonymised on request at this time.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)
    # Optimistic locking: a save carries the version it read and fails if someone saved since.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        permissions = [
            ("merge_customer", _("Can merge duplicate customers")),
            ("transfer_customer", _("Can transfer customers to another owner")),
            ("review_customer", _("Can review customer profiles")),
            ("override_value_class", _("Can override a customer's value class")),
            ("import_customer", _("Can import customers")),
            ("export_customer", _("Can export customers")),
            ("restore_customer", _("Can restore customers from the recycle bin")),
            ("purge_customer", _("Can permanently delete customers")),
            ("view_private_data", _("Can see unmasked personal data of customers in scope")),
            ("erase_personal_data", _("Can export and erase a customer's personal data")),
        ]
        indexes = [
            # The default customer list: newest first within a scope (owner, team, or all).
            models.Index(fields=["owner", "-created_at"], name="customer_owner_created"),
            models.Index(fields=["team", "-created_at"], name="customer_team_created"),
            models.Index(fields=["-created_at"], name="customer_created"),
            # Duplicate warnings, the dedupe scan, and search by phone or e-mail.
            models.Index(fields=["name_key"], name="customer_name_key"),
            models.Index(fields=["phone_key"], name="customer_phone_key"),
            models.Index(fields=["email_key"], name="customer_email_key"),
            # List filters and sorts (customers.filters.CustomerFilter).
            models.Index(fields=["kind", "-created_at"], name="customer_kind_created"),
            models.Index(fields=["value_class", "-created_at"], name="customer_class_created"),
            models.Index(fields=["stage", "-created_at"], name="customer_stage_created"),
            models.Index(fields=["region", "province", "city"], name="customer_region"),
            models.Index(fields=["province", "city"], name="customer_province_city"),
            models.Index(fields=["city"], name="customer_city"),
            models.Index(fields=["review_status", "-created_at"], name="customer_review_created"),
            models.Index(fields=["first_contact_date"], name="customer_first_contact"),
            models.Index(fields=["name"], name="customer_name"),
            models.Index(fields=["updated_at"], name="customer_updated"),
            models.Index(fields=["expected_annual_value"], name="customer_value"),
            models.Index(fields=["last_contacted_at"], name="customer_last_contacted"),
            models.Index(fields=["next_follow_up_at"], name="customer_next_follow_up"),
            # The lead's review queue and the 24-hour incomplete-profile sweep.
            models.Index(
                fields=["team", "created_at"],
                condition=Q(review_status="pending", deleted_at__isnull=True),
                name="customer_review_pending",
            ),
            # The recycle bin.
            models.Index(
                fields=["-deleted_at"], condition=Q(deleted_at__isnull=False), name="customer_deleted"
            ),
            # The birthday care sweep (interactions.services.care): birthdays by (month, day).
            models.Index(
                ExtractMonth("birthday"),
                ExtractDay("birthday"),
                condition=Q(birthday__isnull=False),
                name="customer_birthday_md",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    def get_absolute_url(self) -> str:
        return reverse("customers:customer-detail", args=[self.pk])

    @property
    def is_enterprise(self) -> bool:
        return self.kind == self.Kind.ENTERPRISE

    @property
    def id_card_masked(self) -> str:
        return mask(self.id_card_number, keep_start=3, keep_end=4)

    @property
    def bank_card_masked(self) -> str:
        return mask(self.bank_card_number, keep_start=0, keep_end=4)


# The profile fields by kind (SPEC 2), in form order: the one list that the profile form, the
# services, the import and the merge screen all read.
ENTERPRISE_FIELDS = ["industry", "employee_band", "revenue_band", "website"]
PRIVATE_FIELDS = ["id_card_number", "bank_card_number"]  # encrypted; masked unless customers.privacy
INDIVIDUAL_FIELDS = ["gender", "birthday", "age", "occupation", *PRIVATE_FIELDS]
COMMON_FIELDS = [
    "phone",
    "email",
    "needs",
    "source",
    "first_contact_date",
    "region",
    "province",
    "city",
    "address",
    "notes",
    "expected_annual_value",
]
PROFILE_FIELDS = ["kind", "name", *ENTERPRISE_FIELDS, *INDIVIDUAL_FIELDS, *COMMON_FIELDS]


def value_class_for(amount: Decimal | None) -> str:
    """A ≥ ¥500,000, B ≥ ¥100,000, C below (SPEC 2); thresholds come from settings."""
    if amount is None:
        return Customer.ValueClass.C
    if amount >= settings.CUSTOMER_CLASS_A_MIN:
        return Customer.ValueClass.A
    if amount >= settings.CUSTOMER_CLASS_B_MIN:
        return Customer.ValueClass.B
    return Customer.ValueClass.C
