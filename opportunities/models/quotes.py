"""Quotes (报价单): versions of an offer to the customer, with line items.

Money rules (opportunities.services.quotes computes and stores them; documented in the README):

- line list amount = quantity × unit price; line amount = list amount × (1 − discount % / 100),
  rounded once to 0.01, half up;
- subtotal = Σ line amounts (already rounded, so the lines add up to what is printed);
- discount total = Σ (quantity × unit price, rounded to 0.01) − subtotal;
- tax = subtotal × tax rate / 100, rounded once to 0.01, half up; total = subtotal + tax;
- total in CNY = total × rate to CNY, rounded once (``cny_amount``).

A quote is edited only while it is a draft. A new version copies the lines into a new draft
with the same number and ``version + 1``; the old version is kept, read-only, and marked
``superseded_at``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import ScopedQuerySet
from customers.models import Contact
from opportunities.models.catalog import Product
from opportunities.models.pipeline import Opportunity


class QuoteQuerySet(ScopedQuerySet):
    """A quote is visible to whoever sees its opportunity."""

    def scope_q(self, user, prefix: str = "") -> Q:
        return Opportunity.objects.scope_q(user, f"{prefix}opportunity__")


class Quote(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("quote status", "Draft")
        SENT = "sent", pgettext_lazy("quote status", "Sent")
        ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
        REJECTED = "rejected", pgettext_lazy("quote status", "Rejected")
        EXPIRED = "expired", pgettext_lazy("quote status", "Expired")

    number = models.CharField(_("quote number"), max_length=20, editable=False)
    version = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("attention of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    title = models.CharField(pgettext_lazy("document title", "title"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Opportunity.Currency.choices, default=Opportunity.Currency.CNY
    )
    rate_to_cny = models.DecimalField(
        _("rate to CNY"),
        max_digits=12,
        decimal_places=6,
        default=Decimal(1),
        validators=[MinValueValidator(0)],
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("13.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    valid_until = models.DateField(_("valid until"))
    terms = models.TextField(_("terms and notes"), blank=True)
    # Computed and stored by the services (see the module's money rules).
    list_total = models.DecimalField(
        _("list total"), max_digits=16, decimal_places=2, default=0, editable=False
    )
    discount_total = models.DecimalField(
        _("discount"), max_digits=16, decimal_places=2, default=0, editable=False
    )
    subtotal = models.DecimalField(_("subtotal"), max_digits=16, decimal_places=2, default=0, editable=False)
    tax_amount = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0, editable=False)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0, editable=False)
    total_cny = models.DecimalField(
        _("total (CNY)"), max_digits=16, decimal_places=2, default=0, editable=False
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
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
    # Optimistic locking of draft edits (``version`` above is the quote's own version number).
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="quote_number_version"),
        ]
        indexes = [
            # The opportunity page's quotes, newest first.
            models.Index(fields=["opportunity", "-created_at"], name="quote_opportunity"),
            # The quote list: by status, by date, by total; the expiry sweep (sent, past valid_until).
            models.Index(fields=["status", "-created_at"], name="quote_status_created"),
            models.Index(fields=["-created_at"], name="quote_created"),
            # The quote list's default: current versions, newest first.
            models.Index(
                fields=["-created_at"], condition=Q(superseded_at__isnull=True), name="quote_current_created"
            ),
            models.Index(fields=["total_cny"], name="quote_total_cny"),
            models.Index(fields=["valid_until"], condition=Q(status="sent"), name="quote_sent_valid_until"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("opportunities:quote-detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT and self.superseded_at is None


class QuoteLine(models.Model):
    """One line of a quote: a product from the price list, or free text."""

    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0, editable=False)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.description
