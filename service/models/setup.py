"""Admin-editable service data: queues (one per ticket type) with their agents, service levels
per priority and type, business hours, and resolution categories."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import BilingualLookup


class TicketType(models.TextChoices):
    REQUEST = "request", _("Service request")
    COMPLAINT = "complaint", _("Complaint")
    AFTER_SALES = "after_sales", _("After-sales")
    CONSULTATION = "consultation", _("Consultation")


class Priority(models.IntegerChoices):
    LOW = 1, pgettext_lazy("ticket priority", "Low")
    NORMAL = 2, pgettext_lazy("ticket priority", "Normal")
    HIGH = 3, pgettext_lazy("ticket priority", "High")
    URGENT = 4, pgettext_lazy("ticket priority", "Urgent")


class Queue(models.Model):
    """Where tickets of one type wait (服务队列); automatic dispatch picks the least-loaded active
    agent among its members."""

    ticket_type = models.CharField(_("ticket type"), max_length=20, choices=TicketType.choices, unique=True)
    name = models.CharField(_("name"), max_length=60)
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("agents"), blank=True, related_name="service_queues"
    )
    auto_dispatch = models.BooleanField(
        _("dispatch automatically"),
        default=True,
        help_text=_("New tickets go to the member with the fewest open tickets."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service queue")
        verbose_name_plural = _("service queues")
        ordering = ["ticket_type"]

    def __str__(self) -> str:
        return self.name


class ServiceLevel(models.Model):
    """First-response and resolution targets for a priority, for one ticket type or (blank) all."""

    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    ticket_type = models.CharField(
        _("ticket type"),
        max_length=20,
        choices=TicketType.choices,
        blank=True,
        help_text=_("Leave empty for every type without its own target."),
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (minutes)"), validators=[MinValueValidator(1)]
    )
    business_hours = models.BooleanField(
        _("count business hours only"),
        default=False,
        help_text=_("Otherwise the clock runs around the clock."),
    )

    class Meta:
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        ordering = ["-priority", "ticket_type"]
        constraints = [
            models.UniqueConstraint(fields=["priority", "ticket_type"], name="service_level_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} {self.get_ticket_type_display() or ''}".strip()


class BusinessHours(models.Model):
    """One opening period of a weekday (0 = Monday), in TIME_ZONE; several per day allowed."""

    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="business_hours_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ResolutionCategory(BilingualLookup):
    """How a ticket was resolved (处理结果分类), required to resolve."""

    class Meta(BilingualLookup.Meta):
        verbose_name = _("resolution category")
        verbose_name_plural = _("resolution categories")
