"""Scheduled KPI reports (SPEC 7): who subscribes, the stored snapshots, and their deliveries.

The database holds the state, Celery only delivers (analytics.services.reports):

- ``ReportSubscription``: a manager or director asks for the weekly and/or monthly report of a
  scope (every team within their reach, or one team).
- ``ReportSnapshot``: one report per period kind, period start and scope key (unique), shared by
  every subscriber whose scope is the same. Its figures and table rows are kept as JSON and each
  section's rendered HTML next to them, so the archive and the e-mails show what was computed
  then, never a recomputation. The row is planned first ("pending"), then claimed for building
  with a conditional update and a lease, so two workers never build the same report twice.
- ``ReportDelivery``: the outbox of the e-mails, one row per snapshot and recipient (unique),
  delivered exactly once through ``accounts.outbox``; a failed e-mail is retried from the row's
  state without rebuilding the snapshot.
"""

import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from analytics.base import MONTH, WEEK
from interactions.models import OutboxRow


class Frequency(models.TextChoices):
    # The values are analytics.base period kinds: a weekly report covers last week (Mon–Sun).
    WEEKLY = WEEK, _("Weekly")
    MONTHLY = MONTH, _("Monthly")


class ReportSubscriptionQuerySet(models.QuerySet):
    def active(self) -> "ReportSubscriptionQuerySet":
        return self.filter(active=True, user__is_active=True)


class ReportSubscription(models.Model):
    """A user's wish to get the weekly or monthly KPI report of a scope by e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("subscriber"),
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
    )
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    # Empty: every team within the subscriber's reach (the teams they lead; all for a director).
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty means every team you may see."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = ReportSubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        ordering = ["user", "frequency", "team"]
        permissions = [("subscribe_report", _("Can subscribe to scheduled KPI reports"))]
        constraints = [
            # One subscription per user, frequency and team, and one of "every team" (NULL team):
            # two partial constraints, as SQLite (the quick start) has no NULLS NOT DISTINCT.
            models.UniqueConstraint(
                fields=["user", "frequency", "team"],
                condition=models.Q(team__isnull=False),
                name="analytics_subscription_unique_team",
            ),
            models.UniqueConstraint(
                fields=["user", "frequency"],
                condition=models.Q(team__isnull=True),
                name="analytics_subscription_unique_all",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_frequency_display()} · {self.team or _('every team')}"


class ReportSnapshot(models.Model):
    """The stored KPI report of one period and scope (figures as JSON plus rendered HTML)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("report status", "Waiting")
        BUILDING = "building", pgettext_lazy("report status", "Building")
        READY = "ready", pgettext_lazy("report status", "Ready")
        FAILED = "failed", pgettext_lazy("report status", "Failed")

    kind = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))  # exclusive, as analytics.base.Period.end
    # analytics.base.Scope.key ("all", "teams:1,2", "owner:7"…) and the scope it stands for, kept
    # as columns and rows so the archive filters the snapshots within a viewer's reach in the
    # database (analytics.services.reports.snapshots_visible_to). The teams are written in the
    # transaction that inserts the row, before anyone can claim it for building.
    scope_key = models.CharField(_("scope"), max_length=500)
    scope_all_teams = models.BooleanField(default=False)  # Scope.team_ids is None
    scope_teams = models.ManyToManyField("accounts.Team", blank=True, related_name="+")
    scope_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whose reach it was planned for (a subscriber or the builder): the Scope's viewer_id.
    scope_viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The teams' names when it was built ("every team" when empty), shown in lists and e-mails.
    scope_label = models.CharField(_("scope"), max_length=500, blank=True)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)

    # {"sections": [{"key", "title", "html", "figures": [...], "tables": [...]}], ...}: see
    # analytics.services.reports.snapshot_data. Each section's "html" is its rendered report.
    data = models.JSONField(_("figures"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("planned"), default=timezone.now)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("built by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the scheduled build."),
    )

    class Meta:
        verbose_name = _("KPI report")
        verbose_name_plural = _("KPI reports")
        ordering = ["-period_start", "kind", "scope_key"]
        constraints = [
            # A report is built once per period and scope, however often the task runs.
            models.UniqueConstraint(
                fields=["kind", "period_start", "scope_key"], name="analytics_snapshot_unique"
            )
        ]
        indexes = [
            # The archive: the ready reports of a viewer's reach, newest first.
            models.Index(fields=["status", "-period_start"], name="analytics_snapshot_archive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_label} · {self.scope_label}"

    def get_absolute_url(self) -> str:
        return reverse("analytics:report-detail", args=[self.pk])

    @property
    def period_label(self) -> str:
        last = self.period_end - datetime.timedelta(days=1)
        return f"{self.period_start:%Y-%m-%d} – {last:%Y-%m-%d}"


class ReportDelivery(OutboxRow):
    """The e-mail of a snapshot to one subscriber (``accounts.outbox`` claims and delivers it)."""

    snapshot = models.ForeignKey(
        ReportSnapshot, verbose_name=_("KPI report"), on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    # The subscription it was planned for (a user with two subscriptions of the same scope gets one).
    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("KPI report e-mail")
        verbose_name_plural = _("KPI report e-mails")
        ordering = ["-created_at"]
        constraints = [
            # A second run, or a second worker, never plans (so never sends) an e-mail twice.
            models.UniqueConstraint(fields=["snapshot", "recipient"], name="analytics_delivery_unique")
        ]
        indexes = [
            # accounts.outbox.claim: the deliverable rows.
            models.Index(fields=["status", "lease_until"], name="analytics_delivery_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot} → {self.recipient}"
