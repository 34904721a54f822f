"""Logging interactions (跟进记录) and adding follow-up tasks (跟进任务).

An interaction is logged from the customer page, in place (htmx swaps the form in above the
timeline and, once saved, the timeline too), or from the quick-log page that finds the customer
first. Logging proposes the next follow-up from the cadence rules; the rep accepts or changes it
in the same form. Every view starts from the customer in the user's scope (404 outside it), then
checks the permission to add (403: directors and service agents only read).
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import access
from accounts.errors import DomainError
from accounts.http import htmx_response
from customers import hooks
from customers.forms.detail import StageForm
from customers.models import Customer
from customers.selectors import customer_get, customers_matching, customers_visible_to
from interactions.forms.logging import (
    InteractionLogForm,
    TaskForm,
    proposal_initial,
    typed_values,
)
from interactions.models import Interaction
from interactions.services import follow_up
from interactions.services.cadence import Proposal, propose_next
from interactions.views.workbench import tasks_context

ADD_INTERACTION = "interactions.add_interaction"
ADD_TASK = "interactions.add_followuptask"
# Changing the stage from the log form is the customer page's stage change (customers.views.detail).
CHANGE_CUSTOMER = "customers.change_customer"
LOG_TEMPLATE = "interactions/interaction_log_form.html"
QUICK_TEMPLATE = "interactions/quick_log.html"
TASK_TEMPLATE = "interactions/task_form.html"
# As many entries as the customer page's timeline (customers.views.detail.TIMELINE_LIMIT).
TIMELINE_LIMIT = 50
SEARCH_LIMIT = 10
QUICK = "quick"  # ``from=quick``: the form was opened from the quick-log page
WORKBENCH = "workbench"  # ``from=workbench``: opened in place on the rep's workbench (home page)


def _proposal(customer: Customer, *, proposal_sent: bool, stage: str) -> Proposal | None:
    """The cadence proposal for an interaction with these answers (SPEC 3: a proposal sent asks
    for feedback within 2 days; a need confirmed now, i.e. the customer becomes an intent
    customer, for a second follow-up within 3 days; else the class or lost cadence)."""
    became_intent = stage == Customer.Stage.INTENT and customer.stage != Customer.Stage.INTENT
    return propose_next(customer, proposal_sent=proposal_sent, became_intent=became_intent)


def _log_form(request: HttpRequest, customer: Customer, data=None, **kwargs: Any) -> InteractionLogForm:
    return InteractionLogForm(
        data,
        customer=customer,
        actor=request.user,
        can_change_stage=request.user.has_perm(CHANGE_CUSTOMER),
        **kwargs,
    )


def _reproposed(
    request: HttpRequest, customer: Customer, typed: InteractionLogForm
) -> tuple[InteractionLogForm, Proposal | None]:
    """The form as typed, with the next task proposed again for its "proposal sent" and stage
    (unbound, so fields not filled in yet are not reported as errors)."""
    proposal = _proposal(customer, proposal_sent=typed.typed_proposal_sent, stage=typed.typed_stage)
    initial = {**typed_values(typed), **proposal_initial(proposal)}
    if typed["no_next_task"].data and proposal is not None:
        initial["no_next_task"] = True  # the rep's "don't plan" stands
    return _log_form(request, customer, initial=initial), proposal


def _log_context(
    request: HttpRequest, customer: Customer, form: InteractionLogForm, proposal: Proposal | None, source: str
) -> dict[str, Any]:
    return {
        "customer": customer,
        "form": form,
        "proposal": proposal,
        "source": source,
        # In place on the customer page (htmx) the form posts back into its container there.
        "in_place": bool(request.htmx),
    }


def _new_first(entries: list[hooks.TimelineEntry], interaction: Interaction) -> list[hooks.TimelineEntry]:
    """The timeline with the interaction just logged on top: the task it planned, the tasks it
    completed and the stage it changed are recorded a moment later, yet they follow from it."""
    url = interaction.get_absolute_url()
    return sorted(entries, key=lambda entry: not (entry.kind == "interaction" and entry.url == url))


def _saved_message(interaction: Interaction, next_task_due) -> str:
    if next_task_due is None:
        return _("Interaction %(number)s saved.") % {"number": interaction.number}
    return _("Interaction %(number)s saved; next follow-up due %(due)s.") % {
        "number": interaction.number,
        "due": date_format(timezone.localtime(next_task_due), "SHORT_DATETIME_FORMAT"),
    }


def _saved(
    request: HttpRequest,
    customer: Customer,
    interaction: Interaction,
    message: str,
    *,
    stage_before: str,
    source: str,
) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        if source == QUICK:
            return redirect(f"{reverse('interactions:quick-log')}?{urlencode({'last': customer.pk})}")
        if source == WORKBENCH:
            return redirect("home")
        return redirect(customer)
    if source == WORKBENCH:
        # In place on the workbench: the note where the form was, and out of band the task
        # sections (the proposed next task appears; "done" now offers this interaction first).
        context = {"customer": customer, "interaction": interaction, "message": message, "tasks_oob": True}
        return htmx_response(request, "interactions/workbench.html#logged", context | tasks_context(request))
    # In place: a success note where the form was, and out of band the customer page's timeline
    # (customers/customer_detail.html#timeline), the header badge, last contacted / next
    # follow-up, and the stage card when the stage moved.
    customer.refresh_from_db()
    context = {
        "customer": customer,
        "interaction": interaction,
        "message": message,
        "timeline": _new_first(hooks.timeline_for(customer, request.user, limit=TIMELINE_LIMIT), interaction),
        "timeline_oob": True,
        "stage_oob": customer.stage != stage_before,
    }
    if context["stage_oob"]:
        context["stage_form"] = StageForm(initial={"stage": customer.stage})
        context["stage_changes"] = list(customer.stage_changes.select_related("changed_by"))
    return htmx_response(request, f"{LOG_TEMPLATE}#saved", context)


@require_http_methods(["GET", "POST"])
def interaction_log(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """GET: the form (a fragment for htmx, else a page); ``part=proposal``: only its next-task
    fieldset, proposed again for the "proposal sent" and stage given. POST: save, or with
    ``recalculate`` (the no-JS way) show the form again with a new proposal."""
    customer = customer_get(request.user, customer_pk)
    access.require(request.user, ADD_INTERACTION)
    params = request.POST if request.method == "POST" else request.GET
    source = params.get("from") if params.get("from") in (QUICK, WORKBENCH) else ""
    if request.method == "GET" and request.GET.get("part") == "proposal":
        form, proposal = _reproposed(request, customer, _log_form(request, customer, request.GET))
        context = _log_context(request, customer, form, proposal, source)
        return htmx_response(request, f"{LOG_TEMPLATE}#proposal", context)
    if request.method == "GET":
        proposal = _proposal(customer, proposal_sent=False, stage="")
        form = _log_form(request, customer, initial=proposal_initial(proposal))
    elif "recalculate" in request.POST:
        form, proposal = _reproposed(request, customer, _log_form(request, customer, request.POST))
    else:
        form = _log_form(request, customer, request.POST)
        proposal = _proposal(customer, proposal_sent=form.typed_proposal_sent, stage=form.typed_stage)
        if form.is_valid():
            stage_before = customer.stage
            next_task = form.next_task(proposal.rule if proposal else None)
            try:
                interaction = follow_up.interaction_log(
                    actor=request.user, customer=customer, next_task=next_task, **form.interaction_fields()
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                message = _saved_message(interaction, next_task["due_at"] if next_task else None)
                return _saved(
                    request, customer, interaction, message, stage_before=stage_before, source=source
                )
    context = _log_context(request, customer, form, proposal, source)
    return htmx_response(request, f"{LOG_TEMPLATE}#form" if request.htmx else LOG_TEMPLATE, context)


def _search_context(request: HttpRequest) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()[:100]
    results, more = customers_matching(request.user, query, limit=SEARCH_LIMIT)
    return {"query": query, "results": results, "more": more, "limit": SEARCH_LIMIT}


@require_GET
def quick_log(request: HttpRequest) -> HttpResponse:
    """One search box to find the customer, then the interaction form for them; after saving,
    the page comes back offering to log another (``last``: the customer just logged)."""
    access.require(request.user, ADD_INTERACTION)
    context = _search_context(request)
    last = request.GET.get("last", "")
    context["last"] = customers_visible_to(request.user).filter(pk=last).first() if last.isdigit() else None
    return htmx_response(request, QUICK_TEMPLATE, context)


@require_GET
def customer_search(request: HttpRequest) -> HttpResponse:
    """The quick-log page's results while typing (an htmx fragment)."""
    access.require(request.user, ADD_INTERACTION)
    return htmx_response(request, f"{QUICK_TEMPLATE}#results", _search_context(request))


@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """A follow-up task on the customer (``?parent=<task>``: a sub-task of one of its open tasks)."""
    customer = customer_get(request.user, customer_pk)
    access.require(request.user, ADD_TASK)
    if request.method == "POST":
        form = TaskForm(request.POST, customer=customer, actor=request.user)
        if form.is_valid():
            try:
                task = follow_up.task_create(actor=request.user, customer=customer, **form.task_fields())
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request,
                    _("Follow-up task “%(task)s” added, due %(due)s.")
                    % {
                        "task": task.content,
                        "due": date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT"),
                    },
                )
                return redirect(customer)
    else:
        parent = request.GET.get("parent", "")
        form = TaskForm(
            customer=customer, actor=request.user, initial={"parent": parent} if parent.isdigit() else None
        )
    return TemplateResponse(request, TASK_TEMPLATE, {"customer": customer, "form": form})


urlpatterns = [
    path("customers/<int:customer_pk>/log/", interaction_log, name="interaction-log"),
    path("interactions/quick/", quick_log, name="quick-log"),
    path("interactions/quick/customers/", customer_search, name="customer-search"),
    path("customers/<int:customer_pk>/tasks/new/", task_create, name="task-create"),
]
