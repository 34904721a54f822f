"""Purchases entered by hand (a customer bought outside the opportunities app); each schedules an
after-sales call one week later, like a signed order does."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class Purchase(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="purchases"
    )
    purchased_on = models.DateField(_("purchase date"))
    description = models.CharField(_("what was bought"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-purchased_on", "-pk"]
        indexes = [models.Index(fields=["customer", "-purchased_on"], name="purchase_customer")]

    def __str__(self) -> str:
        return f"{self.purchased_on} {self.description}"
