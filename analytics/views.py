"""The report pages (报表): the dashboard of every section the user may see, one page per section
(for drill-down and bookmarks), and the CSV/XLSX download of a section's tables.

Sections are computed by their own modules (``analytics.base`` registry) and rendered here
generically. Each section is built twice, for the period and for the one before (the change
shown next to each figure); the page itself adds a constant number of queries around them.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import Scope as Visibility
from accounts.access import scope_of
from analytics import exports
from analytics.base import (
    PERCENT,
    Figure,
    Period,
    Scope,
    ScopeError,
    Section,
    SectionResult,
    Table,
    scope_for,
    sections_for,
)
from analytics.base import section as section_by_key
from analytics.forms import ReportFilterForm, sees_several_people
from analytics.templatetags.analytics import affixes


@dataclass
class Filters:
    form: ReportFilterForm
    scope: Scope | None = None  # None when the form has errors: nothing is computed
    period: Period | None = None
    scope_label: str = ""

    @property
    def query(self) -> str:
        return self.form.query_string() if self.scope else ""


@dataclass
class RenderedTable:
    table: Table
    chart_id: str
    chart: dict[str, Any] | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    label_key: str = ""


@dataclass
class RenderedSection:
    section: Section
    figures: list[Figure]
    tables: list[RenderedTable]


def _id_param(params: QueryDict, name: str) -> int | None:
    """A team or owner id from the query string; anything but a number is a page that isn't there."""
    value = params.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    return int(value)


def report_filters(request: HttpRequest) -> Filters:
    """The period and the scope the viewer asked for. A team or owner outside their reach is a
    404 (as any record out of scope); a rep asking for anyone else's numbers gets the same."""
    viewer = request.user
    team_id, owner_id = _id_param(request.GET, "team"), _id_param(request.GET, "owner")
    try:
        # Each one alone must be within reach; the pair is checked by the form (a form error).
        if team_id is not None:
            scope_for(viewer, team_id=team_id)
        if owner_id is not None:
            scope_for(viewer, owner_id=owner_id)
    except ScopeError:
        raise Http404 from None
    form = ReportFilterForm(request.GET, viewer=viewer)
    if not form.is_valid():
        return Filters(form)
    team, owner = form.cleaned_data.get("team"), form.cleaned_data.get("owner")
    try:
        scope = scope_for(viewer, team_id=team.pk if team else None, owner_id=owner.pk if owner else None)
    except ScopeError:
        raise Http404 from None
    return Filters(form, scope, form.get_period(), _scope_label(viewer, team, owner))


def _scope_label(viewer, team, owner) -> str:
    """Whose numbers the page shows, in words, next to the period."""
    if owner is not None:
        return _("Owner: %(name)s") % {"name": owner}
    if team is not None:
        return _("Team: %(name)s") % {"name": team}
    if not sees_several_people(viewer):
        return _("Your own numbers")
    if scope_of(viewer) is Visibility.ALL:
        return _("All teams")
    return _("The teams you lead")


def _plot_value(value: Any, unit: str) -> float | int | None:
    """A number Chart.js can draw: percentages as 0–100, decimals as floats."""
    if value is None:
        return None
    if unit == PERCENT:
        return round(float(value) * 100, 2)
    if isinstance(value, Decimal):
        return float(value)
    return value


def chart_data(table: Table) -> dict[str, Any] | None:
    """What static/js/analytics-charts.js draws: labels and one dataset per value column (with
    the unit's prefix and suffix for the axis and tooltips), and each row's drill-down link."""
    if not table.chart or not table.columns or not table.rows:
        return None
    columns = {column.key: column for column in table.columns}
    label_key = table.label_column or table.columns[0].key
    value_keys = table.value_columns or [column.key for column in table.columns if column.key != label_key]
    return {
        "type": table.chart,
        "labels": [str(row.get(label_key, "")) for row in table.rows],
        "datasets": [
            {
                "label": str(columns[key].label),
                "unit": columns[key].unit,
                "data": [_plot_value(row.get(key), columns[key].unit) for row in table.rows],
                **dict(zip(("prefix", "suffix"), affixes(columns[key].unit), strict=True)),
            }
            for key in value_keys
            if key in columns
        ],
        "urls": [row.get("_url") or "" for row in table.rows],
    }


def build_with_previous(section: Section, scope: Scope, period: Period) -> SectionResult:
    """The section for ``period``, each figure carrying its value of the period before."""
    result = section.build(scope, period)
    before = section.build(scope, period.previous())
    previous = {figure.key: figure.value for figure in before.figures}
    for figure in result.figures:
        if figure.previous is None:
            figure.previous = previous.get(figure.key)
    return result


def render_section(section: Section, scope: Scope, period: Period) -> RenderedSection:
    result = build_with_previous(section, scope, period)
    tables = []
    for table in result.tables:
        label_key = table.label_column or (table.columns[0].key if table.columns else "")
        rows = [
            {
                "url": row.get("_url"),
                "cells": [
                    {"value": row.get(column.key), "unit": column.unit, "label": column.key == label_key}
                    for column in table.columns
                ],
            }
            for row in table.rows
        ]
        chart_id = f"chart-{section.key}-{table.key}"
        tables.append(RenderedTable(table, chart_id, chart_data(table), rows, label_key))
    return RenderedSection(section, result.figures, tables)


def _viewable_section(user, key: str) -> Section:
    try:
        section = section_by_key(key)
    except KeyError:
        raise Http404 from None
    if not section.allowed(user):
        raise PermissionDenied
    return section


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    filters = report_filters(request)
    sections = []
    if filters.scope is not None:
        sections = [
            render_section(section, filters.scope, filters.period) for section in sections_for(request.user)
        ]
    return TemplateResponse(
        request,
        "analytics/dashboard.html",
        {"filters": filters, "form": filters.form, "sections": sections, "title": _("Reports")},
    )


@require_GET
def section_detail(request: HttpRequest, key: str) -> HttpResponse:
    section = _viewable_section(request.user, key)
    filters = report_filters(request)
    sections = []
    if filters.scope is not None:
        sections = [render_section(section, filters.scope, filters.period)]
    return TemplateResponse(
        request,
        "analytics/dashboard.html",
        {
            "filters": filters,
            "form": filters.form,
            "sections": sections,
            "single": section,
            "title": section.title,
        },
    )


@require_GET
def section_export(request: HttpRequest, key: str, table: str) -> HttpResponse:
    """One table of a section (or its figures) as CSV or XLSX, computed in the viewer's scope."""
    section = _viewable_section(request.user, key)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in exports.FORMATS:
        raise Http404
    filters = report_filters(request)
    if filters.scope is None:
        raise Http404
    if table == exports.FIGURES:
        result = build_with_previous(section, filters.scope, filters.period)
    else:
        result = section.build(filters.scope, filters.period)
    try:
        headers, rows, name = exports.table_rows(section, result, table)
    except LookupError:
        raise Http404 from None
    return exports.download(headers, rows, f"{name}-{filters.period.start:%Y%m%d}", fmt)
