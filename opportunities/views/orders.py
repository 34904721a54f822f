"""Orders / contracts (订单/合同), their payment plan (回款计划) and payments (回款记录).

An accepted quote becomes an order (``order-create``, linked from the quote page); the order page
shows the plan with each instalment's state, the payments, and the actions: record a payment,
edit the plan, cancel the order, void a payment (managers). The list (nav "Orders") filters,
sorts, totals the filtered orders in CNY and exports them.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.access import Scope, scope_of
from accounts.errors import ConcurrentEditError, DomainError
from accounts.exports import start_export
from accounts.http import htmx_response
from accounts.paging import CappedPaginator
from accounts.templatetags.crm import money
from opportunities import exports_orders
from opportunities.forms import ExportForm, list_query
from opportunities.forms_orders import OrderCreateForm, PaymentForm, PlanEditForm, ReasonForm
from opportunities.models import Order, Quote
from opportunities.selectors_orders import (
    collections,
    customer_collections,
    order_filter,
    order_get,
    order_instalments,
    order_payments,
    order_rows,
    order_totals,
    overdue_of,
    payment_get,
    quote_for_order,
    quote_order,
)
from opportunities.services import orders as services

PER_PAGE = 25
VIEW = "opportunities.view_order"
ADD = "opportunities.add_order"
CHANGE = "opportunities.change_order"
VIEW_PAYMENT = "opportunities.view_payment"
ADD_PAYMENT = "opportunities.add_payment"
# Voiding a payment is a manager's correction.
VOID_PAYMENT = "opportunities.change_payment"


def _quote_url(quote: Quote) -> str:
    try:
        return quote.get_absolute_url()
    except NoReverseMatch:  # the quote pages are another slice's
        return quote.opportunity.get_absolute_url()


def _form_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


# --- Create from a quote --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest, quote_pk: int) -> HttpResponse:
    user = request.user
    quote = quote_for_order(user, quote_pk)
    access.require(user, ADD)
    existing = quote_order(quote)
    if existing is not None:
        messages.info(
            request,
            _("Quote %(quote)s already became order %(number)s.")
            % {"quote": quote, "number": existing.number},
        )
        return redirect(existing)
    if quote.status != Quote.Status.ACCEPTED or quote.superseded_at is not None:
        messages.error(request, _("Only an accepted quote can become an order."))
        return redirect(_quote_url(quote))
    if request.method == "POST":
        if request.POST.get("action") == "split":
            form = OrderCreateForm.split(request.POST, quote=quote)
        else:
            form = OrderCreateForm(request.POST, quote=quote)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    order = services.order_create_from_quote(
                        actor=user,
                        quote=quote,
                        title=data["title"],
                        signed_on=data["signed_on"],
                        amount=data["amount"],
                        notes=data["notes"],
                        plan=form.plan.planned(),
                    )
                except DomainError as error:
                    _form_error(form, error)
                else:
                    messages.success(
                        request,
                        _("Order %(number)s signed; the opportunity is won.") % {"number": order.number},
                    )
                    return redirect(order)
    else:
        form = OrderCreateForm(quote=quote)
    context = {"form": form, "plan": form.plan, "quote": quote, "quote_url": _quote_url(quote)}
    return TemplateResponse(request, "opportunities/order_form.html", context)


# --- The order page and its actions ---------------------------------------------------------


@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    order = order_get(user, pk)
    access.require(user, VIEW)
    today = timezone.localdate()
    instalments = order_instalments(order, today)
    active = order.status == Order.Status.ACTIVE
    context = {
        "order": order,
        "instalments": instalments,
        "overdue": overdue_of(order, instalments),
        "outstanding": order.outstanding if order.status != Order.Status.CANCELLED else 0,
        "payments": list(order_payments(order)) if user.has_perm(VIEW_PAYMENT) else None,
        "quote_url": _quote_url(order.quote) if order.quote else "",
        "can_pay": active and user.has_perm(ADD_PAYMENT),
        "can_change": active and user.has_perm(CHANGE),
        "can_void": order.status != Order.Status.CANCELLED and user.has_perm(VOID_PAYMENT),
    }
    return TemplateResponse(request, "opportunities/order_detail.html", context)


def _plan_rows(form: PlanEditForm) -> None:
    """Show next to each row what it has received (it cannot go below that)."""
    for row in form.plan.forms:
        value = row["id"].value()
        row.paid = form.paid_by_id.get(int(value)) if str(value or "").isdigit() else None


@require_http_methods(["GET", "POST"])
def order_plan(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    order = order_get(user, pk)
    access.require(user, CHANGE)
    if order.status != Order.Status.ACTIVE:
        messages.error(request, _("Only the plan of an order in force and not fully paid can change."))
        return redirect(order)
    instalments = order_instalments(order, timezone.localdate())
    if request.method == "POST":
        form = PlanEditForm(request.POST, order=order, instalments=instalments)
        if form.is_valid():
            try:
                services.order_update_plan(
                    actor=user, order=order, version=form.cleaned_data["version"], plan=form.plan.planned()
                )
            except ConcurrentEditError as error:
                # Keep what they typed; the next save is against the order as it is now.
                order = order_get(user, pk)
                instalments = order_instalments(order, timezone.localdate())
                data = request.POST.copy()
                data["version"] = str(order.version)
                form = PlanEditForm(data, order=order, instalments=instalments)
                form.is_valid()
                form.add_error(None, error.message)
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(
                    request, _("The payment plan of %(number)s was saved.") % {"number": order.number}
                )
                return redirect(order)
    else:
        form = PlanEditForm(order=order, instalments=instalments)
    _plan_rows(form)
    context = {"order": order, "form": form, "plan": form.plan, "instalments": instalments}
    return TemplateResponse(request, "opportunities/order_plan.html", context)


@require_http_methods(["GET", "POST"])
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    order = order_get(user, pk)
    access.require(user, CHANGE)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_cancel(actor=user, order=order, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Order %(number)s was cancelled.") % {"number": order.number})
            return redirect(order)
    return TemplateResponse(request, "opportunities/order_cancel.html", {"order": order, "form": form})


@require_http_methods(["GET", "POST"])
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    order = order_get(user, pk)
    access.require(user, ADD_PAYMENT)
    if order.status != Order.Status.ACTIVE:
        messages.error(request, _("Payments are recorded on orders in force that are not fully paid."))
        return redirect(order)
    instalments = order_instalments(order, timezone.localdate())
    # The next instalment's outstanding part is the likeliest amount.
    suggested = next((item.outstanding for item in instalments if item.settled_at is None), None)
    if request.method == "POST":
        form = PaymentForm(request.POST, order=order)
        if form.is_valid():
            try:
                payment = services.payment_record(actor=user, order=order, **form.cleaned_data)
            except DomainError as error:
                _form_error(form, error)
            else:
                order.refresh_from_db()
                messages.success(
                    request,
                    _("Payment %(number)s of %(amount)s recorded; %(outstanding)s outstanding.")
                    % {
                        "number": payment.number,
                        "amount": money(payment.amount, order.currency),
                        "outstanding": money(order.outstanding, order.currency),
                    },
                )
                return redirect(order)
    else:
        form = PaymentForm(order=order, suggested=suggested)
    context = {"order": order, "form": form, "instalments": instalments}
    return TemplateResponse(request, "opportunities/payment_form.html", context)


@require_http_methods(["GET", "POST"])
def payment_void(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    payment = payment_get(user, pk)
    access.require(user, VOID_PAYMENT)
    order = payment.order
    if payment.voided_at is not None:
        messages.info(request, _("Payment %(number)s was already voided.") % {"number": payment.number})
        return redirect(order)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_void(actor=user, payment=payment, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Payment %(number)s was voided.") % {"number": payment.number})
            return redirect(order)
    context = {"order": order, "payment": payment, "form": form}
    return TemplateResponse(request, "opportunities/payment_void.html", context)


# --- The list -------------------------------------------------------------------------------


@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    today = timezone.localdate()
    filterset = order_filter(actor=user, params=request.GET)
    page = CappedPaginator(order_rows(filterset.qs, today), PER_PAGE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "filter": filterset,
        "page": page,
        "orders": page.object_list,
        "totals": order_totals(filterset.qs, today) if filterset.is_valid() else None,
        "export_form": ExportForm(initial={"query": list_query(request.GET.urlencode()), "format": "xlsx"}),
        "can_export": user.has_perm(exports_orders.EXPORT_PERMISSION),
    }
    template = "opportunities/order_list.html"
    return htmx_response(request, f"{template}#results" if request.htmx else template, context)


@require_POST
def order_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    access.require(user, exports_orders.EXPORT_PERMISSION)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose CSV or XLSX."))
        return redirect("opportunities:order-list")
    export = start_export(
        user=user,
        kind=exports_orders.ORDERS,
        params={"query": form.cleaned_data["query"]},
        fmt=form.cleaned_data["format"],
    )
    return redirect("accounts:export-detail", export.pk)


# --- Panels on other pages ------------------------------------------------------------------


def customer_orders_panel(customer, user) -> dict[str, Any]:
    """The customer page's "Orders & collections" (registered in customers.hooks)."""
    return customer_collections(customer, user, timezone.localdate())


