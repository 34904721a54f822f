"""Exports of any table to CSV or XLSX, within the viewer's scope (SPEC 7), as background work.

``accounts`` sits below every app, so each app registers how to build its table in its
``AppConfig.ready()``::

    exports.register("customers", build_customers, permission="customers.export_customer")

``build(user, params)`` returns ``(headers, rows, count)``: translated column headers, an iterator
of rows (lists of cells, see accounts.tabular) and the number of rows. It must start from the
user's own scope: the task calls it with the export's creator, loaded by id, in their language.

Flow: ``start_export`` stores a pending ``Export`` row and enqueues ``accounts.tasks.build_export``
on commit; ``export_build`` claims the row with a conditional update (so a task delivered twice
never builds twice), writes the file in chunks while counting ``processed`` for the progress bar,
and keeps it in the default storage under a random name. Only the creator may see or download it.
"""

import io
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts import tabular
from accounts.errors import DomainError
from accounts.models import Export, User
from accounts.tasks import build_export, enqueue

logger = logging.getLogger(__name__)

Row = Sequence[tabular.Cell]
Build = Callable[[Any, dict], tuple[Sequence[str], Iterable[Row], int]]

# ``processed`` is saved every this many rows: often enough for a 1-second progress poll,
# rarely enough not to slow the export down.
CHUNK_SIZE = 500
# A row still "running" this long after it was claimed belongs to a worker that died (tasks are
# acknowledged late, so the broker delivers the task again): the next delivery may take it over.
RUNNING_LEASE = timedelta(minutes=30)
# The export page says no worker has started the export after this long.
STALLED_AFTER = timedelta(seconds=30)
# Older requests are left alone by the sweep: the user has long stopped waiting for them.
REQUEUE_WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class Exporter:
    kind: str
    build: Build
    # Checked when the export is asked for and again when it is built.
    permission: str | None = None
    # Shown on the export page ("Export: customers") and where its "back" link goes.
    label: Promise | str = ""
    back_url_name: str | None = None


_exporters: dict[str, Exporter] = {}


def register(
    kind: str,
    build: Build,
    *,
    permission: str | None = None,
    label: Promise | str = "",
    back_url_name: str | None = None,
) -> None:
    _exporters[kind] = Exporter(
        kind=kind, build=build, permission=permission, label=label, back_url_name=back_url_name
    )


def exporter_for(kind: str) -> Exporter:
    try:
        return _exporters[kind]
    except KeyError:
        raise LookupError(f"No exporter registered for {kind!r}") from None


def _check_allowed(user, exporter: Exporter) -> None:
    if exporter.permission and not user.has_perm(exporter.permission):
        raise PermissionDenied


def start_export(*, user, kind: str, params: dict, fmt: str) -> Export:
    """A pending export of ``kind`` for ``user``; the file is built by a worker after the commit.

    Raises PermissionDenied (403) when the user lacks the exporter's permission. If the broker is
    down the row stays pending and its page says so; nothing is lost.
    """
    exporter = exporter_for(kind)
    _check_allowed(user, exporter)
    if fmt not in Export.Format.values:
        raise DomainError(_("Choose CSV or XLSX."), field="format")
    with transaction.atomic():
        export = Export.objects.create(user=user, kind=kind, params=params, format=fmt)
        enqueue(build_export, export.pk)
    return export


def export_get(user, pk: int) -> Export:
    """The export, or 404 for anyone but its creator."""
    return get_object_or_404(Export.objects.filter(user=user), pk=pk)


def exports_of(user) -> QuerySet[Export]:
    """The user's own exports, newest first (the "My exports" page)."""
    return Export.objects.filter(user=user).order_by("-created_at", "-pk")


