"""The customer page and what is managed from it: stage, value class, tags, contacts, attachments,
and the full history.

Every view starts from the viewer's scope (404 outside it, also for deleted and merged customers,
whose old pages redirect to the survivor), then checks the permission to act (403).
"""

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import DomainError
from accounts.templatetags.crm import yuan
from customers import hooks
from customers.completeness import missing_information
from customers.forms.detail import AttachmentForm, ContactForm, CustomerTagsForm, StageForm, ValueClassForm
from customers.models import Customer, Tag, TagDimension, value_class_for
from customers.privacy import can_see_private_data
from customers.selectors import customer_get, customer_merged_target, customers_visible_to, manages
from customers.services import related
from customers.services.history import describe
from customers.services.profiles import customer_override_value_class, customer_set_stage

CHANGE = "customers.change_customer"
OVERRIDE_CLASS = "customers.override_value_class"
HISTORY_PAGE_SIZE = 50
TIMELINE_LIMIT = 50


def _merged_redirect(request: HttpRequest, pk: int, url_name: str) -> HttpResponse:
    """The survivor's page for a merged customer's old URL; 404 when there is none in scope."""
    survivor = customer_merged_target(request.user, pk)
    if survivor is None:
        raise Http404
    return redirect(url_name, survivor.pk)


def _page_customer(request: HttpRequest, pk: int) -> Customer:
    """The customer with everything the page lists, in a fixed number of queries."""
    queryset = (
        customers_visible_to(request.user)
        .select_related("owner", "team", "industry", "source", "created_by", "reviewed_by")
        .prefetch_related(
            "collaborators",
            "contacts",
            "tags__dimension",
            "attachments__uploaded_by",
            "stage_changes__changed_by",
        )
    )
    return get_object_or_404(queryset, pk=pk)


def _profile_rows(customer: Customer, *, show_private: bool) -> list[tuple[str, Any, bool]]:
    """(label, value, multi-line) of the profile fields for the customer's kind, empty ones too."""
    meta = Customer._meta

    def row(name: str, value: Any = None, *, multiline: bool = False) -> tuple[str, Any, bool]:
        field = meta.get_field(name)
        if value is None:
            value = getattr(customer, f"get_{name}_display")() if field.choices else getattr(customer, name)
        return str(field.verbose_name), value, multiline

    if customer.is_enterprise:
        rows = [row("industry"), row("employee_band"), row("revenue_band"), row("website")]
    else:
        # Private data (SPEC 2): in clear only for the owner and managers (customers.privacy).
        rows = [
            row("gender"),
            row("birthday"),
            row("age"),
            row("occupation"),
            row("id_card_number", None if show_private else customer.id_card_masked),
            row("bank_card_number", None if show_private else customer.bank_card_masked),
        ]
    region = " ".join(part for part in (customer.province, customer.city) if part)
    amount = customer.expected_annual_value
    rows += [
        row("phone"),
        row("email"),
        row("source"),
        row("first_contact_date"),
        row("expected_annual_value", yuan(amount)),
        row("region", f"{customer.get_region_display()} {region}".strip()),
        row("address"),
        row("needs", multiline=True),
        row("notes", multiline=True),
    ]
    return rows


def _grouped_tags(tags: list[Tag]) -> list[tuple[TagDimension, list[Tag]]]:
    groups: dict[TagDimension, list[Tag]] = defaultdict(list)
    for tag in tags:
        groups[tag.dimension].append(tag)
    return sorted(groups.items(), key=lambda item: (item[0].order, str(item[0])))


def _stage_context(customer: Customer, form: StageForm | None = None) -> dict[str, Any]:
    return {
        "customer": customer,
        "stage_form": form or StageForm(initial={"stage": customer.stage}),
        "stage_changes": list(customer.stage_changes.all()),
    }


def _detail_context(request: HttpRequest, customer: Customer, **extra: Any) -> dict[str, Any]:
    user = request.user
    contacts = list(customer.contacts.all())
    primary = next((contact for contact in contacts if contact.is_primary), None)
    show_private = can_see_private_data(user, customer)
    context = {
        **_stage_context(customer),
        "profile_rows": _profile_rows(customer, show_private=show_private),
        "contacts": contacts,
        "collaborators": list(customer.collaborators.all()),
        "tag_groups": _grouped_tags(list(customer.tags.all())),
        "attachments": list(customer.attachments.all()),
        "missing": missing_information(customer, primary_contact=primary),
        "computed_class": value_class_for(customer.expected_annual_value),
        # Manager actions (review, transfer, delete, personal data, value class) apply to the
        # customers one manages; a collaborator from another team only sees them.
        "can_manage": manages(user, customer),
        "timeline": hooks.timeline_for(customer, user, limit=TIMELINE_LIMIT),
        # Other apps' cards (e.g. orders and collections), registered in customers.hooks.
        "customer_panels": hooks.render_customer_panels(request, customer),
    }
    context.update(extra)
    return context


@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = _page_customer(request, pk)
    except Http404:
        return _merged_redirect(request, pk, "customers:customer-detail")
    return TemplateResponse(request, "customers/customer_detail.html", _detail_context(request, customer))


