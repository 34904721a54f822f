"""Importing customers from CSV/XLSX: upload, preview and mapping, commit, progress, errors file."""

from datetime import timedelta
from pathlib import PurePath

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import require
from accounts.errors import DomainError
from customers.forms.imports import ImportCommitForm, ImportMappingForm, ImportUploadForm
from customers.importing.mapping import FIELDS
from customers.importing.reading import ENCODING_LABELS
from customers.importing.selectors import import_get, imports_visible_to
from customers.models import CustomerImport
from customers.services import imports as services

PERMISSION = "customers.import_customer"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A check or import running this long gets a "resume" button, for when its task message was lost.
STALLED_AFTER = timedelta(minutes=2)


def _download(content: bytes, file_format: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.{file_format}")
    return response


@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    require(request.user, PERMISSION)
    page = Paginator(imports_visible_to(request.user), 25).get_page(request.GET.get("page"))
    return TemplateResponse(
        request, "customers/import_list.html", {"page": page, "imports": page.object_list}
    )


@require_http_methods(["GET", "POST"])
def import_create(request: HttpRequest) -> HttpResponse:
    require(request.user, PERMISSION)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_import = services.import_upload(
                actor=request.user, upload=form.cleaned_data["file"], file_format=form.file_format
            )
        except DomainError as error:
            form.add_error("file" if error.field == "file" else None, error.message)
        else:
            messages.success(request, _("The file was read. Check the preview, then import."))
            return redirect("customers:import-detail", customer_import.pk)
    return TemplateResponse(request, "customers/import_create.html", {"form": form, "fields": FIELDS})


@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer_import = import_get(request.user, pk)
    require(request.user, PERMISSION)
    editable = customer_import.status in (CustomerImport.Status.UPLOADED, CustomerImport.Status.CHECKED)
    columns = customer_import.mapping.get("columns", [])
    mapping_form = ImportMappingForm(request.POST or None, columns=columns) if editable else None
    if request.method == "POST":
        if mapping_form is None:
            messages.error(request, _("This import has started; its column mapping can no longer change."))
            return redirect("customers:import-detail", pk)
        if mapping_form.is_valid():
            try:
                services.import_recheck(
                    actor=request.user, customer_import=customer_import, fields=mapping_form.mapped_fields()
                )
            except DomainError as error:
                mapping_form.add_error(None, error.message)
            else:
                messages.success(request, _("The file was checked again with your column mapping."))
                return redirect("customers:import-detail", pk)
    running = customer_import.status in (CustomerImport.Status.CHECKING, CustomerImport.Status.IMPORTING)
    since = customer_import.started_at or customer_import.created_at
    context = {
        "customer_import": customer_import,
        "running": running,
        "importing": customer_import.status == CustomerImport.Status.IMPORTING,
        "stalled": running and timezone.now() - since > STALLED_AFTER,
        "encoding": ENCODING_LABELS.get(customer_import.encoding, customer_import.encoding),
        "summary": services.import_summary(customer_import),
        "labels": services.mapped_labels(customer_import),
        "problems": services.problem_rows(customer_import),
        "mapping_form": mapping_form,
        "commit_form": ImportCommitForm(initial={"mode": customer_import.mode}),
    }
    if request.htmx:
        response = TemplateResponse(request, "customers/import_detail.html#progress", context)
        if not running:
            # Finished while the page was polling: reload it whole to show the final report.
            response["HX-Refresh"] = "true"
    else:
        response = TemplateResponse(request, "customers/import_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    customer_import = import_get(request.user, pk)
    require(request.user, PERMISSION)
    try:
        if request.POST.get("resume"):
            services.import_resume(actor=request.user, customer_import=customer_import)
            messages.info(request, _("The import continues where it stopped."))
        else:
            form = ImportCommitForm(request.POST)
            mode = form.cleaned_data["mode"] if form.is_valid() else ""
            services.import_commit(actor=request.user, customer_import=customer_import, mode=mode)
            messages.success(request, _("The import has started; this page shows its progress."))
    except DomainError as error:
        messages.warning(request, error.message)
    return redirect("customers:import-detail", pk)


@require_GET
def import_errors(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    customer_import = import_get(request.user, pk)
    require(request.user, PERMISSION)
    if fmt not in CONTENT_TYPES:
        raise Http404
    stem = PurePath(customer_import.original_name).stem or "import"
    content = services.import_errors_file(customer_import, fmt)
    return _download(content, fmt, _("%(name)s-errors") % {"name": stem})


@require_GET
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    require(request.user, PERMISSION)
    if fmt not in CONTENT_TYPES:
        raise Http404
    return _download(services.import_template_file(fmt), fmt, _("customer-import-template"))


urlpatterns = [
    path("imports/", import_list, name="import-list"),
    path("imports/new/", import_create, name="import-create"),
    path("imports/template.<str:fmt>", import_template, name="import-template"),
    path("imports/<int:pk>/", import_detail, name="import-detail"),
    path("imports/<int:pk>/commit/", import_commit, name="import-commit"),
    path("imports/<int:pk>/errors.<str:fmt>", import_errors, name="import-errors"),
]
