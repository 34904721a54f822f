"""Sales opportunities (销售机会): stages as data, lost reasons, the opportunity and its stage history.

Money rule (documented for analytics and exports): ``amount`` is in ``currency``; ``rate_to_cny``
is the rate on the record (1 for CNY); ``amount_cny = amount × rate_to_cny`` rounded once to 0.01
with ROUND_HALF_UP (``cny_amount``), stored so totals over many currencies are one SUM.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import Scope, ScopedQuerySet, scope_of
from customers.models import BilingualLookup, Customer, Source

CENT = Decimal("0.01")


def cny_amount(amount: Decimal, rate: Decimal) -> Decimal:
    """The one rounding of money in this app: amount × rate, to 0.01, half up."""
    return (Decimal(amount) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


class Stage(BilingualLookup):
    """A sales stage (销售阶段), admin-editable; open stages are neither won nor lost."""

    probability = models.PositiveSmallIntegerField(
        _("default probability (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)
    expected_days = models.PositiveSmallIntegerField(_("expected days in stage"), default=14)

    class Meta(BilingualLookup.Meta):
        verbose_name = _("sales stage")
        verbose_name_plural = _("sales stages")
        constraints = [
            models.CheckConstraint(condition=~Q(is_won=True, is_lost=True), name="stage_not_won_and_lost"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_max_100"),
        ]

    @property
    def is_open(self) -> bool:
        return not (self.is_won or self.is_lost)


class LostReason(BilingualLookup):
    """Why an opportunity was lost (输单原因); an administrator can add more."""

    class Meta(BilingualLookup.Meta):
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")


class OpportunityQuerySet(ScopedQuerySet):
    """Scope follows the customer's rules: the owner, the lead of the owner's team, all-scope
    roles, and the collaborators of the customer."""

    scope_owner = "owner"
    scope_team = "team"
    scope_shared = None

    def scope_q(self, user, prefix: str = "") -> Q:
        condition = super().scope_q(user, prefix)
        if scope_of(user) in (Scope.OWN, Scope.TEAM):
            through = Customer.collaborators.through
            shared = through.objects.filter(user=user).values("customer_id")
            condition |= Q(**{f"{prefix}customer_id__in": shared})
        return condition

    def open(self) -> "OpportunityQuerySet":
        return self.filter(closed_at__isnull=True)


class Opportunity(models.Model):
    class Currency(models.TextChoices):
        CNY = "CNY", _("CNY (Chinese yuan)")
        USD = "USD", _("USD (US dollar)")
        EUR = "EUR", _("EUR (euro)")
        HKD = "HKD", _("HKD (Hong Kong dollar)")
        JPY = "JPY", _("JPY (Japanese yen)")
        GBP = "GBP", _("GBP (pound sterling)")

    number = models.CharField(_("opportunity number"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    # The owner's team, kept in step by the services (scope of team leads).
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    rate_to_cny = models.DecimalField(
        _("rate to CNY"),
        max_digits=12,
        decimal_places=6,
        default=Decimal(1),
        validators=[MinValueValidator(0)],
    )
    amount_cny = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2, editable=False)
    expected_close_date = models.DateField(_("expected close date"))
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lost_note = models.TextField(_("lost note"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Optimistic locking: an edit carries the version it read and fails if someone saved since.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at"]
        indexes = [
            # The list's default order within a scope (owner, team, all).
            models.Index(fields=["owner", "-created_at"], name="opp_owner_created"),
            models.Index(fields=["team", "-created_at"], name="opp_team_created"),
            models.Index(fields=["-created_at"], name="opp_created"),
            # The board's columns (stage, oldest in stage first) and the stage filter.
            models.Index(fields=["stage", "stage_entered_at"], name="opp_stage_entered"),
            # Close month / date range filter and sort.
            models.Index(fields=["expected_close_date"], name="opp_close_date"),
            # Amount range filter and sort (in CNY: comparable across currencies).
            models.Index(fields=["amount_cny"], name="opp_amount_cny"),
            models.Index(fields=["currency", "-created_at"], name="opp_currency_created"),
            # Open / won / lost: open ones by close date, closed ones by closing time.
            models.Index(
                fields=["expected_close_date"],
                condition=Q(closed_at__isnull=True),
                name="opp_open_close_date",
            ),
            models.Index(fields=["-closed_at"], condition=Q(closed_at__isnull=False), name="opp_closed"),
            # Stale-deal alerts: open opportunities whose next step's date has passed.
            models.Index(
                fields=["next_step_date"], condition=Q(closed_at__isnull=True), name="opp_open_next_step"
            ),
            models.Index(fields=["name"], name="opp_name"),
            models.Index(fields=["updated_at"], name="opp_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    def get_absolute_url(self) -> str:
        return reverse("opportunities:opportunity-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def days_in_stage(self, now=None) -> int:
        return ((now or timezone.now()) - self.stage_entered_at).days


class StageChange(models.Model):
    """One move between stages (feeds funnel, conversion and cycle-time analytics)."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from stage"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    amount_cny = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at", "-pk"]
        indexes = [
            # The opportunity page's history and the customer timeline.
            models.Index(fields=["opportunity", "-changed_at"], name="opp_stagechange_opp"),
            # Funnel / cycle-time analytics by period.
            models.Index(fields=["to_stage", "changed_at"], name="opp_stagechange_to"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '—'} → {self.to_stage}"
