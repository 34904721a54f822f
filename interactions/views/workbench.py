"""The rep's workbench (我的工作台) on the home page, and its in-place task actions.

The home page belongs to ``accounts``, which cannot import this app: the workbench is a panel of
``accounts.workbench`` (wide, first). "Done" reuses the task list's flow (interactions:task-done,
whose row fragment fits the workbench's rows); "reschedule" is a small action of its own that
re-renders the task sections (a task may move from one to another); "log" opens the customer's
interaction form.
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import access, workbench
from accounts.errors import ConcurrentEditError, DomainError
from accounts.http import htmx_response, safe_next
from interactions.forms.workbench import TaskRescheduleForm
from interactions.models import FollowUpTask
from interactions.selectors import task_get
from interactions.selectors_workbench import (
    SECTION_ROWS,
    SECTIONS,
    UPCOMING_DAYS,
    Days,
    bounded_with_count,
    customers_without_next_step,
    recent_interactions,
    workbench_tasks,
)
from interactions.services.follow_up import task_update
from interactions.views.lists import CHANGE_TASK, _decorate
from interactions.views.manager import may_open_team_page

TEMPLATE = "interactions/workbench.html"


def _task_links(user, days: Days) -> dict[str, str]:
    """The task list with the filters that show exactly what each section counts."""
    base = reverse("interactions:task-list")
    mine = {"owner": user.pk, "status": FollowUpTask.Status.OPEN}
    today = days.today
    ranges = {
        "overdue": {"due_to": today - timedelta(days=1)},
        "today": {"due_from": today, "due_to": today},
        "upcoming": {"due_from": today + timedelta(days=1), "due_to": today + timedelta(days=UPCOMING_DAYS)},
    }
    return {
        key: f"{base}?{urlencode(mine | {name: day.isoformat() for name, day in bounds.items()})}"
        for key, bounds in ranges.items()
    }


def tasks_context(
    request: HttpRequest, errors: dict[int, TaskRescheduleForm] | None = None
) -> dict[str, Any]:
    """The three task sections of ``request.user``; ``errors`` holds a bound form for a row whose
    reschedule failed (it shows what was typed and why)."""
    user = request.user
    now = timezone.now()
    days = Days.of(now)
    sections = workbench_tasks(user, now=now)
    links = _task_links(user, days)
    errors = errors or {}
    for section in sections.values():
        _decorate(section.tasks, now)
        section.link = links[section.key]
        for task in section.tasks:
            task.reschedule_form = errors.get(task.pk) or TaskRescheduleForm(task=task)
    return {
        "sections": [sections[key] for key in SECTIONS],
        "can_change": user.has_perm(CHANGE_TASK),
        "next_url": reverse("home"),
        "section_rows": SECTION_ROWS,
    }


def workbench_panel(request: HttpRequest) -> dict[str, Any] | None:
    """The workbench panel of the home page, or None when the user has nothing on it at all."""
    user = request.user
    context = tasks_context(request)
    without_count, without_rows = bounded_with_count(customers_without_next_step(user), SECTION_ROWS)
    recent = recent_interactions(user)
    if not (any(section.count for section in context["sections"]) or without_count or recent):
        return None
    return context | {
        "without_next_step": without_rows,
        "without_next_step_count": without_count,
        "without_next_step_link": reverse("customers:customer-list")
        + "?"
        + urlencode({"owner": user.pk, "no_next_step": "on"}),
        "recent_interactions": recent,
        # Leads (and all-scope users) reach their team's page from here too.
        "team_page": may_open_team_page(user),
        "recent_link": reverse("interactions:interaction-list") + "?" + urlencode({"owner": user.pk}),
    }


def register_panel() -> None:
    workbench.register(
        workbench.Panel(
            key="interactions-workbench",
            template_name=f"{TEMPLATE}#panel",
            context=workbench_panel,
            order=10,
            allowed=lambda user: user.has_perm(CHANGE_TASK),
            wide=True,
        )
    )


@require_POST
def task_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """A new due time for an open task, in place on the workbench (optimistic lock on version)."""
    user = request.user
    task = task_get(user, pk)
    access.require(user, CHANGE_TASK)
    form = TaskRescheduleForm(request.POST, task=task)
    if form.is_valid():
        try:
            task_update(
                actor=user,
                task=task,
                version=form.cleaned_data["version"],
                due_at=form.cleaned_data["due_at"],
            )
        except ConcurrentEditError as error:
            # Show what was typed against the version saved now: a second "save" overrides knowingly.
            data = request.POST.copy()
            data["version"] = str(task_get(user, pk).version)
            form = TaskRescheduleForm(data, task=task)
            form.is_valid()
            form.add_error(None, error.message)
        except DomainError as error:
            form.add_error("due_at" if error.field == "due_at" else None, error.message)
    ok = form.is_valid()  # False too when the service refused (its error was added)
    if request.htmx:
        return htmx_response(
            request, f"{TEMPLATE}#tasks", tasks_context(request, {} if ok else {task.pk: form})
        )
    if ok:
        messages.success(
            request,
            _("The task “%(task)s” is now due %(due)s.")
            % {"task": task.content, "due": _local(form.cleaned_data["due_at"])},
        )
        return redirect(safe_next(request, reverse("home")))
    context = {"task": task, "form": form, "next_url": safe_next(request, reverse("home"))}
    return htmx_response(request, "interactions/workbench_reschedule.html", context, status=400)


def _local(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


urlpatterns = [
    path("tasks/<int:pk>/reschedule/", task_reschedule, name="task-reschedule"),
]
