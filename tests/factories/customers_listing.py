"""Helpers of the customer list and export tests (tests/customers/test_listing.py and friends)."""

import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.models import Export
from crm_site.celery import app as celery_app


@pytest.fixture
def media(settings, tmp_path):
    """Exports and attachments go to a temporary folder, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks run in the process when sent, as a worker would run them."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", True)


def export_rows(export: Export) -> list[list[str]]:
    """The cells of an export's file as text (CSV) or values (XLSX), header row first."""
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        data = handle.read()
    if export.format == Export.Format.CSV:
        assert data.startswith(b"\xef\xbb\xbf"), "CSV exports start with a BOM for Excel"
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)]
