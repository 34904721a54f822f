"""The lead's team page (团队跟进): the team's overdue tasks by rep, profiles waiting for review,
customers not contacted for longer than their cadence, and reassigning a task or a customer in
place (htmx re-renders the section; without JavaScript the form posts and the page reloads).

Team leads see the teams they lead; users who see every team (directors, administrators) choose
one. Reps and agents get 403.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.access import Scope, led_team_ids, scope_of
from accounts.errors import DomainError
from accounts.http import htmx_response
from accounts.models import Team, User
from customers.forms.lifecycle import TransferForm
from customers.selectors import customer_get, customer_transfer_targets, manages
from customers.selectors_lifecycle import review_summary
from customers.services.transfer import customers_transfer
from interactions.forms.workbench import TaskReassignForm
from interactions.selectors import task_get
from interactions.selectors_workbench import (
    STALE_ROWS,
    bounded_with_count,
    stale_customers,
    team_choices,
    team_members,
    team_overdue,
)
from interactions.services.follow_up import task_reassign
from interactions.views.lists import CHANGE_TASK, VIEW_TASK, overdue_label, overdue_since

TEMPLATE = "interactions/team.html"
TRANSFER = "customers.transfer_customer"


def may_open_team_page(user) -> bool:
    """Team leads and users who see every team (used by the navigation entry too)."""
    return scope_of(user) in (Scope.TEAM, Scope.ALL) and user.has_perm(VIEW_TASK)


def _team_url(team: Team | None) -> str:
    url = reverse("interactions:team")
    return f"{url}?{urlencode({'team': team.pk})}" if team else url


def _chosen_team(request: HttpRequest, teams: list[Team]) -> Team | None:
    """The team asked for (404 when it is not one of the user's), else the user's own, else the first."""
    wanted = request.GET.get("team", "")
    if wanted:
        for team in teams:
            if str(team.pk) == wanted:
                return team
        raise Http404
    return next((team for team in teams if team.pk == request.user.team_id), teams[0] if teams else None)


def _overdue_context(
    request: HttpRequest, team: Team, errors: dict[int, str] | None = None
) -> dict[str, Any]:
    now = timezone.now()
    groups = team_overdue(request.user, team, now=now)
    errors = errors or {}
    for group in groups:
        group.oldest_label = overdue_since(group.oldest_due, now)
        for task in group.tasks:
            task.overdue_label = overdue_label(task, now)
            task.row_error = errors.get(task.pk)
    return {
        "team": team,
        "groups": groups,
        "overdue_total": sum(group.count for group in groups),
        "members": list(team_members(team)),
        "can_reassign_tasks": request.user.has_perm(CHANGE_TASK),
        "next_url": _team_url(team),
    }


def _stale_context(request: HttpRequest, team: Team, errors: dict[int, str] | None = None) -> dict[str, Any]:
    count, rows = bounded_with_count(stale_customers(request.user, team), STALE_ROWS)
    errors = errors or {}
    for customer in rows:
        customer.row_error = errors.get(customer.pk)
    user = request.user
    can_transfer = user.has_perm(TRANSFER)
    return {
        "team": team,
        "stale_count": count,
        "stale": rows,
        "can_transfer": can_transfer,
        "transfer_targets": list(customer_transfer_targets(user).filter(team=team)) if can_transfer else [],
        "stale_link": reverse("customers:customer-list") + "?" + urlencode({"team": team.pk}),
        "next_url": _team_url(team),
    }


@require_GET
def team_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_open_team_page(user):
        raise PermissionDenied
    teams = list(team_choices(user))
    team = _chosen_team(request, teams)
    context: dict[str, Any] = {"teams": teams, "team": team}
    if team is not None:
        context |= _overdue_context(request, team) | _stale_context(request, team)
        context["reviews"] = review_summary(user, team=team)
    return htmx_response(request, TEMPLATE, context)


def _managed_team_of(user, owner: User) -> None:
    """403 unless ``user`` manages the team of ``owner`` (all scope manages every team)."""
    scope = scope_of(user)
    if scope is Scope.ALL:
        return
    if scope is not Scope.TEAM or owner.team_id not in led_team_ids(user):
        raise PermissionDenied


@require_POST
def team_task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give an overdue task to another member of its holder's team (clears the reassign flag)."""
    user = request.user
    task = task_get(user, pk)
    access.require(user, CHANGE_TASK)
    _managed_team_of(user, task.owner)
    team = task.owner.team
    if team is None:
        raise PermissionDenied
    members = team_members(team)
    form = TaskReassignForm(request.POST, members=members)
    error = None
    if not form.is_valid():
        error = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
    else:
        try:
            task_reassign(
                actor=user, task=task, owner=form.cleaned_data["owner"], version=form.cleaned_data["version"]
            )
        except DomainError as domain_error:
            error = domain_error.message
    if request.htmx:
        return htmx_response(
            request, f"{TEMPLATE}#overdue", _overdue_context(request, team, {task.pk: error})
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request, _("“%(task)s” now belongs to %(owner)s.") % {"task": task.content, "owner": task.owner}
        )
    return redirect(_team_url(team))


@require_POST
def team_customer_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a customer to another member of the team (customers' transfer: its open tasks follow)."""
    user = request.user
    customer = customer_get(user, pk)
    access.require(user, TRANSFER)
    if not manages(user, customer) or customer.team is None:
        raise PermissionDenied
    team = customer.team
    form = TransferForm(
        request.POST, candidates=customer_transfer_targets(user, exclude=customer.owner).filter(team=team)
    )
    error = None
    if not form.is_valid():
        error = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
    else:
        try:
            customers_transfer(
                actor=user,
                customers=[customer],
                new_owner=form.cleaned_data["owner"],
                note=form.cleaned_data["note"],
            )
        except DomainError as domain_error:
            error = domain_error.message
    if request.htmx:
        return htmx_response(
            request, f"{TEMPLATE}#stale", _stale_context(request, team, {customer.pk: error})
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("%(customer)s now belongs to %(owner)s.")
            % {"customer": customer.name, "owner": form.cleaned_data["owner"]},
        )
    return redirect(_team_url(team))


urlpatterns = [
    path("team/", team_page, name="team"),
    path("team/tasks/<int:pk>/reassign/", team_task_reassign, name="team-task-reassign"),
    path("team/customers/<int:pk>/reassign/", team_customer_reassign, name="team-customer-reassign"),
]
