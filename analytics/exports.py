"""CSV and XLSX downloads of a report section's tables and figures, within the viewer's scope.

A report table is already aggregated (a few dozen rows at most), so it is written straight into
the response instead of going through the background exports of ``accounts.exports``; the view
computes the section for the viewer's own scope and period first. Cells go through
``accounts.tabular`` (formula-safe, UTF-8 with a BOM for Excel in China).
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from accounts import tabular
from analytics.base import DAYS, HOURS, MONEY, PERCENT, Section, SectionResult

CSV, XLSX = "csv", "xlsx"
FORMATS = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The "table" name of a section's figures (key figures, their previous values and formulas).
FIGURES = "figures"


def unit_suffix(unit: str) -> str:
    """What a spreadsheet header says about its numbers (a cell holds a bare number)."""
    return {
        PERCENT: " (%)",
        MONEY: " (" + _("CNY") + ")",
        HOURS: " (" + _("hours") + ")",
        DAYS: " (" + _("days") + ")",
    }.get(unit, "")


def _header(label: str, suffix: str) -> str:
    """The column label with its unit, unless the label names it already ("Amount (CNY)")."""
    return label if not suffix or suffix.strip(" ()") in label else label + suffix


def cell(value: Any, unit: str) -> tabular.Cell:
    """A number as a spreadsheet should hold it: percentages as 0–100, money rounded to cents."""
    if value is None:
        return None
    if unit == PERCENT and isinstance(value, int | float | Decimal):
        return round(float(value) * 100, 2)
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, int | Decimal | str | datetime.date):
        return value
    return str(value)


def table_rows(section: Section, result: SectionResult, key: str) -> tuple[list[str], list[list], str]:
    """Headers, rows and a file name for table ``key`` of a built section; LookupError if none."""
    if key == FIGURES:
        headers = [_("Figure"), _("Value"), _("Previous period"), _("Change (%)"), _("Unit"), _("Formula")]
        rows = [
            [
                str(figure.label),
                cell(figure.value, figure.unit),
                cell(figure.previous, figure.unit),
                None if figure.change is None else round(figure.change * 100, 1),
                unit_suffix(figure.unit).strip(" ()"),
                str(figure.help),
            ]
            for figure in result.figures
        ]
        return headers, rows, f"{section.key}-{FIGURES}"
    table = next((table for table in result.tables if table.key == key), None)
    if table is None:
        raise LookupError(key)
    headers = [_header(str(column.label), unit_suffix(column.unit)) for column in table.columns]
    rows = [[cell(row.get(column.key), column.unit) for column in table.columns] for row in table.rows]
    return headers, rows, f"{section.key}-{table.key}"


def download(headers: Sequence[str], rows: list[list], name: str, fmt: str) -> HttpResponse:
    if fmt == CSV:
        content = tabular.csv_bytes(headers, rows)
    else:
        content = tabular.xlsx_bytes(headers, rows, title=name)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
