"""Merging duplicate customers: choose the other one, compare side by side, merge; the dedupe scan."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import require
from accounts.errors import ConcurrentEditError, DomainError
from customers.forms.merge import MergeForm, MergeSearchForm
from customers.models import Customer
from customers.selectors import customer_get
from customers.services import merge as merge_services

PERMISSION = "customers.merge_customer"


def _older_first(one: Customer, other: Customer) -> tuple[Customer, Customer]:
    """The customer kept by default: the one created first."""
    return (one, other) if (one.created_at, one.pk) <= (other.created_at, other.pk) else (other, one)


def _current_versions(survivor: Customer, other: Customer) -> tuple[str, str]:
    """Reload both customers as they are now (someone saved one while the user compared)."""
    survivor.refresh_from_db()
    other.refresh_from_db()
    return str(survivor.version), str(other.version)


@require_GET
def customer_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a merge from one customer: its likely duplicates, and a search over the scope."""
    customer = customer_get(request.user, pk)
    require(request.user, PERMISSION)
    form = MergeSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    context = {
        "customer": customer,
        "form": form,
        "query": query,
        "results": merge_services.customer_search(request.user, query, exclude=customer) if query else [],
    }
    if request.htmx:
        response = TemplateResponse(request, "customers/merge_choose.html#results", context)
    else:
        context["duplicates"] = merge_services.customer_duplicates(request.user, customer)
        response = TemplateResponse(request, "customers/merge_choose.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET", "POST"])
def customer_merge_compare(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """The side-by-side screen (GET) and the merge itself (POST)."""
    one = customer_get(request.user, pk)
    two = customer_get(request.user, other_pk)
    require(request.user, PERMISSION)
    if one.pk == two.pk:
        messages.error(request, _("A customer cannot be merged with itself."))
        return redirect("customers:customer-merge", one.pk)
    survivor, other = _older_first(one, two)
    wanted = (request.POST if request.method == "POST" else request.GET).get("survivor")
    if wanted == str(other.pk):
        survivor, other = other, survivor
    form = MergeForm(request.POST or None, survivor=survivor, other=other, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            kept = merge_services.customer_merge(
                actor=request.user,
                survivor=survivor,
                merged=other,
                choices=form.choices(),
                expected_versions=form.expected_versions(),
            )
        except ConcurrentEditError as error:
            # Show the values as they are now, keep the user's choices, and merge on the next POST.
            data = request.POST.copy()
            data["survivor_version"], data["other_version"] = _current_versions(survivor, other)
            form = MergeForm(data, survivor=survivor, other=other, user=request.user)
            form.is_valid()
            form.add_error(None, error.message)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("%(merged)s was merged into %(survivor)s.") % {"merged": other, "survivor": kept},
            )
            return redirect("customers:customer-detail", kept.pk)
    counts = zip(merge_services.related_counts(survivor), merge_services.related_counts(other), strict=True)
    context = {
        "survivor": survivor,
        "other": other,
        "form": form,
        "rows": form.rows(),
        "counts": [(label, kept, moving) for (_name, label, kept), (_n, _l, moving) in counts],
    }
    return TemplateResponse(request, "customers/merge_compare.html", context)


@require_GET
def dedupe_scan(request: HttpRequest) -> HttpResponse:
    """Likely duplicate pairs across the manager's whole scope, 50 a page."""
    require(request.user, PERMISSION)
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = merge_services.duplicate_pairs(request.user, page=number)
    reasons = {"name": _("Same name"), "phone": _("Same phone"), "email": _("Same e-mail")}
    context = {
        "page": page,
        "pairs": [(pair, [reasons[reason] for reason in pair.reasons]) for pair in page.pairs],
        "max_cluster": merge_services.MAX_CLUSTER,
    }
    return TemplateResponse(request, "customers/dedupe_scan.html", context)


urlpatterns = [
    path("<int:pk>/merge/", customer_merge, name="customer-merge"),
    path("merge/<int:pk>/<int:other_pk>/", customer_merge_compare, name="customer-merge-compare"),
    path("duplicates/", dedupe_scan, name="dedupe-scan"),
]
