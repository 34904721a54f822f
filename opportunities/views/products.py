"""The price list (产品 / 价目表): list, create, edit, deactivate / reactivate.

Everyone who quotes may read it; sales managers and administrators keep it (add/change_product).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import DomainError
from accounts.http import htmx_response, safe_next
from accounts.paging import CappedPaginator
from opportunities.forms_quotes import ProductForm
from opportunities.selectors_quotes import product_filter, product_get
from opportunities.services import products as services

PER_PAGE = 50
VIEW = "opportunities.view_product"
ADD = "opportunities.add_product"
CHANGE = "opportunities.change_product"


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    filterset = product_filter(params=request.GET)
    page = CappedPaginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "products": page.object_list,
        "can_add": user.has_perm(ADD),
        "can_change": user.has_perm(CHANGE),
    }
    template = "opportunities/product_list.html"
    return htmx_response(request, f"{template}#results" if request.htmx else template, context)


def _save_errors(form: ProductForm, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, ADD)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=user, **form.product_fields())
        except DomainError as error:
            _save_errors(form, error)
        else:
            messages.success(request, _("Product %(name)s added to the price list.") % {"name": product})
            return redirect("opportunities:product-list")
    return TemplateResponse(request, "opportunities/product_form.html", {"form": form, "product": None})


@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    product = product_get(pk)
    access.require(user, CHANGE)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_update(actor=user, product=product, **form.product_fields())
        except DomainError as error:
            _save_errors(form, error)
        else:
            messages.success(request, _("Product %(name)s saved.") % {"name": product})
            return redirect(safe_next(request, reverse("opportunities:product-list")))
    return TemplateResponse(
        request,
        "opportunities/product_form.html",
        {"form": form, "product": product, "next": safe_next(request, "")},
    )


@require_POST
def product_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (``active=0``) or reactivate (``active=1``) a product; it is never deleted."""
    user = request.user
    product = product_get(pk)
    access.require(user, CHANGE)
    active = request.POST.get("active") == "1"
    product = services.product_set_active(actor=user, product=product, active=active)
    if active:
        messages.success(request, _("%(name)s can be quoted again.") % {"name": product})
    else:
        messages.success(
            request,
            _("%(name)s is deactivated: it stays on existing quotes but cannot be quoted.")
            % {"name": product},
        )
    return redirect(safe_next(request, reverse("opportunities:product-list")))


urlpatterns = [
    path("products/", product_list, name="product-list"),
    path("products/new/", product_create, name="product-create"),
    path("products/<int:pk>/edit/", product_edit, name="product-edit"),
    path("products/<int:pk>/active/", product_active, name="product-active"),
]
