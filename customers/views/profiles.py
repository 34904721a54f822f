"""Creating and editing customer profiles, with live duplicate warnings (SPEC 2)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import require
from accounts.errors import DomainError
from customers.completeness import missing_information
from customers.forms.profiles import AttachmentsForm, ContactFormSet, CustomerForm
from customers.models import Customer
from customers.privacy import can_see_private_data
from customers.selectors import customer_get
from customers.services import profiles as services
from customers.services.duplicates import DuplicateResult, find_duplicates

TEMPLATE = "customers/customer_form.html"
DUPLICATE_FIELDS = ("name", "phone", "email")


@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "customers.add_customer")
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    form = CustomerForm(data, user=request.user)
    contacts = ContactFormSet(data, prefix="contacts")
    attachments = AttachmentsForm(data, files, prefix="attachments")
    duplicates = DuplicateResult()
    if request.method == "POST":
        valid = all([form.is_valid(), contacts.is_valid(), attachments.is_valid()])
        if valid:
            duplicates = _duplicates_block(request, form, contacts=contacts.contacts())
        if valid and not duplicates:
            try:
                customer = services.customer_create_with_details(
                    actor=request.user,
                    profile=form.profile(),
                    stage=form.cleaned_data["stage"],
                    tags=form.cleaned_data["tags"],
                    collaborators=form.cleaned_data["collaborators"],
                    contacts=contacts.contacts(),
                    uploads=attachments.cleaned_data["files"],
                    attachment_category=attachments.cleaned_data["category"],
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _saved_message(customer, created=True))
                return redirect(customer)
        elif not valid:
            duplicates = find_duplicates(user=request.user, **_typed(form))
    context = {
        "form": form,
        "contacts": contacts,
        "attachments": attachments,
        "duplicates": duplicates,
        # Browsers never send a file twice: after a refused submit the files must be chosen again.
        "files_dropped": bool(files and files.getlist("attachments-files")),
    }
    return TemplateResponse(request, TEMPLATE, context)


@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(request.user, pk)
    require(request.user, "customers.change_customer")
    data = request.POST if request.method == "POST" else None
    form = CustomerForm(
        data, user=request.user, customer=customer, show_private=can_see_private_data(request.user, customer)
    )
    duplicates = DuplicateResult()
    if request.method == "POST":
        valid = form.is_valid()
        # Only a changed name, phone or e-mail can make this customer a new duplicate.
        if valid and set(DUPLICATE_FIELDS) & set(form.changed_data):
            duplicates = _duplicates_block(request, form, exclude_pk=customer.pk)
        if valid and not duplicates:
            try:
                customer = services.customer_edit(
                    actor=request.user,
                    customer=customer,
                    version=form.cleaned_data["version"],
                    profile=form.profile(),
                    stage=form.cleaned_data["stage"],
                    tags=form.cleaned_data["tags"],
                    collaborators=form.cleaned_data["collaborators"],
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _saved_message(customer, created=False))
                return redirect(customer)
        elif not valid:
            duplicates = find_duplicates(user=request.user, exclude_pk=customer.pk, **_typed(form))
    context = {"form": form, "customer": customer, "duplicates": duplicates}
    return TemplateResponse(request, TEMPLATE, context)


@require_GET
def customer_duplicates(request: HttpRequest) -> HttpResponse:
    """The warning box of the form, refreshed by htmx while a name, phone or e-mail is typed."""
    user = request.user
    # Only the create and edit forms ask; viewers (directors, agents) have no use for it.
    if not (user.has_perm("customers.add_customer") or user.has_perm("customers.change_customer")):
        raise PermissionDenied
    try:
        exclude_pk = int(request.GET.get("exclude", ""))
    except ValueError:
        exclude_pk = None
    duplicates = find_duplicates(
        user=user,
        exclude_pk=exclude_pk,
        **{name: request.GET.get(name, "")[:200] for name in DUPLICATE_FIELDS},
    )
    context = {"duplicates": duplicates, "confirm_checked": bool(request.GET.get("confirm_duplicates"))}
    response = TemplateResponse(request, f"{TEMPLATE}#duplicates", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _typed(form: CustomerForm) -> dict[str, str]:
    """What was typed in the three fields, cleaned or not, for the warning of a refused form."""
    return {name: str(form.data.get(name, ""))[:200] for name in DUPLICATE_FIELDS}


def _duplicates_block(
    request: HttpRequest, form: CustomerForm, *, exclude_pk: int | None = None, contacts=()
) -> DuplicateResult:
    """Likely duplicates that stop the save until the rep ticks "save anyway" (empty otherwise).

    ``contacts`` are the contacts typed on the create form (dicts of their cleaned fields).
    """
    duplicates = find_duplicates(
        user=request.user,
        exclude_pk=exclude_pk,
        contact_phones=[contact.get("phone", "") for contact in contacts],
        contact_emails=[contact.get("email", "") for contact in contacts],
        **{name: form.cleaned_data[name] for name in DUPLICATE_FIELDS},
    )
    if duplicates and not form.cleaned_data["confirm_duplicates"]:
        form.add_error(
            "confirm_duplicates",
            _(
                "This customer may already exist. Check the possible duplicates, "
                "then tick the box to save anyway."
            ),
        )
        return duplicates
    return DuplicateResult()


def _saved_message(customer: Customer, *, created: bool) -> str:
    if created:
        message = _("Customer %(number)s was created.") % {"number": customer.number}
    else:
        message = _("Customer %(number)s was saved.") % {"number": customer.number}
    missing = missing_information(customer)
    if missing:
        hours = settings.CUSTOMER_REVIEW_HOURS
        # Translators: separates the names of missing fields, e.g. "industry, needs".
        fields = pgettext("list separator", ", ").join(str(label) for label in missing)
        message += " " + ngettext(
            "Complete within %(hours)s hour for the profile review: %(fields)s.",
            "Complete within %(hours)s hours for the profile review: %(fields)s.",
            hours,
        ) % {"hours": hours, "fields": fields}
    return message


urlpatterns = [
    path("new/", customer_create, name="customer-create"),
    path("<int:pk>/edit/", customer_edit, name="customer-edit"),
    path("duplicates/check/", customer_duplicates, name="customer-duplicates"),
]
