"""Customer imports (SPEC 2: 导入): upload and check, commit, the task's batches, error and template files.

The flow, and the state each step leaves in ``CustomerImport``:

1. ``import_upload`` stores the file and maps its headers; ``import_check`` reads every row and
   leaves ``checked`` with a preview and every problem row (line number and reason). A small
   file is checked in the request; a big one goes ``checking`` → ``checked`` in a task, so no
   request runs into the web server's timeout. ``import_recheck`` checks again after the user
   corrects the mapping.
2. ``import_commit`` moves ``checked`` → ``importing`` with one conditional update, so a second
   click (or a second tab) starts nothing, and enqueues the task once the transaction commits.
3. ``import_run`` (the Celery task's body) writes the rows in batches. Each batch is one
   transaction that locks the import row, checks that ``processed_rows`` is still where the
   batch starts, writes the customers in bulk and moves ``processed_rows`` on. A task delivered
   twice, or restarted after its worker died, thus resumes after the last finished batch and
   never writes a row twice.

Rows that cannot be imported are skipped and kept in ``problems`` with their line number, so the
errors file lists exactly what did not go in.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import tabular
from accounts.errors import DomainError
from accounts.tasks import enqueue
from customers.importing.mapping import FIELDS, FIELDS_BY_KEY, auto_mapping
from customers.importing.matching import Match, mark_duplicates_in_file, match_existing
from customers.importing.reading import CSV, XLSX, Table, detect_encoding, read_head, read_rows, read_table
from customers.importing.rows import Lookups, ParsedRow, describe, parse_row
from customers.importing.writing import create_customers, update_customers
from customers.models import CustomerImport

logger = logging.getLogger(__name__)

# Rows written per transaction: big enough for bulk statements, small enough that a restarted
# task repeats little and the progress bar moves.
BATCH_SIZE = 500
PREVIEW_ROWS = 10
# Files up to this size are checked in the upload request (a few seconds at most); bigger ones
# by the check task, so a 20 MB file never runs into the web server's timeout.
INLINE_CHECK_BYTES = 512 * 1024

# Reading -------------------------------------------------------------------------------------


def _open_table(customer_import: CustomerImport) -> Table:
    with customer_import.file.open("rb") as stream:
        return read_table(stream, customer_import.file_format, customer_import.encoding)


def _fields(customer_import: CustomerImport) -> list[str]:
    return [column["field"] for column in customer_import.mapping.get("columns", [])]


# Checking ------------------------------------------------------------------------------------


@dataclass
class Plan:
    rows: list[ParsedRow]
    matches: dict[int, Match]  # by line


def plan_rows(actor, table: Table, fields: list[str], *, match_from: int = 0) -> Plan:
    """Parse every row and find duplicates; match with existing customers from row ``match_from`` on.

    A resumed import matches only the rows still to do: the ones before were imported already
    and would otherwise match themselves.
    """
    lookups = Lookups.load(actor)
    rows = [parse_row(row.line, row.cells, fields, lookups) for row in table.rows]
    mark_duplicates_in_file(rows)
    return Plan(rows=rows, matches=match_existing(rows[match_from:], actor))


def _problem(row: ParsedRow, match: Match | None) -> dict[str, Any] | None:
    if row.reasons:
        return {"line": row.line, "reasons": row.reasons}
    if match is None:
        return None
    if match.customer_id is None:
        return {"line": row.line, "reasons": [match.reason]}
    return {"line": row.line, "reasons": [match.reason], "customer": match.customer_id}


def _mapping(table: Table, fields: list[str]) -> dict[str, Any]:
    return {
        "header_line": table.header_line,
        "columns": [
            {"header": header, "field": fields[index] if index < len(fields) else ""}
            for index, header in enumerate(table.headers)
        ],
    }


def _check(customer_import: CustomerImport, actor, table: Table) -> None:
    """Fill the preview and every problem row, with the import's mapping."""
    fields = _fields(customer_import)
    plan = plan_rows(actor, table, fields)
    mapped = [key for key in fields if key]
    customer_import.preview = [
        {"line": row.line, "values": [row.shown.get(key, "") for key in mapped]}
        for row in plan.rows[:PREVIEW_ROWS]
    ]
    customer_import.problems = [
        problem for row in plan.rows if (problem := _problem(row, plan.matches.get(row.line)))
    ]
    customer_import.total_rows = len(plan.rows)
    customer_import.status = CustomerImport.Status.CHECKED


