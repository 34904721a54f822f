"""Ticket pages: open (from the customer page or the desk, finding the customer first), the
ticket page with its timeline, edit, comment, assign, resolve, the status actions and the
attachments' scoped download."""

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import ConcurrentEditError, DomainError
from accounts.http import htmx_response
from customers.models import Customer
from service.forms import AssignForm, CommentForm, ResolveForm, StatusNoteForm, TicketForm
from service.models import Ticket
from service.selectors import (
    customer_in_scope,
    customer_tickets,
    finds_any_customer,
    ticket_attachments,
    ticket_customer_get,
    ticket_customer_search,
    ticket_get,
    ticket_surveys,
    ticket_timeline,
)
from service.services import tickets as services

VIEW = "service.view_ticket"
ADD = "service.add_ticket"
CHANGE = "service.change_ticket"
SEARCH_LIMIT = 20


def _form_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _success(action: str, ticket: Ticket) -> str:
    values = {"number": ticket.number, "status": ticket.get_status_display()}
    if action == "reopen":
        return _("Ticket %(number)s reopened.") % values
    return _("Ticket %(number)s is now “%(status)s”.") % values


def detail_context(request: HttpRequest, ticket: Ticket, **forms: Any) -> dict[str, Any]:
    """The ticket page, with any bound form (and its errors) in place of a blank one."""
    user = request.user
    can_change = user.has_perm(CHANGE)
    now = timezone.now()
    context: dict[str, Any] = {
        "ticket": ticket,
        "events": ticket_timeline(ticket),
        "attachments": ticket_attachments(ticket),
        "surveys": ticket_surveys(ticket),
        "customer_link": customer_in_scope(user, ticket.customer),
        "can_change": can_change,
        "actions": services.available_actions(ticket) if can_change else [],
        "response_overdue": bool(
            ticket.first_response_due
            and ticket.first_responded_at is None
            and ticket.paused_at is None
            and ticket.first_response_due < now
        ),
        "resolution_overdue": bool(
            ticket.resolution_due
            and ticket.resolved_at is None
            and ticket.paused_at is None
            and ticket.resolution_due < now
        ),
    }
    if can_change:
        context["comment_form"] = forms.get("comment_form") or CommentForm(ticket=ticket)
        context["assign_form"] = forms.get("assign_form") or AssignForm(ticket=ticket)
        context["resolve_form"] = forms.get("resolve_form") or ResolveForm()
        context["note_form"] = forms.get("note_form") or StatusNoteForm()
    return context


def _detail(request: HttpRequest, ticket: Ticket, status: int = 200, **forms: Any) -> HttpResponse:
    return TemplateResponse(
        request, "service/ticket_detail.html", detail_context(request, ticket, **forms), status=status
    )


@require_http_methods(["GET", "POST"])
def ticket_create(request: HttpRequest) -> HttpResponse:
    """A new ticket: ``?customer=<pk>`` (from the customer page or a search result) shows the form;
    without it a search finds the customer first (service agents find any customer)."""
    user = request.user
    access.require(user, ADD)
    customer_pk = request.POST.get("customer") or request.GET.get("customer") or ""
    if not customer_pk:
        query = request.GET.get("q", "").strip()[:100]
        results, more = ticket_customer_search(user, query, limit=SEARCH_LIMIT)
        context = {
            "query": query,
            "results": results,
            "more": more,
            "limit": SEARCH_LIMIT,
            "any_customer": finds_any_customer(user),
        }
        template = "service/ticket_choose_customer.html"
        return htmx_response(request, f"{template}#results" if request.htmx else template, context)
    if not customer_pk.isdigit():
        raise Http404
    customer: Customer = ticket_customer_get(user, int(customer_pk))
    if request.method == "POST":
        form = TicketForm(request.POST, request.FILES, customer=customer)
        if form.is_valid():
            try:
                ticket = services.ticket_create(
                    actor=user,
                    customer=customer,
                    uploads=form.cleaned_data.get("attachments") or [],
                    **form.ticket_fields(),
                )
            except DomainError as error:
                _form_error(form, error)
            else:
                if ticket.assignee_id:
                    message = _("Ticket %(number)s opened and assigned to %(user)s.") % {
                        "number": ticket.number,
                        "user": ticket.assignee,
                    }
                else:
                    message = _("Ticket %(number)s opened; it waits in the queue for an agent.") % {
                        "number": ticket.number
                    }
                messages.success(request, message)
                # The creator always sees the ticket (created_by is in its scope).
                return redirect(ticket)
    else:
        form = TicketForm(customer=customer)
    return TemplateResponse(
        request, "service/ticket_form.html", {"form": form, "customer": customer, "ticket": None}
    )


@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = ticket_get(request.user, pk)
    access.require(request.user, VIEW)
    return _detail(request, ticket)


