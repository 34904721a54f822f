"""Reading an uploaded table: its format from the content, its encoding, and its rows.

CSV files come from Excel in China as GB18030/GBK, from other tools as UTF-8 with or without a
byte-order mark, and from Excel's "Unicode text" as UTF-16 with tabs. XLSX files are read with
openpyxl in read-only mode (constant memory), first sheet only. Anything else is refused by what
the bytes are, whatever the file is called.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from accounts.errors import DomainError
from customers.importing.mapping import recognised

Cell = str | int | float | bool | date | datetime | time | None

CSV = "csv"
XLSX = "xlsx"

# An XLSX is a zip archive; real workbooks unpack to a few times their size, a "zip bomb" to far
# more. Refused beyond this many times the upload limit.
UNPACKED_LIMIT_FACTOR = 20
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)
_MARKUP = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<body", b"<table")
_DELIMITERS = (",", ";", "\t")
_FORMULA_GUARD = re.compile(r"^'(?=[=+\-@])")
# The header is the first of this many non-empty rows that names at least two known columns
# (a title row such as "客户信息导入模板" above it is skipped).
HEADER_SEARCH_ROWS = 10

# How the encodings are shown on the preview page.
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "gb18030": "GB18030 / GBK",
    "utf-16": "UTF-16",
}


@dataclass(frozen=True)
class Row:
    line: int  # the line (CSV) or row (XLSX) number in the file, header = 1
    cells: list[Cell]


def detect_format(stream: IO[bytes]) -> str:
    """``csv`` or ``xlsx`` from the first bytes; a translated DomainError for anything else."""
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(stream) as archive:
                entries = archive.infolist()
        except zipfile.BadZipFile:
            entries = []
        finally:
            stream.seek(0)
        if sum(entry.file_size for entry in entries) > UNPACKED_LIMIT_FACTOR * settings.IMPORT_MAX_MB * 2**20:
            raise DomainError(
                _("This Excel file is too big once unpacked. Split it into smaller files."), field="file"
            )
        if "xl/workbook.xml" in {entry.filename for entry in entries}:
            return XLSX
        raise DomainError(_("This file is not an Excel workbook (.xlsx) nor a CSV file."), field="file")
    if head.startswith(_OLE):
        raise DomainError(
            _("Old Excel files (.xls) cannot be read. Save the file as .xlsx or .csv and upload it again."),
            field="file",
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return CSV
    lowered = head.lstrip().lower()
    if b"\0" in head or any(lowered.startswith(marker) for marker in _MARKUP):
        raise DomainError(_("This file is not an Excel workbook (.xlsx) nor a CSV file."), field="file")
    if not head.strip():
        raise DomainError(_("The file is empty."), field="file")
    return CSV


def detect_encoding(data: bytes) -> str:
    """A byte-order mark wins; else strict UTF-8; else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise DomainError(
        _("The file's text encoding was not recognised. Save it as CSV UTF-8 or as .xlsx and try again."),
        field="file",
    )


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of (comma if none)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(data: bytes, encoding: str) -> Iterator[Row]:
    text = data.decode(encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    line = 1
    try:
        for cells in reader:
            # A quoted cell may hold line breaks: a record starts on the line after the last one.
            yield Row(line, list(cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise DomainError(
            _("Line %(line)s of the file cannot be read: %(error)s") % {"line": line, "error": error},
            field="file",
        ) from error


def _xlsx_rows(stream: IO[bytes]) -> Iterator[Row]:
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise DomainError(_("This Excel file is damaged and cannot be read."), field="file") from error
    try:
        sheet = workbook.worksheets[0]
        # Some tools write a wrong size into the sheet; read what is really there.
        sheet.reset_dimensions()
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield Row(number, list(cells))
    finally:
        workbook.close()


def read_rows(stream: IO[bytes], file_format: str, encoding: str = "") -> Iterator[Row]:
    """Every row of the file in order, with trailing empty cells dropped; empty rows included."""
    stream.seek(0)
    rows = _xlsx_rows(stream) if file_format == XLSX else _csv_rows(stream.read(), encoding)
    for row in rows:
        cells = row.cells
        while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
            cells.pop()
        yield Row(row.line, cells)


def to_text(cell: Cell) -> str:
    """The cell as the user typed it: ``13800138000`` rather than ``13800138000.0``."""
    if cell is None:
        return ""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else str(cell)
    if isinstance(cell, datetime):
        return f"{cell:%Y-%m-%d}" if cell.time() == time() else f"{cell:%Y-%m-%d %H:%M}"
    if isinstance(cell, date | time):
        return cell.isoformat()
    # Undo the apostrophe our own error files put before text a spreadsheet would run as a formula.
    return _FORMULA_GUARD.sub("", str(cell).strip())


def is_blank(row: Row) -> bool:
    """A row with no value at all (``read_rows`` already dropped its empty trailing cells)."""
    return not row.cells or all(
        cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row.cells
    )


@dataclass
class Table:
    header_line: int
    headers: list[str]
    rows: list[Row]  # the non-empty rows below the header


def _find_header(rows: Iterator[Row]) -> tuple[Row, list[Row]]:
    """The header row, and the non-empty rows read past it while looking for it."""
    candidates: list[Row] = []
    for row in rows:
        if is_blank(row):
            continue
        candidates.append(row)
        if recognised(row.cells) >= 2:
            return row, []
        if len(candidates) >= HEADER_SEARCH_ROWS:
            break
    if not candidates:
        raise DomainError(_("The file is empty."), field="file")
    return candidates[0], candidates[1:]


def read_table(stream: IO[bytes], file_format: str, encoding: str = "") -> Table:
    rows = read_rows(stream, file_format, encoding)
    header, data = _find_header(rows)
    data += [row for row in rows if not is_blank(row)]
    return Table(header_line=header.line, headers=[to_text(cell) for cell in header.cells], rows=data)


def read_head(stream: IO[bytes], file_format: str, encoding: str = "") -> tuple[Table, bool]:
    """The header without reading the whole file, and whether at least one row follows it."""
    rows = read_rows(stream, file_format, encoding)
    header, data = _find_header(rows)
    more = bool(data) or any(not is_blank(row) for row in rows)
    rows.close()  # an XLSX is read no further than needed
    return Table(header_line=header.line, headers=[to_text(cell) for cell in header.cells], rows=[]), more