def _start_check(customer_import: CustomerImport) -> None:
    """Check a small file at once; a big one in the background, the page showing "checking"."""
    if customer_import.file.size <= INLINE_CHECK_BYTES:
        import_check(customer_import.pk)
    else:
        from customers.tasks.imports import check_customer_import

        enqueue(check_customer_import, customer_import.pk)


@transaction.atomic
def import_upload(*, actor, upload: UploadedFile, file_format: str) -> CustomerImport:
    """Store an uploaded CSV/XLSX (already checked by content and size), map its headers, check it.

    Without a recognised name column the import waits (``uploaded``) for the user to choose that
    column on the preview page.
    """
    customer_import = CustomerImport(
        created_by=actor, original_name=upload.name[:255], file_format=file_format
    )
    if file_format == CSV:
        upload.seek(0)
        customer_import.encoding = detect_encoding(upload.read())
    head, has_rows = read_head(upload, file_format, customer_import.encoding)
    if not has_rows:
        raise DomainError(_("The file has a header but no rows to import."), field="file")
    fields = auto_mapping(head.headers)
    if not any(fields):
        raise DomainError(
            _("No column header was recognised. Start from the template file and keep its headers."),
            field="file",
        )
    customer_import.mapping = _mapping(head, fields)
    customer_import.status = (
        CustomerImport.Status.CHECKING if "name" in fields else CustomerImport.Status.UPLOADED
    )
    upload.seek(0)
    customer_import.file.save(f"{file_format}.{file_format}", upload, save=False)
    customer_import.save()
    if customer_import.status == CustomerImport.Status.CHECKING:
        try:
            _start_check(customer_import)
        except DomainError:
            # The row goes with the transaction; the stored file must go by hand.
            customer_import.file.delete(save=False)
            raise
        customer_import.refresh_from_db()
    return customer_import


@transaction.atomic
def import_recheck(*, actor, customer_import: CustomerImport, fields: list[str]) -> CustomerImport:
    """Check the file again with the mapping the user chose (one field or ``""`` per column)."""
    locked = CustomerImport.objects.select_for_update().get(pk=customer_import.pk)
    if locked.status not in (CustomerImport.Status.UPLOADED, CustomerImport.Status.CHECKED):
        raise DomainError(_("This import has started; its column mapping can no longer change."))
    columns = locked.mapping.get("columns", [])
    locked.mapping = _mapping(
        Table(
            header_line=locked.mapping.get("header_line", 1), headers=[c["header"] for c in columns], rows=[]
        ),
        fields,
    )
    locked.status = CustomerImport.Status.CHECKING if "name" in fields else CustomerImport.Status.UPLOADED
    locked.preview, locked.problems = [], []
    locked.save(update_fields=["mapping", "status", "preview", "problems"])
    if locked.status == CustomerImport.Status.CHECKING:
        _start_check(locked)
        locked.refresh_from_db()
    return locked


@transaction.atomic
def import_check(import_id: int, *, background: bool = False) -> None:
    """Read the whole file and list its problems (the check task's body, or inline for small files).

    Safe to run twice: it only acts on an import still ``checking`` and recomputes everything.
    In the background, the preview is written in the uploader's language.
    """
    customer_import = (
        CustomerImport.objects.select_for_update().select_related("created_by").filter(pk=import_id).first()
    )
    if customer_import is None or customer_import.status != CustomerImport.Status.CHECKING:
        return
    actor = customer_import.created_by
    language = (actor.language or settings.LANGUAGE_CODE) if background else translation.get_language()
    with translation.override(language):
        _check(customer_import, actor, _open_table(customer_import))
    customer_import.save(update_fields=["preview", "problems", "total_rows", "status"])