@require_GET
def customer_history(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = customer_get(request.user, pk)
    except Http404:
        return _merged_redirect(request, pk, "customers:customer-history")
    paginator = Paginator(customer.changes.select_related("actor").order_by("-at", "-pk"), HISTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    entries = [(change, describe(change)) for change in page]
    return TemplateResponse(
        request, "customers/customer_history.html", {"customer": customer, "page": page, "entries": entries}
    )


@require_POST
def customer_stage(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, CHANGE)
    form = StageForm(request.POST)
    changed = False
    if form.is_valid():
        try:
            before = customer.stage
            customer_set_stage(actor=request.user, customer=customer, **form.cleaned_data)
            changed = customer.stage != before
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    if request.htmx:
        prefetch_related_objects([customer], "stage_changes__changed_by")
        context = _stage_context(customer, form if form.errors else None)
        context["stage_saved"] = changed
        if changed:  # the timeline is swapped out of band too (customer_detail.html#timeline)
            context["timeline"] = hooks.timeline_for(customer, request.user, limit=TIMELINE_LIMIT)
            context["timeline_oob"] = True
        response = TemplateResponse(request, "customers/customer_detail.html#stage", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    if form.errors:
        customer = _page_customer(request, pk)
        context = _detail_context(request, customer, stage_form=form)
        return TemplateResponse(request, "customers/customer_detail.html", context, status=400)
    if changed:
        messages.success(
            request, _("The stage is now “%(stage)s”.") % {"stage": customer.get_stage_display()}
        )
    else:
        messages.info(request, _("The stage did not change."))
    response = redirect(customer)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET", "POST"])
def customer_value_class(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, OVERRIDE_CLASS)
    # A manager's decision, for the customers they manage (not those merely shared with them).
    if not manages(request.user, customer):
        raise PermissionDenied
    form = ValueClassForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            customer_override_value_class(
                actor=request.user,
                customer=customer,
                value_class=form.chosen_class,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if customer.value_class_overridden:
                message = _("The value class is now %(value_class)s, set by you.")
            else:
                message = _("The value class follows the expected value again: %(value_class)s.")
            messages.success(request, message % {"value_class": customer.get_value_class_display()})
            return redirect(customer)
    context = {
        "customer": customer,
        "form": form,
        "computed_class": value_class_for(customer.expected_annual_value),
        "expected_value": yuan(customer.expected_annual_value)
        if customer.expected_annual_value is not None
        else "",
    }
    return TemplateResponse(request, "customers/value_class_form.html", context)


@require_http_methods(["GET", "POST"])
def customer_tags(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, CHANGE)
    form = CustomerTagsForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        related.customer_set_tags(actor=request.user, customer=customer, tags=form.chosen_tags())
        messages.success(request, _("The tags were saved."))
        return redirect(customer)
    return TemplateResponse(
        request, "customers/customer_tags_form.html", {"customer": customer, "form": form}
    )


@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, CHANGE)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = related.contact_create(actor=request.user, customer=customer, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("The contact %(name)s was added.") % {"name": contact.name})
            return redirect(customer)
    return TemplateResponse(
        request, "customers/contact_form.html", {"customer": customer, "form": form, "contact": None}
    )


@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, CHANGE)
    contact = get_object_or_404(customer.contacts, pk=contact_pk)
    contact.customer = customer
    form = ContactForm(
        request.POST or None,
        initial=model_to_dict(contact, fields=related.CONTACT_FIELDS),
        is_current_primary=contact.is_primary,
    )
    if request.method == "POST" and form.is_valid():
        try:
            related.contact_update(actor=request.user, contact=contact, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("The contact %(name)s was saved.") % {"name": contact.name})
            return redirect(customer)
    return TemplateResponse(
        request, "customers/contact_form.html", {"customer": customer, "form": form, "contact": contact}
    )


@require_POST
def contact_delete(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, CHANGE)
    contact = get_object_or_404(customer.contacts, pk=contact_pk)
    contact.customer = customer
    name = contact.name
    related.contact_delete(actor=request.user, contact=contact)
    messages.success(request, _("The contact %(name)s was deleted.") % {"name": name})
    return redirect(customer)


@require_http_methods(["GET", "POST"])
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, CHANGE)
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            attachment = related.attachment_add(
                actor=request.user,
                customer=customer,
                upload=form.cleaned_data["file"],
                category=form.cleaned_data["category"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(
                request, _("The attachment %(name)s was uploaded.") % {"name": attachment.original_name}
            )
            return redirect(customer)
    return TemplateResponse(request, "customers/attachment_form.html", {"customer": customer, "form": form})


@require_GET
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Only through the customer's scope: MEDIA_ROOT is never served directly."""
    customer = customer_get(request.user, pk)
    attachment = get_object_or_404(customer.attachments, pk=attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    # The type was detected from the content on upload; browsers must not guess another one.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    access.require(request.user, CHANGE)
    attachment = get_object_or_404(customer.attachments, pk=attachment_pk)
    attachment.customer = customer
    name = attachment.original_name
    related.attachment_delete(actor=request.user, attachment=attachment)
    messages.success(request, _("The attachment %(name)s was deleted.") % {"name": name})
    return redirect(reverse("customers:customer-detail", args=[customer.pk]) + "#attachments")


urlpatterns = [
    path("<int:pk>/", customer_detail, name="customer-detail"),
    path("<int:pk>/history/", customer_history, name="customer-history"),
    path("<int:pk>/stage/", customer_stage, name="customer-stage"),
    path("<int:pk>/value-class/", customer_value_class, name="customer-value-class"),
    path("<int:pk>/tags/", customer_tags, name="customer-tags"),
    path("<int:pk>/contacts/new/", contact_create, name="contact-create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", contact_edit, name="contact-edit"),
    path("<int:pk>/contacts/<int:contact_pk>/delete/", contact_delete, name="contact-delete"),
    path("<int:pk>/attachments/new/", attachment_upload, name="attachment-upload"),
    path("<int:pk>/attachments/<int:attachment_pk>/", attachment_download, name="attachment-download"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/delete/",
        attachment_delete,
        name="attachment-delete",
    ),
]
