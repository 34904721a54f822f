"""The customer list: search, filters, sorting, pagination, bulk actions, segments and exports."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.errors import DomainError
from accounts.exports import start_export
from customers import exports as customer_exports
from customers.filters import DEFAULT_SORT_PARAM, SORT_FIELDS
from customers.forms.listing import (
    BULK_PERMISSIONS,
    MAX_QUERY_LENGTH,
    BulkAction,
    BulkActionForm,
    ExportForm,
    SegmentForm,
    bulk_actions_for,
    list_query,
)
from customers.selectors import (
    customer_filter,
    customer_rows,
    customers_visible_to,
    manages,
    segment_get_own,
    segments_visible_to,
)
from customers.services import segments as segment_services
from customers.services.related import customers_change_tag
from customers.services.transfer import customers_transfer

PER_PAGE_CHOICES = (25, 50, 100)
TEMPLATE = "customers/customer_list.html"


def _per_page(params: QueryDict) -> int:
    try:
        value = int(params.get("per_page", ""))
    except ValueError:
        return PER_PAGE_CHOICES[0]
    return value if value in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def _list_url(query: str) -> str:
    url = reverse("customers:customer-list")
    return f"{url}?{query}" if query else url


def _posted_query(request: HttpRequest) -> str:
    return list_query(request.POST.get("query", "")[:MAX_QUERY_LENGTH])


def _posted_ids(request: HttpRequest) -> set[int]:
    return {int(value) for value in request.POST.getlist("ids") if value.isdigit()}


def _sort_links(params: QueryDict) -> dict[str, dict[str, str | None]]:
    """For each sortable column header: the URL that sorts by it (reversed when it is the current
    sort) and the current direction, if any."""
    current = params.get("o") or DEFAULT_SORT_PARAM
    links = {}
    for key in SORT_FIELDS:
        if current == key:
            target, state = f"-{key}", "ascending"
        elif current == f"-{key}":
            target, state = key, "descending"
        else:
            target, state = key, None
        query = params.copy()
        query["o"] = target
        links[key] = {"url": _list_url(list_query(query.urlencode())), "state": state}
    return links


def _list_response(
    request: HttpRequest,
    params: QueryDict,
    *,
    bulk_form: BulkActionForm | None = None,
    segment_form: SegmentForm | None = None,
    selected: set[int] | frozenset[int] = frozenset(),
) -> TemplateResponse:
    """The list for ``params``; also re-shown by a failed bulk action or segment form."""
    user = request.user
    filterset = customer_filter(actor=user, params=params)
    per_page = _per_page(params)
    page = Paginator(customer_rows(filterset.qs), per_page).get_page(params.get("page"))
    query = list_query(params.urlencode())
    bulk_actions = bulk_actions_for(user)
    context = {
        "filter": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "customers": page.object_list,
        "params": params,
        "query": query,
        "per_page": per_page,
        "per_page_choices": PER_PAGE_CHOICES,
        "sort_links": _sort_links(params),
        "segments": segments_visible_to(user),
        "bulk_actions": bulk_actions,
        "bulk_form": bulk_form
        or (BulkActionForm(actor=user, initial={"query": query}) if bulk_actions else None),
        "segment_form": segment_form or SegmentForm(actor=user, initial={"query": query}),
        "export_form": ExportForm(initial={"query": query, "format": "xlsx"}),
        "can_export": user.has_perm("customers.export_customer"),
        "selected": selected,
        "show_more_filters": any(
            params.get(name)
            for name in filterset.form.fields
            if name not in ("q", "kind", "value_class", "stage", "tag_mode", "o")
        ),
    }
    template = f"{TEMPLATE}#results" if request.htmx and request.method == "GET" else TEMPLATE
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    access.require(request.user, "customers.view_customer")
    return _list_response(request, request.GET)


@require_POST
def customer_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the ticked rows; ids outside the actor's scope are ignored (404 if all are)."""
    user = request.user
    access.require(user, "customers.view_customer")
    action = request.POST.get("action", "")
    if action in BULK_PERMISSIONS:
        access.require(user, BULK_PERMISSIONS[action])
    form = BulkActionForm(request.POST, actor=user)
    if not form.is_valid():
        return _list_response(
            request, QueryDict(_posted_query(request)), bulk_form=form, selected=_posted_ids(request)
        )
    data = form.cleaned_data
    customers = list(customers_visible_to(user).filter(pk__in=data["ids"]).select_related("owner"))
    if not customers:
        raise Http404
    back = redirect(_list_url(data["query"]))
    match data["action"]:
        case BulkAction.ASSIGN_OWNER:
            owner = data["owner"]
            note = data["note"] or _("Transferred in bulk from the customer list.")
            # As for one customer: only those of the teams the actor leads (or all, for scope ALL);
            # a lead who is a collaborator on another team's customer may not give it away.
            managed = [customer for customer in customers if manages(user, customer)]
            if skipped := len(customers) - len(managed):
                messages.warning(
                    request,
                    ngettext(
                        "%(count)d customer was left out: it belongs to a team you do not lead.",
                        "%(count)d customers were left out: they belong to teams you do not lead.",
                        skipped,
                    )
                    % {"count": skipped},
                )
            try:
                count = customers_transfer(actor=user, customers=managed, new_owner=owner, note=note)
            except DomainError as error:
                form.add_error("owner" if error.field == "owner" else None, error.message)
                return _list_response(
                    request, QueryDict(data["query"]), bulk_form=form, selected=set(data["ids"])
                )
            messages.success(
                request,
                ngettext(
                    "%(count)d customer was transferred to %(owner)s.",
                    "%(count)d customers were transferred to %(owner)s.",
                    count,
                )
                % {"count": count, "owner": owner},
            )
        case BulkAction.ADD_TAG | BulkAction.REMOVE_TAG:
            tag, add = data["tag"], data["action"] == BulkAction.ADD_TAG
            count = customers_change_tag(actor=user, customers=customers, tag=tag, add=add)
            if add:
                text = ngettext(
                    "The tag “%(tag)s” was added to %(count)d customer.",
                    "The tag “%(tag)s” was added to %(count)d customers.",
                    count,
                )
            else:
                text = ngettext(
                    "The tag “%(tag)s” was removed from %(count)d customer.",
                    "The tag “%(tag)s” was removed from %(count)d customers.",
                    count,
                )
            messages.success(request, text % {"tag": tag.name, "count": count})
        case BulkAction.EXPORT_CSV | BulkAction.EXPORT_XLSX:
            fmt = "csv" if data["action"] == BulkAction.EXPORT_CSV else "xlsx"
            export = start_export(
                user=user,
                kind=customer_exports.KIND,
                params={"ids": [customer.pk for customer in customers]},
                fmt=fmt,
            )
            return redirect("accounts:export-detail", export.pk)
    return back