@dataclass(frozen=True)
class Summary:
    total: int
    new: int  # rows that will create a customer
    matched: int  # rows that match a customer the user may update
    refused: int  # rows skipped whatever the mode


def import_summary(customer_import: CustomerImport) -> Summary:
    matched = sum(1 for problem in customer_import.problems if problem.get("customer"))
    refused = len(customer_import.problems) - matched
    return Summary(
        total=customer_import.total_rows,
        new=customer_import.total_rows - matched - refused,
        matched=matched,
        refused=refused,
    )


def problem_rows(customer_import: CustomerImport) -> list[dict[str, Any]]:
    """The problems for display: line, reasons in the reader's language, matched customer."""
    return [
        {
            "line": problem["line"],
            "reasons": [describe(entry) for entry in problem["reasons"]],
            "customer": problem.get("customer"),
        }
        for problem in customer_import.problems
    ]


def mapped_labels(customer_import: CustomerImport) -> list[str]:
    return [str(FIELDS_BY_KEY[key].label) for key in _fields(customer_import) if key in FIELDS_BY_KEY]


# Committing and running ----------------------------------------------------------------------


@transaction.atomic
def import_commit(*, actor, customer_import: CustomerImport, mode: str) -> CustomerImport:
    """Start a checked import (or resume a failed one); refuse one that has started already."""
    if mode not in CustomerImport.Mode.values:
        raise DomainError(_("Choose what to do with duplicates."), field="mode")
    now = timezone.now()
    started = CustomerImport.objects.filter(
        pk=customer_import.pk, status=CustomerImport.Status.CHECKED
    ).update(status=CustomerImport.Status.IMPORTING, mode=mode, started_at=now)
    if not started:
        # A failed import resumes after its last finished batch, with the mode it started with.
        started = CustomerImport.objects.filter(
            pk=customer_import.pk, status=CustomerImport.Status.FAILED, started_at__isnull=False
        ).update(status=CustomerImport.Status.IMPORTING, error_message="", finished_at=None)
    if not started:
        raise DomainError(_("This import has already been started."))
    enqueue(_run_task(), customer_import.pk)
    customer_import.refresh_from_db()
    return customer_import


def _run_task():
    from customers.tasks.imports import run_customer_import

    return run_customer_import


@transaction.atomic
def import_resume(*, actor, customer_import: CustomerImport) -> None:
    """Send the task again for an import that is not moving (its message was lost)."""
    if customer_import.status == CustomerImport.Status.IMPORTING:
        enqueue(_run_task(), customer_import.pk)
    elif customer_import.status == CustomerImport.Status.CHECKING:
        from customers.tasks.imports import check_customer_import

        enqueue(check_customer_import, customer_import.pk)
    else:
        raise DomainError(_("This import is not running."))


def import_run(import_id: int, *, max_batches: int | None = None) -> None:
    """The body of the import task: write the rows after ``processed_rows`` in batches.

    Safe to run twice, or at the same time as another run: each batch checks, under a lock on
    the import row, that it starts where the last finished batch ended.
    """
    customer_import = CustomerImport.objects.select_related("created_by").filter(pk=import_id).first()
    if customer_import is None or customer_import.status != CustomerImport.Status.IMPORTING:
        return
    actor = customer_import.created_by
    with translation.override(actor.language or settings.LANGUAGE_CODE):
        start = customer_import.processed_rows
        plan = plan_rows(actor, _open_table(customer_import), _fields(customer_import), match_from=start)
        for done, first in enumerate(range(start, len(plan.rows), BATCH_SIZE)):
            if max_batches is not None and done >= max_batches:
                return
            if not import_batch(import_id, actor, plan, first=first, count=BATCH_SIZE):
                return
        # Nothing (more) to write: a file whose rows all went in a run that died before saying so.
        CustomerImport.objects.filter(
            pk=import_id, status=CustomerImport.Status.IMPORTING, processed_rows__gte=len(plan.rows)
        ).update(status=CustomerImport.Status.DONE, finished_at=timezone.now())


