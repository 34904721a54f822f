"""Profile review, transfer, the recycle bin and personal-data requests (issue 3)."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import DomainError
from customers.forms.lifecycle import EraseForm, ReviewForm, TransferForm
from customers.models import Customer
from customers.privacy import can_see_private_data
from customers.selectors import customer_get, customer_transfer_targets, manages
from customers.selectors_lifecycle import (
    REVIEW_FILTERS,
    missing_for,
    recycle_bin_get,
    recycle_bin_list,
    review_customer_get,
    review_queue,
    review_summary,
)
from customers.services import privacy, recycle, review, transfer

PAGE_SIZE = 50


def _require_manager(user, customer: Customer, permission: str) -> None:
    """403 without the permission, or for a customer in scope that the user does not manage."""
    access.require(user, permission)
    if not manages(user, customer):
        raise PermissionDenied


def _managed_customer(request: HttpRequest, pk: int, permission: str) -> Customer:
    """404 outside the user's scope (deleted and merged customers too), then the 403 checks."""
    customer = customer_get(request.user, pk)
    _require_manager(request.user, customer, permission)
    return customer


def _customer_url(customer: Customer) -> str:
    return reverse("customers:customer-detail", args=[customer.pk])


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _htmx(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Profile review -----------------------------------------------------------------------


@dataclass
class ReviewRow:
    customer: Customer
    missing: list[Promise | str]
    form: ReviewForm


def _review_row(customer: Customer, form: ReviewForm | None = None) -> ReviewRow:
    form = form or ReviewForm(auto_id=f"id_review_{customer.pk}_%s")
    return ReviewRow(customer=customer, missing=missing_for(customer), form=form)


def _review_page(
    request: HttpRequest, status: str, *, failed: Customer | None = None, form: ReviewForm | None = None
) -> TemplateResponse:
    page = Paginator(review_queue(request.user, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        _review_row(customer, form if failed is not None and customer.pk == failed.pk else None)
        for customer in page
    ]
    if failed is not None and not any(row.customer.pk == failed.pk for row in rows):
        rows.insert(0, _review_row(failed, form))
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "filters": REVIEW_FILTERS,
        # Where a decision returns to: this page, or the page a failed decision came from.
        "next_url": request.get_full_path() if request.method == "GET" else _review_next(request),
    }
    return _htmx(TemplateResponse(request, "customers/review_list.html", context))


def _review_next(request: HttpRequest) -> str:
    return _safe_next(request, reverse("customers:review-list"))


@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    access.require(request.user, "customers.review_customer")
    status = request.GET.get("status", "")
    return _review_page(request, status if status in REVIEW_FILTERS else "pending")


@require_POST
def customer_review(request: HttpRequest, pk: int) -> HttpResponse:
    customer = review_customer_get(request.user, pk)
    _require_manager(request.user, customer, "customers.review_customer")
    form = ReviewForm(request.POST, auto_id=f"id_review_{customer.pk}_%s")
    if form.is_valid():
        try:
            review.customer_review(
                actor=request.user, customer=customer, approve=form.approves, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    succeeded = form.is_bound and not form.errors
    status = request.POST.get("status", "")
    status = status if status in REVIEW_FILTERS else "pending"
    if request.htmx:
        context = {"row": _review_row(customer, None if succeeded else form), "status": status}
        context["next_url"] = _review_next(request)
        return _htmx(TemplateResponse(request, "customers/review_list.html#review-row", context))
    if succeeded:
        if customer.review_status == Customer.ReviewStatus.APPROVED:
            messages.success(request, _("The profile of %(name)s was approved.") % {"name": customer.name})
        else:
            messages.success(
                request, _("The profile of %(name)s was returned to its owner.") % {"name": customer.name}
            )
        return redirect(_review_next(request))
    return _review_page(request, status, failed=customer, form=form)


def review_panel(request: HttpRequest) -> dict[str, Any] | None:
    """The "Reviews waiting" panel of the lead's workbench (accounts.workbench)."""
    return {"summary": review_summary(request.user)}


# --- Transfer ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def customer_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _managed_customer(request, pk, "customers.transfer_customer")
    candidates = customer_transfer_targets(request.user, exclude=customer.owner)
    form = TransferForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        new_owner = form.cleaned_data["owner"]
        try:
            transfer.customers_transfer(
                actor=request.user, customers=[customer], new_owner=new_owner, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("%(customer)s now belongs to %(owner)s.") % {"customer": customer.name, "owner": new_owner},
            )
            return redirect(_customer_url(customer))
    return TemplateResponse(request, "customers/transfer_form.html", {"customer": customer, "form": form})


# --- Recycle bin -------------------------------------------------------------------------


@require_POST
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _managed_customer(request, pk, "customers.delete_customer")
    try:
        recycle.customer_delete(actor=request.user, customer=customer)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_customer_url(customer))
    messages.success(request, _("%(name)s was moved to the recycle bin.") % {"name": customer.name})
    # The bin offers the undo; a manager whose role cannot restore goes back to the list.
    if request.user.has_perm("customers.restore_customer"):
        return redirect("customers:recycle-bin")
    return redirect("customers:customer-list")


@require_GET
def recycle_bin(request: HttpRequest) -> HttpResponse:
    access.require(request.user, "customers.restore_customer")
    page = Paginator(recycle_bin_list(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "can_purge": request.user.has_perm("customers.purge_customer")}
    return TemplateResponse(request, "customers/recycle_bin.html", context)


@require_POST
def customer_restore(request: HttpRequest, pk: int) -> HttpResponse:
    customer = recycle_bin_get(request.user, pk)
    access.require(request.user, "customers.restore_customer")
    try:
        recycle.customer_restore(actor=request.user, customer=customer)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("customers:recycle-bin")
    messages.success(request, _("%(name)s was restored.") % {"name": customer.name})
    return redirect(_customer_url(customer))


@require_POST
def customer_purge(request: HttpRequest, pk: int) -> HttpResponse:
    customer = recycle_bin_get(request.user, pk)
    access.require(request.user, "customers.purge_customer")
    try:
        recycle.customer_purge(actor=request.user, customer=customer)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(number)s was permanently deleted.") % {"number": customer.number})
    return redirect("customers:recycle-bin")


# --- Personal data (PIPL) ----------------------------------------------------------------


def _held(customer: Customer, *, show_private: bool) -> list[tuple[str, Any]]:
    """The personal fields of the profile with their values, private numbers masked unless allowed."""
    rows = []
    for name in ["name", *privacy.ERASED_VALUES]:
        field = Customer._meta.get_field(name)
        if name == "id_card_number" and not show_private:
            value = customer.id_card_masked
        elif name == "bank_card_number" and not show_private:
            value = customer.bank_card_masked
        elif field.choices:
            value = getattr(customer, f"get_{name}_display")()
        else:
            value = getattr(customer, name)
        rows.append((field.verbose_name, value))
    return rows


def _personal_data_page(request: HttpRequest, customer: Customer, form: EraseForm) -> TemplateResponse:
    show_private = can_see_private_data(request.user, customer)
    context = {
        "customer": customer,
        "form": form,
        "held": _held(customer, show_private=show_private),
        "contacts_count": customer.contacts.count(),
        "attachments_count": customer.attachments.count(),
        "history_count": customer.changes.count(),
        "show_private": show_private,
    }
    return TemplateResponse(request, "customers/personal_data.html", context)


@require_http_methods(["GET", "POST"])
def customer_personal_data(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what is held and the two requests; POST (action "export"): the JSON download."""
    customer = _managed_customer(request, pk, "customers.erase_personal_data")
    if request.method == "POST":
        if request.POST.get("action") != "export":
            return redirect("customers:customer-personal-data", pk=customer.pk)
        content = privacy.customer_personal_data_export(actor=request.user, customer=customer)
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{customer.number}-personal-data.json"'
        response["Cache-Control"] = "no-store"
        return response
    return _personal_data_page(request, customer, EraseForm(customer=customer))


@require_POST
def customer_erase(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _managed_customer(request, pk, "customers.erase_personal_data")
    form = EraseForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            privacy.customer_erase(actor=request.user, customer=customer)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("The personal data of %(number)s was erased.") % {"number": customer.number}
            )
            return redirect(_customer_url(customer))
    return _personal_data_page(request, customer, form)


urlpatterns = [
    path("reviews/", review_list, name="review-list"),
    path("<int:pk>/review/", customer_review, name="customer-review"),
    path("<int:pk>/transfer/", customer_transfer, name="customer-transfer"),
    path("<int:pk>/delete/", customer_delete, name="customer-delete"),
    path("recycle-bin/", recycle_bin, name="recycle-bin"),
    path("recycle-bin/<int:pk>/restore/", customer_restore, name="customer-restore"),
    path("recycle-bin/<int:pk>/purge/", customer_purge, name="customer-purge"),
    path("<int:pk>/personal-data/", customer_personal_data, name="customer-personal-data"),
    path("<int:pk>/erase/", customer_erase, name="customer-erase"),
]
