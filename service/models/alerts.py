"""The outbox of service-level escalations: a ticket that missed its first-response or
resolution target is told to its assignee and escalated to the service manager (the lead of the
assignee's team, or of the queue's agents' team), exactly once per target and due time."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from interactions.models import OutboxRow
from service.models.tickets import Ticket


class SlaAlert(OutboxRow):
    RESPONSE = "response"
    RESOLUTION = "resolution"

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+")
    target = models.CharField(_("target"), max_length=20)
    # "assignee", "manager" or "soon" (a warning before the due time).
    step = models.CharField(_("step"), max_length=20)
    due_at = models.DateTimeField(_("due"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("service level alert")
        verbose_name_plural = _("service level alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "step", "due_at", "recipient"], name="sla_alert_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["lease_until", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="sla_alert_to_deliver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.step} → {self.recipient_id}"