def exports_delete_expired(*, now: datetime | None = None) -> int:
    """Delete exports older than ``EXPORT_RETENTION_DAYS`` with their files; returns how many.

    For a daily sweep: exported files hold customer data and should not pile up on disk.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    expired = list(Export.objects.filter(created_at__lt=cutoff).exclude(status=Export.Status.RUNNING))
    for export in expired:
        if export.file:
            export.file.delete(save=False)
    Export.objects.filter(pk__in=[export.pk for export in expired]).delete()
    return len(expired)


def export_is_stalled(export: Export) -> bool:
    """Still pending well after it was asked for: no worker took it (broker or workers down)."""
    return export.status == Export.Status.PENDING and export.created_at < timezone.now() - STALLED_AFTER


def exports_requeue_stalled() -> int:
    """Send again the exports no worker took (the broker was down) or whose worker died.

    For a periodic sweep (accounts.tasks.requeue_stalled_exports); harmless when a message is
    still on its way, because a row is claimed before it is built. Returns how many were sent.
    """
    now = timezone.now()
    stalled = Export.objects.filter(
        Q(status=Export.Status.PENDING, created_at__lt=now - STALLED_AFTER)
        | Q(status=Export.Status.RUNNING, started_at__lt=now - RUNNING_LEASE),
        created_at__gte=now - REQUEUE_WITHIN,
    ).values_list("pk", flat=True)
    ids = list(stalled)
    for pk in ids:
        enqueue(build_export, pk)
    return len(ids)


def _claim(export_id: int) -> datetime | None:
    """pending → running, or take over a run whose worker died; only one caller wins.

    Returns the claim's time, which the winner's final update checks, so a run that was taken
    over (its worker only stalled) cannot overwrite the newer one.
    """
    now = timezone.now()
    claimable = Q(status=Export.Status.PENDING) | Q(
        status=Export.Status.RUNNING, started_at__lt=now - RUNNING_LEASE
    )
    claimed = Export.objects.filter(claimable, pk=export_id).update(
        status=Export.Status.RUNNING, started_at=now, processed=0, error=""
    )
    return now if claimed == 1 else None


class _Progress:
    """Passes the rows through, saving how many were written every CHUNK_SIZE rows."""

    def __init__(self, export_id: int) -> None:
        self.export_id = export_id
        self.count = 0

    def rows(self, rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            yield row
            self.count += 1
            if self.count % CHUNK_SIZE == 0:
                Export.objects.filter(pk=self.export_id).update(processed=self.count)


def _write(export: Export, headers: Sequence[str], rows: Iterable[Row], target: IO[bytes]) -> None:
    if export.format == Export.Format.CSV:
        # UTF-8 with a BOM, which Excel in China opens correctly (accounts.tabular).
        stream = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
        tabular.write_csv(stream, headers, rows)
        stream.flush()
        stream.detach()
    else:
        target.write(tabular.xlsx_bytes(headers, rows, title=export.kind))
    target.flush()
    target.seek(0)


def export_build(export_id: int) -> bool:
    """Build the file of one export; returns False when another run has it (or had it) already.

    Runs in the worker, in the creator's language and time zone, so headers and dates read as on
    their screen. A failure is kept on the row (and logged) for the export page to show.
    """
    claimed_at = _claim(export_id)
    if claimed_at is None:
        return False
    export = Export.objects.select_related("user").get(pk=export_id)
    mine = Export.objects.filter(pk=export_id, status=Export.Status.RUNNING, started_at=claimed_at)
    user: User = export.user
    try:
        exporter = exporter_for(export.kind)
        if not user.is_active:
            raise PermissionDenied
        _check_allowed(user, exporter)
        language = user.language or settings.LANGUAGE_CODE
        zone = user.time_zone or settings.TIME_ZONE
        with translation.override(language), timezone.override(zone):
            headers, rows, total = exporter.build(user, dict(export.params))
            Export.objects.filter(pk=export.pk).update(total=total)
            progress = _Progress(export.pk)
            with tempfile.TemporaryFile() as target:
                _write(export, [str(header) for header in headers], progress.rows(rows), target)
                export.file.save(export.download_name, File(target), save=False)
    except Exception as error:
        logger.exception("Export %s (%s) failed", export.pk, export.kind)
        if export.file:
            export.file.delete(save=False)
        mine.update(status=Export.Status.FAILED, error=repr(error)[:2000], finished_at=timezone.now())
        return True
    finished = mine.update(
        status=Export.Status.DONE,
        file=export.file.name,
        processed=progress.count,
        total=progress.count,
        finished_at=timezone.now(),
    )
    if not finished:  # taken over by another run meanwhile: its file wins
        export.file.delete(save=False)
        return False
    return True
