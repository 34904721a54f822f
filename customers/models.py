from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.access import ScopedQuerySet


class BilingualLookup(models.Model):
    """An admin-editable list entry shown in the user's language (industries, sources)."""

    name = models.CharField(_("name (Chinese)"), max_length=60, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self) -> str:
        if self.name_en and not (get_language() or "").startswith("zh"):
            return self.name_en
        return self.name


class Industry(BilingualLookup):
    class Meta(BilingualLookup.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class Source(BilingualLookup):
    """Where a customer came from (信息来源); an administrator can add more."""

    class Meta(BilingualLookup.Meta):
        verbose_name = _("source")
        verbose_name_plural = _("sources")


class CustomerQuerySet(ScopedQuerySet):
    scope_owner = "owner"
    scope_team = "team"
    scope_shared = "collaborators"


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
    # Classification
    expected_annual_value = models.DecimalField(
        _("expected annual contract value (¥)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    value_class = models.CharField(
        _("value class"), max_length=1, choices=ValueClass.choices, default=ValueClass.C
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.POTENTIAL)
    stage_changed_at = models.DateTimeField(_("stage changed"), null=True, blank=True)
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
    # Optimistic locking: a save carries the version it read and fails if someone saved since.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        indexes = [
            # The default customer list: newest first within a scope.
            models.Index(fields=["owner", "-created_at"], name="customer_owner_created"),
            models.Index(fields=["team", "-created_at"], name="customer_team_created"),
            models.Index(fields=["-created_at"], name="customer_created"),
            # Duplicate warnings and search by phone / e-mail.
            models.Index(fields=["phone"], name="customer_phone"),
            models.Index(Upper("email"), name="customer_email_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


def value_class_for(amount: Decimal | None) -> str:
    """A ≥ ¥500,000, B ≥ ¥100,000, C below (SPEC 2); thresholds come from settings."""
    if amount is None:
        return Customer.ValueClass.C
    if amount >= settings.CUSTOMER_CLASS_A_MIN:
        return Customer.ValueClass.A
    if amount >= settings.CUSTOMER_CLASS_B_MIN:
        return Customer.ValueClass.B
    return Customer.ValueClass.C
