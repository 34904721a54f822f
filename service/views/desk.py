"""The service desk (服务台): my tickets, unassigned, breaching soon and all, with filters, sort,
paging and export."""

from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.exports import start_export
from accounts.http import htmx_response
from accounts.paging import CappedPaginator
from service import exports as ticket_exports
from service.forms import ExportForm, list_query
from service.selectors import (
    TAB_ALL,
    TAB_BREACHING,
    TAB_MINE,
    TAB_UNASSIGNED,
    TABS,
    default_tab,
    desk_counts,
    desk_tab_queryset,
    ticket_filter,
    ticket_rows,
)

PER_PAGE = 25
VIEW = "service.view_ticket"


def desk_tabs(user) -> list[tuple[str, str, int | None]]:
    """The tabs with the badge of those that call for action (three counts)."""
    counts = desk_counts(user)
    labels = [
        (TAB_MINE, _("My tickets")),
        (TAB_UNASSIGNED, _("Unassigned")),
        (TAB_BREACHING, _("Breaching soon")),
        (TAB_ALL, pgettext("tickets", "All")),
    ]
    return [(key, label, counts.get(key)) for key, label in labels]


@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    tab = request.GET.get("tab")
    if tab not in TABS:
        tab = default_tab(user)
    filterset = ticket_filter(actor=user, params=request.GET, tab=tab)
    page = CappedPaginator(ticket_rows(filterset.qs), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query["tab"] = tab
    context = {
        "tab": tab,
        "tabs": desk_tabs(user),
        "filter": filterset,
        "page": page,
        "tickets": page.object_list,
        "export_form": ExportForm(initial={"query": list_query(query.urlencode()), "format": "xlsx"}),
        "can_export": user.has_perm(ticket_exports.EXPORT_PERMISSION),
    }
    template = "service/desk.html"
    return htmx_response(request, f"{template}#results" if request.htmx else template, context)


@require_POST
def desk_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    access.require(user, ticket_exports.EXPORT_PERMISSION)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose CSV or XLSX."))
        return redirect("service:desk")
    export = start_export(
        user=user,
        kind=ticket_exports.TICKETS,
        params={"query": form.cleaned_data["query"]},
        fmt=form.cleaned_data["format"],
    )
    return redirect("accounts:export-detail", export.pk)


urlpatterns = [
    path("service/", desk, name="desk"),
    path("service/export/", desk_export, name="desk-export"),
]


WORKBENCH_TICKETS = 8


def workbench_panel(request: HttpRequest) -> dict | None:
    """The home page's "My tickets" panel for those who work on tickets: the badges of the desk's
    tabs and their open tickets, nearest resolution due first (four queries)."""
    user = request.user
    counts = desk_counts(user)
    tickets = list(
        ticket_rows(desk_tab_queryset(user, TAB_MINE)).order_by(
            F("paused_at").asc(nulls_first=True), F("resolution_due").asc(nulls_last=True), "created_at"
        )[:WORKBENCH_TICKETS]
    )
    now = timezone.now()
    for ticket in tickets:
        ticket.late = (
            ticket.resolution_due is not None and ticket.resolution_due < now and not ticket.paused_at
        )
    return {
        "tickets": tickets,
        "counts": counts,
        "more": max(counts[TAB_MINE] - len(tickets), 0),
        "mine_url": f"{reverse('service:desk')}?tab={TAB_MINE}",
        "unassigned_url": f"{reverse('service:desk')}?tab={TAB_UNASSIGNED}",
        "breaching_url": f"{reverse('service:desk')}?tab={TAB_BREACHING}",
    }