@require_http_methods(["GET", "POST"])
def ticket_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ticket = ticket_get(user, pk)
    access.require(user, CHANGE)
    if request.method == "POST":
        form = TicketForm(request.POST, instance=ticket, customer=ticket.customer)
        if form.is_valid():
            try:
                ticket = services.ticket_update(
                    actor=user, ticket=ticket, version=form.cleaned_data["version"], **form.ticket_fields()
                )
            except ConcurrentEditError as error:
                # Keep what they typed; the next save is against what is saved now.
                current = ticket_get(user, pk)
                data = request.POST.copy()
                data["version"] = str(current.version)
                form = TicketForm(data, instance=current, customer=current.customer)
                form.is_valid()
                form.add_error(None, error.message)
                ticket = current
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, _("Ticket %(number)s saved.") % {"number": ticket.number})
                return redirect(ticket)
    else:
        form = TicketForm(instance=ticket, customer=ticket.customer)
    return TemplateResponse(
        request, "service/ticket_form.html", {"form": form, "customer": ticket.customer, "ticket": ticket}
    )


@require_POST
def ticket_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ticket = ticket_get(user, pk)
    access.require(user, CHANGE)
    form = CommentForm(request.POST, request.FILES, ticket=ticket)
    if form.is_valid():
        reply = form.cleaned_data["kind"] == "reply"
        try:
            services.ticket_comment(
                actor=user,
                ticket=ticket,
                body=form.cleaned_data["body"],
                reply=reply,
                uploads=form.cleaned_data.get("attachments") or [],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            if reply and ticket.contact and ticket.contact.email:
                messages.success(request, _("Reply sent to %(email)s.") % {"email": ticket.contact.email})
            else:
                messages.success(request, _("Added to the ticket."))
            return redirect(ticket.get_absolute_url() + "#timeline")
    return _detail(request, ticket, status=400, comment_form=form)


@require_http_methods(["GET", "POST"])
def ticket_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ticket = ticket_get(user, pk)
    access.require(user, CHANGE)
    if request.method == "GET":
        return redirect(ticket.get_absolute_url() + "#assign")
    form = AssignForm(request.POST, ticket=ticket)
    if form.is_valid():
        try:
            ticket = services.ticket_assign(actor=user, ticket=ticket, assignee=form.cleaned_data["assignee"])
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("Ticket %(number)s assigned to %(user)s.")
                % {"number": ticket.number, "user": ticket.assignee},
            )
            return redirect(ticket)
    return _detail(request, ticket, status=400, assign_form=form)


@require_http_methods(["GET", "POST"])
def ticket_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ticket = ticket_get(user, pk)
    access.require(user, CHANGE)
    if request.method == "GET":
        return redirect(ticket.get_absolute_url() + "#resolve")
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            ticket = services.ticket_resolve(
                actor=user,
                ticket=ticket,
                resolution=form.cleaned_data["resolution"],
                category=form.cleaned_data["resolution_category"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _success("resolve", ticket))
            return redirect(ticket)
    return _detail(request, ticket, status=400, resolve_form=form)


@require_POST
def ticket_status(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Start, wait on the customer, resume, close, reopen: one button each on the ticket page."""
    user = request.user
    ticket = ticket_get(user, pk)
    access.require(user, CHANGE)
    service = services.ACTIONS.get(action)
    if service is None:
        raise Http404
    form = StatusNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    kwargs: dict[str, Any] = {"actor": user, "ticket": ticket}
    if action == "wait":
        kwargs["note"] = note
    elif action == "reopen":
        kwargs["reason"] = note
    try:
        ticket = service(**kwargs)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _success(action, ticket))
        if getattr(ticket, "survey_url", None):
            messages.info(
                request,
                _(
                    "The customer has no e-mail address: send them this satisfaction survey link "
                    "yourself (it is shown only once): %(url)s"
                )
                % {"url": ticket.survey_url},
            )
    return redirect(ticket)


@require_GET
def ticket_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Only through the ticket's scope: MEDIA_ROOT is never served directly."""
    ticket = ticket_get(request.user, pk)
    access.require(request.user, VIEW)
    attachment = get_object_or_404(ticket.attachments, pk=attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    # The type was detected from the content on upload; browsers must not guess another one.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def customer_tickets_panel(customer: Customer, user) -> dict[str, Any]:
    """The customer page's "Tickets" panel (registered in customers.hooks)."""
    tickets, open_count = customer_tickets(customer, user)
    return {"tickets": tickets, "open_count": open_count, "can_add": user.has_perm(ADD)}


urlpatterns = [
    path("service/tickets/new/", ticket_create, name="ticket-create"),
    path("service/tickets/<int:pk>/", ticket_detail, name="ticket-detail"),
    path("service/tickets/<int:pk>/edit/", ticket_edit, name="ticket-edit"),
    path("service/tickets/<int:pk>/comment/", ticket_comment, name="ticket-comment"),
    path("service/tickets/<int:pk>/assign/", ticket_assign, name="ticket-assign"),
    path("service/tickets/<int:pk>/resolve/", ticket_resolve, name="ticket-resolve"),
    path("service/tickets/<int:pk>/status/<slug:action>/", ticket_status, name="ticket-status"),
    path(
        "service/tickets/<int:pk>/attachments/<int:attachment_pk>/",
        ticket_attachment,
        name="ticket-attachment",
    ),
]
