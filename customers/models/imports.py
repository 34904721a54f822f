import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def import_path(instance: "CustomerImport", filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class CustomerImport(models.Model):
    """One uploaded CSV/XLSX file on its way in: uploaded → checked → importing → done.

    The state lives here, so a repeated commit, a retried task or a restarted worker never
    imports a row twice (the move to ``importing`` is a conditional update, and each row's
    outcome is recorded as the import goes).
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Ready to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Mode(models.TextChoices):
        SKIP = "skip", _("Skip duplicates")
        UPDATE = "update", _("Update matched records")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(_("file"), upload_to=import_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)  # csv or xlsx
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    mode = models.CharField(_("duplicates"), max_length=10, choices=Mode.choices, default=Mode.SKIP)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    # {column header in the file: customer field name or ""}
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # A few parsed rows for the preview, and every problem: [{"line": 7, "reason": "..."}].
    preview = models.JSONField(default=list, blank=True)
    problems = models.JSONField(default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    error_message = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="customerimport_by_created")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        return round(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
