"""CSV and XLSX files for exports and error reports, safe to open in Excel or WPS.

Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) are prefixed with an apostrophe, so an exported customer name such as
``=HYPERLINK(...)`` stays text. CSV is written as UTF-8 with a BOM, which Excel in China opens
correctly.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | date | datetime | None


def safe_cell(value: Cell) -> Cell:
    """Neutralise text that a spreadsheet would evaluate; numbers and dates pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: write the local wall time the user sees in the app.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value


def _text(value: Cell) -> str:
    value = safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def write_csv(stream: io.TextIOBase, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> int:
    """Write rows to a text stream opened with ``encoding="utf-8-sig", newline=""``; returns the count."""
    writer = csv.writer(stream)
    writer.writerow([_text(header) for header in headers])
    count = 0
    for row in rows:
        writer.writerow([_text(cell) for cell in row])
        count += 1
    return count


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, headers, rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str = "Sheet1") -> bytes:
    """An XLSX workbook in write-only mode (constant memory, fine for 100,000 rows)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    widths = [max(10, min(40, len(str(header)) * 2 + 2)) for header in headers]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([str(header) for header in headers])
    for row in rows:
        sheet.append([safe_cell(cell) if not isinstance(cell, Decimal) else float(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
