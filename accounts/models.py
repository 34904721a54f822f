import uuid
import zoneinfo
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts import roles


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        "accounts.User",
        verbose_name=_("team lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=language_choices,
        blank=True,
        help_text=_("Empty means the language chosen in the browser."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        choices=time_zone_choices,
        blank=True,
        help_text=_("Empty means the site's time zone."),
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        permissions = [
            # Read by accounts.access.scope_of: the two ways a role widens what a user sees.
            ("scope_all", _("Can see the records of every team")),
            ("scope_team", _("Can see and manage the records of the teams they lead")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def role(self) -> roles.Role | None:
        """The user's most powerful role, from their groups (prefetch ``groups`` on lists)."""
        names = {group.name for group in self.groups.all()}
        return next((role for role in roles.ROLES if role.group_name in names), None)


class Heartbeat(models.Model):
    """The last time a background process proved it was alive; read by /healthz."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class NumberSequence(models.Model):
    """The last number handed out per key (e.g. ``C20260301``); see accounts.numbering."""

    key = models.CharField(max_length=40, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.key}: {self.last_value}"


def export_path(instance: "Export", filename: str) -> str:
    """A random name under a dated folder; the download view gives the file its readable name."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"exports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Export(models.Model):
    """One export of a table to CSV or XLSX (SPEC 7: every table exports within the viewer's scope).

    The row is the state; Celery only delivers (accounts.exports): the task claims a pending row
    with a conditional update, rebuilds the rows in the creator's scope and stores the file.
    """

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("export status", "Waiting")
        RUNNING = "running", pgettext_lazy("export status", "Running")
        DONE = "done", pgettext_lazy("export status", "Done")
        FAILED = "failed", pgettext_lazy("export status", "Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="exports")
    # The exporter registered under this name in accounts.exports builds the rows.
    kind = models.CharField(_("kind"), max_length=40)
    # What the exporter needs to rebuild the rows, e.g. the list's query string or selected ids.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.XLSX)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [
            # The export page and a user's recent exports: only the creator may see an export.
            models.Index(fields=["user", "-created_at"], name="export_user_created"),
            # Finding exports stuck in pending/running (broker down, worker killed).
            models.Index(fields=["status", "created_at"], name="export_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_format_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.processed * 100 // self.total)

    @property
    def download_name(self) -> str:
        return f"{self.kind}-{timezone.localtime(self.created_at):%Y%m%d-%H%M%S}.{self.format}"


class Notification(models.Model):
    """An in-app notification (the bell), written by ``accounts.notifications.notify``.

    Title and body are rendered in the recipient's language when created, so the list needs no
    translation work per row. Only the recipient ever sees it.
    """

    recipient = models.ForeignKey(
        User, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    # A kind registered in accounts.notifications (e.g. "task_due_soon").
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("text"), blank=True)
    # A path inside the CRM (e.g. a task's page); opening the notification goes there.
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The notifications page: the recipient's newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_new"),
            # The bell's unread count on every page, and "mark all read".
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationEmailChoice(models.Model):
    """Whether the user gets one kind of notification by e-mail too (the preferences page).

    A kind without a row follows its registered default (``accounts.notifications.Kind``), so a
    kind added later needs no rows.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notification_email_choices"
    )
    kind = models.CharField(_("kind"), max_length=40)
    email = models.BooleanField(_("by e-mail"))

    class Meta:
        verbose_name = _("e-mail choice")
        verbose_name_plural = _("e-mail choices")
        # Also serves "does this user want e-mail for this kind" in accounts.notifications.notify.
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_email_choice_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {self.email}"