def collections_panel(request: HttpRequest) -> dict[str, Any] | None:
    """The workbench's "Collections" (回款): overdue instalments and those due soon; None when
    there are none."""
    user = request.user
    data = collections(user, timezone.localdate())
    if not data["rows"]:
        return None
    base = reverse("opportunities:order-list")
    mine = {} if scope_of(user) in (Scope.ALL, Scope.TEAM) else {"owner": user.pk}
    return data | {
        "overdue_url": f"{base}?{urlencode(mine | {'overdue': 'on'})}",
        "outstanding_url": f"{base}?{urlencode(mine | {'outstanding': 'on'})}",
        "team_view": scope_of(user) in (Scope.ALL, Scope.TEAM),
    }


urlpatterns = [
    path("quotes/<int:quote_pk>/order/", order_create, name="order-create"),
    path("orders/", order_list, name="order-list"),
    path("orders/export/", order_export, name="order-export"),
    path("orders/<int:pk>/", order_detail, name="order-detail"),
    path("orders/<int:pk>/plan/", order_plan, name="order-plan"),
    path("orders/<int:pk>/cancel/", order_cancel, name="order-cancel"),
    path("orders/<int:pk>/payments/new/", payment_create, name="payment-create"),
    path("payments/<int:pk>/void/", payment_void, name="payment-void"),
]