def import_fail(import_id: int, message: str) -> None:
    """Stop a check or an import that cannot go on; an import that had started may be resumed."""
    CustomerImport.objects.filter(
        pk=import_id, status__in=[CustomerImport.Status.CHECKING, CustomerImport.Status.IMPORTING]
    ).update(status=CustomerImport.Status.FAILED, error_message=message[:2000], finished_at=timezone.now())


@transaction.atomic
def import_batch(import_id: int, actor, plan: Plan, *, first: int, count: int) -> bool:
    """Write rows ``first`` … ``first + count - 1`` of the plan; False when another run got there first."""
    customer_import = CustomerImport.objects.select_for_update().get(pk=import_id)
    if customer_import.status != CustomerImport.Status.IMPORTING or customer_import.processed_rows != first:
        return False
    batch = plan.rows[first : first + count]
    creates: list[ParsedRow] = []
    updates: list[tuple[ParsedRow, int]] = []
    skipped: list[dict[str, Any]] = []
    for row in batch:
        match = plan.matches.get(row.line)
        if not row.ok:
            skipped.append(_problem(row, None))
        elif match is None:
            creates.append(row)
        elif match.updatable and customer_import.mode == CustomerImport.Mode.UPDATE:
            updates.append((row, match.customer_id))
        else:
            skipped.append(_problem(row, match))
    note = customer_import.original_name
    created = create_customers(actor, creates, note=note)
    updated, refused = update_customers(actor, updates, note=note)
    skipped += refused
    # The problems of this batch's lines are now what was really skipped.
    lines = {row.line for row in batch}
    customer_import.problems = sorted(
        [problem for problem in customer_import.problems if problem["line"] not in lines] + skipped,
        key=lambda problem: problem["line"],
    )
    customer_import.processed_rows = first + len(batch)
    customer_import.created_count += created
    customer_import.updated_count += updated
    customer_import.skipped_count += len(skipped)
    fields = ["problems", "processed_rows", "created_count", "updated_count", "skipped_count"]
    if customer_import.processed_rows >= len(plan.rows):
        customer_import.status = CustomerImport.Status.DONE
        customer_import.finished_at = timezone.now()
        fields += ["status", "finished_at"]
    customer_import.save(update_fields=fields)
    return True


# Files ---------------------------------------------------------------------------------------


def _error_rows(customer_import: CustomerImport) -> Iterator[list[tabular.Cell]]:
    problems = {problem["line"]: problem for problem in customer_import.problems}
    if not problems:
        return
    width = len(customer_import.mapping.get("columns", []))
    with customer_import.file.open("rb") as stream:
        for row in read_rows(stream, customer_import.file_format, customer_import.encoding):
            problem = problems.get(row.line)
            if problem is not None:
                reasons = "；".join(describe(entry) for entry in problem["reasons"])
                # As wide as the header, so the user can fill in a missing last cell.
                cells = [*row.cells, *[None] * (width - len(row.cells))]
                yield [row.line, reasons, *cells]


def import_errors_file(customer_import: CustomerImport, file_format: str) -> bytes:
    """The problem rows with their line number and reason, then the file's own columns, to fix and upload."""
    headers = [
        _("Line"),
        _("Reason"),
        *(column["header"] for column in customer_import.mapping.get("columns", [])),
    ]
    rows = _error_rows(customer_import)
    if file_format == XLSX:
        return tabular.xlsx_bytes(headers, rows, title=_("Rows not imported"))
    return tabular.csv_bytes(headers, rows)


def import_template_file(file_format: str) -> bytes:
    """An empty sheet with every recognised header, in the current language."""
    headers = [str(field.label) for field in FIELDS]
    if file_format == XLSX:
        return tabular.xlsx_bytes(headers, [], title=_("Customers"))
    return tabular.csv_bytes(headers, [])
