"""The opportunity list (filters, sort, export), detail, create, edit and the move-stage page."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import ConcurrentEditError, DomainError
from accounts.exports import start_export
from accounts.http import htmx_response, safe_next
from accounts.paging import CappedPaginator
from customers.selectors import customers_matching, customers_visible_to
from opportunities import exports as opportunity_exports
from opportunities import services
from opportunities.forms import ExportForm, MoveStageForm, OpportunityForm, list_query
from opportunities.selectors import (
    opportunity_filter,
    opportunity_get,
    opportunity_history,
    opportunity_rows,
)
from opportunities.selectors_orders import opportunity_orders
from opportunities.selectors_quotes import opportunity_quotes
from opportunities.views import board

PER_PAGE = 25
SEARCH_LIMIT = 20
VIEW = "opportunities.view_opportunity"
ADD = "opportunities.add_opportunity"
CHANGE = "opportunities.change_opportunity"
VIEW_ORDER = "opportunities.view_order"


@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    filterset = opportunity_filter(actor=user, params=request.GET)
    page = CappedPaginator(opportunity_rows(filterset.qs), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "opportunities": page.object_list,
        "export_form": ExportForm(initial={"query": list_query(request.GET.urlencode()), "format": "xlsx"}),
        "can_export": user.has_perm(opportunity_exports.EXPORT_PERMISSION),
    }
    template = "opportunities/opportunity_list.html"
    return htmx_response(request, f"{template}#results" if request.htmx else template, context)


@require_POST
def opportunity_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    access.require(user, opportunity_exports.EXPORT_PERMISSION)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose CSV or XLSX."))
        return redirect("opportunities:opportunity-list")
    export = start_export(
        user=user,
        kind=opportunity_exports.OPPORTUNITIES,
        params={"query": form.cleaned_data["query"]},
        fmt=form.cleaned_data["format"],
    )
    return redirect("accounts:export-detail", export.pk)


@require_GET
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = opportunity_get(request.user, pk)
    access.require(request.user, VIEW)
    context = {
        "opportunity": opportunity,
        "history": opportunity_history(opportunity),
        "quotes": opportunity_quotes(opportunity),
        "move_form": MoveStageForm(opportunity=opportunity),
        "can_change": request.user.has_perm(CHANGE),
        "orders": opportunity_orders(opportunity, request.user) if request.user.has_perm(VIEW_ORDER) else [],
    }
    return TemplateResponse(request, "opportunities/opportunity_detail.html", context)


@require_http_methods(["GET", "POST"])
def opportunity_create(request: HttpRequest) -> HttpResponse:
    """A new opportunity: ``?customer=<pk>`` (from the customer page) shows the form; without it,
    a search box finds the customer first (no JavaScript needed)."""
    user = request.user
    access.require(user, ADD)
    customer_pk = request.POST.get("customer") or request.GET.get("customer") or ""
    customer = None
    if customer_pk:
        if not customer_pk.isdigit():
            raise Http404
        customer = customers_visible_to(user).filter(pk=customer_pk).first()
        if customer is None:
            raise Http404
    if customer is None:
        query = request.GET.get("q", "").strip()[:100]
        results, more = customers_matching(user, query, limit=SEARCH_LIMIT)
        context: dict[str, Any] = {"query": query, "results": results, "more": more, "limit": SEARCH_LIMIT}
        template = "opportunities/opportunity_choose_customer.html"
        return htmx_response(request, f"{template}#results" if request.htmx else template, context)
    if request.method == "POST":
        form = OpportunityForm(request.POST, actor=user, customer=customer)
        if form.is_valid():
            try:
                opportunity = services.opportunity_create(
                    actor=user,
                    customer=form.cleaned_data["customer"],
                    stage=form.cleaned_data["stage"],
                    owner=form.chosen_owner(),
                    probability=form.cleaned_data.get("probability"),
                    **form.opportunity_fields(),
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request, _("Opportunity %(number)s created.") % {"number": opportunity.number}
                )
                return redirect(opportunity)
    else:
        form = OpportunityForm(actor=user, customer=customer)
    return TemplateResponse(
        request,
        "opportunities/opportunity_form.html",
        {"form": form, "customer": customer, "opportunity": None},
    )


@require_http_methods(["GET", "POST"])
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    opportunity = opportunity_get(user, pk)
    access.require(user, CHANGE)
    if request.method == "POST":
        form = OpportunityForm(request.POST, instance=opportunity, actor=user)
        if form.is_valid():
            fields = form.opportunity_fields()
            if form.cleaned_data.get("probability") is not None:
                fields["probability"] = form.cleaned_data["probability"]
            try:
                opportunity = services.opportunity_update(
                    actor=user,
                    opportunity=opportunity,
                    version=form.cleaned_data["version"],
                    seen=form.seen_values(),
                    **fields,
                )
            except ConcurrentEditError as error:
                # Keep what they typed; the next save is against what is saved now.
                current = opportunity_get(user, pk)
                data = request.POST.copy()
                data["version"] = str(current.version)
                data["seen"] = OpportunityForm(instance=current, actor=user).initial["seen"]
                form = OpportunityForm(data, instance=current, actor=user)
                form.is_valid()
                form.add_error(None, error.message)
                opportunity = current
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Opportunity %(number)s saved.") % {"number": opportunity.number})
                return redirect(opportunity)
    else:
        form = OpportunityForm(instance=opportunity, actor=user)
    return TemplateResponse(
        request,
        "opportunities/opportunity_form.html",
        {"form": form, "customer": opportunity.customer, "opportunity": opportunity},
    )


@require_http_methods(["GET", "POST"])
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move to another stage. The board's card form posts here (htmx or not); the page (GET, or a
    POST that needs more, e.g. a lost reason) shows the full form."""
    user = request.user
    opportunity = opportunity_get(user, pk)
    access.require(user, CHANGE)
    fallback = opportunity.get_absolute_url()
    if request.method == "POST":
        form = MoveStageForm(request.POST, opportunity=opportunity)
        if form.is_valid():
            try:
                opportunity = services.opportunity_move_stage(
                    actor=user, opportunity=opportunity, **form.move_fields()
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                if request.htmx and (params := board.board_params(request)) is not None:
                    # From the board: its columns under the same filters, swapped in place.
                    return board.board_moved(request, opportunity, params)
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Refresh"] = "true"
                    patch_vary_headers(response, ["HX-Request"])
                    return response
                back = safe_next(request, fallback)
                messages.success(request, board.moved_message(opportunity))
                if notice := board.aftersales_notice(opportunity, back):
                    messages.info(request, notice)
                return redirect(back)
    else:
        initial = {"stage": request.GET.get("stage")} if request.GET.get("stage", "").isdigit() else None
        form = MoveStageForm(opportunity=opportunity, initial=initial)
    context = {
        "opportunity": opportunity,
        "form": form,
        "next": safe_next(request, fallback),
        # The board's filters, kept when the board's move needs this form (e.g. a lost reason).
        "board": request.POST.get("board", request.GET.get("board")),
    }
    template = "opportunities/opportunity_move.html"
    return htmx_response(request, f"{template}#move-form" if request.htmx else template, context)


urlpatterns = [
    path("opportunities/", opportunity_list, name="opportunity-list"),
    path("opportunities/export/", opportunity_export, name="opportunity-export"),
    path("opportunities/new/", opportunity_create, name="opportunity-create"),
    path("opportunities/<int:pk>/", opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/edit/", opportunity_edit, name="opportunity-edit"),
    path("opportunities/<int:pk>/move/", opportunity_move, name="opportunity-move"),
]
