"""The outboxes of stale-deal alerts and overdue-payment warnings (回款预警).

Like the follow-up reminders (interactions.services.reminders): one row per subject, reason,
anchor and recipient, unique, so a rerun or a second worker plans nothing twice; delivery claims
rows with ``FOR UPDATE SKIP LOCKED`` and a lease.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from interactions.models import OutboxRow
from opportunities.models.orders import Instalment
from opportunities.models.pipeline import Opportunity


class DealAlert(OutboxRow):
    """An opportunity past its stage's expected days, or with an overdue next step."""

    STALE = "stale"  # over the expected days in stage
    NEXT_STEP_OVERDUE = "next_step"  # the next step's date has passed

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20)
    # "owner", or "lead" for the team lead past the escalation threshold.
    step = models.CharField(_("step"), max_length=20)
    # What the alert is about: the stage entry time or the next step's date, as ISO text, so a
    # new stage or a new next step earns a new alert.
    anchor = models.CharField(_("anchor"), max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("stale-deal alert")
        verbose_name_plural = _("stale-deal alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "reason", "step", "anchor", "recipient"], name="deal_alert_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["lease_until", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="deal_alert_to_deliver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.reason} {self.step} → {self.recipient_id}"


class PaymentWarning(OutboxRow):
    """回款预警: an instalment overdue, to the order's owner and (past a threshold) the team lead."""

    instalment = models.ForeignKey(
        Instalment, verbose_name=_("payment instalment"), on_delete=models.CASCADE, related_name="+"
    )
    step = models.CharField(_("step"), max_length=20)
    due_date = models.DateField(_("due date"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("overdue payment warning")
        verbose_name_plural = _("overdue payment warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["instalment", "step", "due_date", "recipient"], name="payment_warning_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["lease_until", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="payment_warning_to_deliver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instalment_id} {self.step} → {self.recipient_id}"
