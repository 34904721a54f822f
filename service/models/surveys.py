"""Satisfaction surveys (满意度): an invitation per closed ticket, and a quarterly one per deal
customer. The link carries a random token; only its SHA-256 is stored, so the database (or a
backup) cannot be used to answer for someone. One answer per invitation; invitations expire."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Contact, Customer
from service.models.tickets import Ticket


class SurveyInvitation(models.Model):
    class Kind(models.TextChoices):
        TICKET = "ticket", _("After a ticket")
        QUARTERLY = "quarterly", _("Quarterly survey")

    kind = models.CharField(pgettext_lazy("survey", "kind"), max_length=10, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="surveys",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="surveys"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "2026Q4" for the quarterly survey; empty for a ticket's.
    period = models.CharField(_("period"), max_length=10, blank=True)
    email = models.EmailField(_("sent to"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        permissions = [("view_all_surveys", _("Can see every satisfaction survey result"))]
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(kind="ticket"), name="survey_one_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["customer", "period"], condition=Q(kind="quarterly"), name="survey_one_per_quarter"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="survey_rating_1_5"
            ),
        ]
        indexes = [
            # Results by period (analytics) and the survey list.
            models.Index(
                fields=["kind", "answered_at"], condition=Q(answered_at__isnull=False), name="survey_answered"
            ),
            models.Index(fields=["customer", "-created_at"], name="survey_customer"),
            # The delivery sweep (service.services.surveys): invitations not sent yet.
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True, answered_at__isnull=True) & ~Q(email=""),
                name="survey_to_send",
            ),
            # The results page filtered by quarter (a created_at range) and kind.
            models.Index(fields=["kind", "-created_at"], name="survey_kind_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer_id} {self.period}".strip()
