"""Orders / contracts (订单/合同), their payment plan (回款计划) and payments (回款记录).

An accepted quote becomes an order; the order's amount is in the quote's currency with the
quote's rate to CNY. Payments are allocated to the plan's instalments oldest first
(opportunities.services.orders), which keeps ``Instalment.paid_amount`` and ``settled_at``, and the
order's ``paid_amount``, in step. Outstanding = amount − paid; an instalment is overdue when it is
not settled and its due date has passed.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import ScopedQuerySet
from customers.models import Customer
from opportunities.models.pipeline import Opportunity
from opportunities.models.quotes import Quote


class OrderQuerySet(ScopedQuerySet):
    """The owner, the lead of the owner's team, all-scope roles, and the customer's collaborators
    (the same rules as opportunities)."""

    scope_owner = "owner"
    scope_team = "team"
    scope_shared = None

    def scope_q(self, user, prefix: str = "") -> Q:
        from accounts.access import Scope, scope_of

        condition = super().scope_q(user, prefix)
        if scope_of(user) in (Scope.OWN, Scope.TEAM):
            through = Customer.collaborators.through
            shared = through.objects.filter(user=user).values("customer_id")
            condition |= Q(**{f"{prefix}customer_id__in": shared})
        return condition


class Order(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("order status", "In force")
        COMPLETED = "completed", pgettext_lazy("order status", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")

    number = models.CharField(_("contract number"), max_length=20, unique=True, editable=False)
    title = models.CharField(pgettext_lazy("document title", "title"), max_length=200)
    quote = models.OneToOneField(
        Quote, verbose_name=_("quote"), on_delete=models.PROTECT, null=True, blank=True, related_name="order"
    )
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="orders"
    )
    # Denormalised from the opportunity: the customer page's totals and the merge hook.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_on = models.DateField(_("signing date"))
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Opportunity.Currency.choices, default=Opportunity.Currency.CNY
    )
    rate_to_cny = models.DecimalField(_("rate to CNY"), max_digits=12, decimal_places=6, default=Decimal(1))
    amount_cny = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2, editable=False)
    paid_amount = models.DecimalField(
        _("received"), max_digits=16, decimal_places=2, default=0, editable=False
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    notes = models.TextField(_("notes"), blank=True)
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
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order / contract")
        verbose_name_plural = _("orders / contracts")
        ordering = ["-signed_on", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-signed_on"], name="order_owner_signed"),
            models.Index(fields=["team", "-signed_on"], name="order_team_signed"),
            models.Index(fields=["-signed_on"], name="order_signed"),
            models.Index(fields=["customer", "-signed_on"], name="order_customer_signed"),
            models.Index(fields=["opportunity"], name="order_opportunity"),
            models.Index(fields=["status", "-signed_on"], name="order_status_signed"),
            models.Index(fields=["amount_cny"], name="order_amount_cny"),
            # The list's "outstanding, largest first" sort in CNY (selectors_orders).
            models.Index((F("amount") - F("paid_amount")) * F("rate_to_cny"), name="order_outstanding_cny"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.number})"

    def get_absolute_url(self) -> str:
        return reverse("opportunities:order-detail", args=[self.pk])

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount


class Instalment(models.Model):
    """One line of the payment plan (回款计划): an amount due on a date."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="instalments"
    )
    sequence = models.PositiveSmallIntegerField(_("instalment"), default=1)
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(0)]
    )
    paid_amount = models.DecimalField(
        _("received"), max_digits=16, decimal_places=2, default=0, editable=False
    )
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment instalment")
        verbose_name_plural = _("payment plan")
        ordering = ["order", "due_date", "sequence", "pk"]
        indexes = [
            # Overdue instalments (warnings, the manager's and customer's overdue totals).
            models.Index(
                fields=["due_date"], condition=Q(settled_at__isnull=True), name="instalment_unsettled_due"
            ),
            # An order's overdue amount (the list's totals and column, the order page): without
            # it PostgreSQL walks every overdue instalment once per order.
            models.Index(
                fields=["order", "due_date"],
                condition=Q(settled_at__isnull=True),
                name="instalment_unsettled_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} #{self.sequence}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    def is_overdue(self, today) -> bool:
        return self.settled_at is None and self.due_date < today


class Payment(models.Model):
    """A payment received (回款记录); voided payments stay listed but count for nothing."""

    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("WeChat Pay")
        CHEQUE = "cheque", _("Cheque")
        CASH = "cash", _("Cash")
        OTHER = "other", _("Other")

    number = models.CharField(_("payment number"), max_length=20, unique=True, editable=False)
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments"
    )
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    amount_cny = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2, editable=False)
    method = models.CharField(
        pgettext_lazy("payment", "method"), max_length=10, choices=Method.choices, default=Method.BANK
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True, editable=False)
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-pk"]
        indexes = [
            models.Index(fields=["order", "-received_on"], name="payment_order_received"),
            # Collections by period (analytics) among payments that count.
            models.Index(
                fields=["received_on"], condition=Q(voided_at__isnull=True), name="payment_received"
            ),
        ]

    def __str__(self) -> str:
        return self.number
