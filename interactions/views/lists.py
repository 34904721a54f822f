"""Lists and pages of interactions (跟进记录) and follow-up tasks (跟进任务): filters, exports,
and the task actions (done, reschedule, cancel) that work in place with htmx and without it."""

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import DomainError
from accounts.exports import start_export
from accounts.http import htmx_response, safe_next
from accounts.paging import CappedPaginator
from interactions import exports as interaction_exports
from interactions.forms.lists import ExportForm, TaskDoneForm, TaskEditForm, list_query
from interactions.models import FollowUpTask
from interactions.selectors import (
    interaction_filter,
    interaction_get,
    interaction_rows,
    task_completion_choices,
    task_completion_default,
    task_filter,
    task_get,
    task_rows,
    task_subtasks,
    tasks_visible_to,
)
from interactions.services.follow_up import task_cancel as cancel_task
from interactions.services.follow_up import task_complete, task_update

PER_PAGE = 25
VIEW_INTERACTION = "interactions.view_interaction"
VIEW_TASK = "interactions.view_followuptask"
CHANGE_TASK = "interactions.change_followuptask"
EXPORT = interaction_exports.EXPORT_PERMISSION


def _with_query(url_name: str, query: str) -> str:
    url = reverse(url_name)
    return f"{url}?{query}" if query else url


# Interactions


@require_GET
def interaction_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW_INTERACTION)
    filterset = interaction_filter(actor=user, params=request.GET)
    page = CappedPaginator(interaction_rows(filterset.qs), PER_PAGE).get_page(request.GET.get("page"))
    query = list_query(request.GET.urlencode())
    context = {
        "filter": filterset,
        "page": page,
        "interactions": page.object_list,
        "export_form": ExportForm(initial={"query": query, "format": "xlsx"}),
        "can_export": user.has_perm(EXPORT),
    }
    template = "interactions/interaction_list.html"
    return htmx_response(request, f"{template}#results" if request.htmx else template, context)


@require_GET
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = interaction_get(request.user, pk)
    access.require(request.user, VIEW_INTERACTION)
    return TemplateResponse(request, "interactions/interaction_detail.html", {"interaction": interaction})


@require_POST
def interaction_export(request: HttpRequest) -> HttpResponse:
    return _export(
        request, interaction_exports.INTERACTIONS, VIEW_INTERACTION, "interactions:interaction-list"
    )


def _export(request: HttpRequest, kind: str, view_permission: str, list_url_name: str) -> HttpResponse:
    """Export a list as filtered (rebuilt in the actor's scope by the worker) to CSV or XLSX."""
    user = request.user
    access.require(user, view_permission)
    access.require(user, EXPORT)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose CSV or XLSX."))
        return redirect(_with_query(list_url_name, list_query(request.POST.get("query", ""))))
    export = start_export(
        user=user, kind=kind, params={"query": form.cleaned_data["query"]}, fmt=form.cleaned_data["format"]
    )
    return redirect("accounts:export-detail", export.pk)


# Tasks


def overdue_label(task: FollowUpTask, now: datetime) -> str:
    """How long an open task is past due ("逾期3天"), or "" when it is not (待跟进 is derived)."""
    if task.status != FollowUpTask.Status.OPEN:
        return ""
    return overdue_since(task.due_at, now)


def overdue_since(due_at: datetime, now: datetime) -> str:
    """How long past ``due_at`` it is, in whole days (or hours on the first day); "" if not yet."""
    if due_at >= now:
        return ""
    late = now - due_at
    if late.days:
        return ngettext("Overdue by %(count)d day", "Overdue by %(count)d days", late.days) % {
            "count": late.days
        }
    hours = late.seconds // 3600
    if hours:
        return ngettext("Overdue by %(count)d hour", "Overdue by %(count)d hours", hours) % {"count": hours}
    return _("Overdue by less than an hour")


def _decorate(tasks: list[FollowUpTask], now: datetime, *, actions: bool = True) -> list[FollowUpTask]:
    """What a row shows besides the task: its lateness and (``actions``) the choices of "done"."""
    for task in tasks:
        task.overdue_label = overdue_label(task, now)
        if actions and task.status == FollowUpTask.Status.OPEN:
            task.done_choices = task_completion_choices(task)
            task.done_default = task_completion_default(task.done_choices, now)
    return tasks


