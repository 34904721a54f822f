"""Products and the price list (产品 / 价目表)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """A product or service that quotes can list; its list price is in CNY."""

    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("For example: 套, 件, 年, user/year."))
    list_price = models.DecimalField(
        _("list price (CNY)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive products stay on old quotes but cannot be quoted.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "pk"]
        indexes = [
            # The price list's default order and name search; the quote form's product choices.
            models.Index(fields=["name"], name="product_name"),
            models.Index(fields=["name"], condition=Q(active=True), name="product_active_name"),
            models.Index(fields=["list_price"], name="product_list_price"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("opportunities:product-edit", args=[self.pk])