@require_POST
def customer_export(request: HttpRequest) -> HttpResponse:
    """Export the list as filtered (in the actor's scope) to CSV or XLSX, built in the background."""
    user = request.user
    access.require(user, "customers.export_customer")
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose CSV or XLSX."))
        return redirect(_list_url(_posted_query(request)))
    export = start_export(
        user=user,
        kind=customer_exports.KIND,
        params={"query": form.cleaned_data["query"]},
        fmt=form.cleaned_data["format"],
    )
    return redirect("accounts:export-detail", export.pk)


@require_POST
def segment_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, "customers.view_customer")
    form = SegmentForm(request.POST, actor=user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            segment = segment_services.segment_create(
                actor=user, name=data["name"], query=data["query"], shared=data["shared"]
            )
        except DomainError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, _("The segment “%(name)s” was saved.") % {"name": segment.name})
            return redirect(_list_url(segment.query))
    return _list_response(request, QueryDict(_posted_query(request)), segment_form=form)


@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    segment = segment_get_own(user, pk)
    segment_services.segment_delete(actor=user, segment=segment)
    messages.success(request, _("The segment “%(name)s” was deleted.") % {"name": segment.name})
    return redirect(_list_url(_posted_query(request)))


urlpatterns = [
    path("", customer_list, name="customer-list"),
    path("bulk/", customer_bulk, name="customer-bulk"),
    path("export/", customer_export, name="customer-export"),
    path("segments/new/", segment_create, name="segment-create"),
    path("segments/<int:pk>/delete/", segment_delete, name="segment-delete"),
]