@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW_TASK)
    now = timezone.now()
    filterset = task_filter(actor=user, params=request.GET, now=now)
    page = CappedPaginator(task_rows(filterset.qs), PER_PAGE).get_page(request.GET.get("page"))
    query = list_query(request.GET.urlencode())
    context = {
        "filter": filterset,
        "page": page,
        "tasks": _decorate(list(page.object_list), now),
        "next_url": request.get_full_path(),
        "can_change": user.has_perm(CHANGE_TASK),
        "export_form": ExportForm(initial={"query": query, "format": "xlsx"}),
        "can_export": user.has_perm(EXPORT),
    }
    template = "interactions/task_list.html"
    return htmx_response(request, f"{template}#results" if request.htmx else template, context)


@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    task = task_get(user, pk)
    access.require(user, VIEW_TASK)
    now = timezone.now()
    context = {
        "task": _decorate([task], now)[0],
        "subtasks": _decorate(list(task_subtasks(task)), now, actions=False),
        "can_change": user.has_perm(CHANGE_TASK),
        "next_url": request.get_full_path(),
    }
    return TemplateResponse(request, "interactions/task_detail.html", context)


def _after_action(request: HttpRequest, task: FollowUpTask, error: str | None) -> HttpResponse:
    """htmx: the task's row again (now done or cancelled, or with the error); else back to the page."""
    if request.htmx:
        row = task_rows(tasks_visible_to(request.user).filter(pk=task.pk)).first() or task
        context = {
            "task": _decorate([row], timezone.now())[0],
            "row_error": error,
            "next_url": safe_next(request, reverse("interactions:task-list")),
            "can_change": request.user.has_perm(CHANGE_TASK),
        }
        return htmx_response(request, "interactions/task_list.html#task_row", context)
    if error:
        messages.error(request, error)
    response = redirect(safe_next(request, task.get_absolute_url()))
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a task done, with the interaction that completed it (if any)."""
    user = request.user
    task = task_get(user, pk)
    access.require(user, CHANGE_TASK)
    form = TaskDoneForm(request.POST, task=task)
    error = None
    if not form.is_valid():
        error = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
    else:
        try:
            task_complete(actor=user, task=task, interaction=form.cleaned_data["interaction"])
        except DomainError as domain_error:
            error = domain_error.message
        else:
            if not request.htmx:
                messages.success(request, _("The task “%(task)s” is done.") % {"task": task.content})
    return _after_action(request, task, error)


@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    task = task_get(user, pk)
    access.require(user, CHANGE_TASK)
    error = None
    try:
        cancel_task(actor=user, task=task)
    except DomainError as domain_error:
        error = domain_error.message
    else:
        if not request.htmx:
            messages.success(request, _("The task “%(task)s” was cancelled.") % {"task": task.content})
    return _after_action(request, task, error)


@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Reschedule, reassign or reword an open task (optimistic lock on its version)."""
    user = request.user
    task = task_get(user, pk)
    access.require(user, CHANGE_TASK)
    back = safe_next(request, task.get_absolute_url())
    if task.status != FollowUpTask.Status.OPEN:
        messages.error(request, _("This task is no longer open."))
        return redirect(back)
    if request.method == "POST":
        form = TaskEditForm(request.POST, actor=user, task=task)
        if form.is_valid():
            try:
                task_update(actor=user, task=task, version=form.cleaned_data["version"], **form.changes())
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("The task “%(task)s” was saved.") % {"task": task.content})
                return redirect(back)
    else:
        form = TaskEditForm(actor=user, task=task)
    return TemplateResponse(
        request, "interactions/task_edit.html", {"task": task, "form": form, "next_url": back}
    )


@require_POST
def task_export(request: HttpRequest) -> HttpResponse:
    return _export(request, interaction_exports.TASKS, VIEW_TASK, "interactions:task-list")


urlpatterns = [
    path("interactions/", interaction_list, name="interaction-list"),
    path("interactions/<int:pk>/", interaction_detail, name="interaction-detail"),
    path("interactions/export/", interaction_export, name="interaction-export"),
    path("tasks/", task_list, name="task-list"),
    path("tasks/<int:pk>/", task_detail, name="task-detail"),
    path("tasks/<int:pk>/done/", task_done, name="task-done"),
    path("tasks/<int:pk>/edit/", task_edit, name="task-edit"),
    path("tasks/<int:pk>/cancel/", task_cancel, name="task-cancel"),
    path("tasks/export/", task_export, name="task-export"),
]
