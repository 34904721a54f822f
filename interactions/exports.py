"""The interaction and task lists as exports (accounts.exports), rebuilt in the requester's scope.

Registered in ``InteractionsConfig.ready()`` with the export permission the customer list uses
(``customers.export_customer``); the view permission of the records is checked here too, when
the file is built in the worker (with the creator's language and time zone active, so the
headers are Chinese in zh-hans and times are the creator's wall time).
"""

from collections.abc import Iterator, Sequence
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.tabular import Cell
from customers.models import Customer
from interactions.models import FollowUpTask, Interaction
from interactions.selectors import interaction_list, task_list

INTERACTIONS = "interactions"
TASKS = "tasks"
EXPORT_PERMISSION = "customers.export_customer"
VIEW_INTERACTION = "interactions.view_interaction"
VIEW_TASK = "interactions.view_followuptask"
# Rows fetched from the database at a time (a server-side cursor; prefetches run per chunk).
FETCH_SIZE = 1000

# (model, field) whose verbose name heads each column, in order.
_INTERACTION_COLUMNS: list[tuple[type[Model], str]] = [
    (Interaction, "number"),
    (Interaction, "occurred_at"),
    (Customer, "number"),
    (Interaction, "customer"),
    (Interaction, "contact"),
    (Interaction, "method"),
    (Interaction, "topic"),
    (Interaction, "summary"),
    (Interaction, "feedback"),
    (Interaction, "next_step"),
    (Interaction, "next_step_due"),
    (Interaction, "proposal_sent"),
    (Interaction, "owner"),
    (Customer, "team"),
]

# A text heads a column that has no field of its own, or whose field's verbose name is ambiguous.
_TASK_COLUMNS: list[tuple[type[Model], str] | Promise] = [
    (Customer, "number"),
    (FollowUpTask, "customer"),
    (FollowUpTask, "contact"),
    (FollowUpTask, "content"),
    # The model's "kind" is translated as the customer's kind (客户类型).
    pgettext_lazy("follow-up task", "Kind"),
    (FollowUpTask, "parent"),
    (FollowUpTask, "owner"),
    (FollowUpTask, "due_at"),
    (FollowUpTask, "priority"),
    (FollowUpTask, "status"),
    # 待跟进: open and past due at the time of the export (derived, never stored).
    gettext_lazy("Overdue"),
    (FollowUpTask, "source_interaction"),
    (FollowUpTask, "completed_by_interaction"),
    (FollowUpTask, "completed_at"),
    (FollowUpTask, "created_at"),
]


def _header(model: type[Model], name: str) -> str:
    return capfirst(str(model._meta.get_field(name).verbose_name))


def interaction_headers() -> list[str]:
    """Column headers in the active language (the verbose names the pages show)."""
    return [_header(model, name) for model, name in _INTERACTION_COLUMNS]


def task_headers() -> list[str]:
    return [
        _header(*column) if isinstance(column, tuple) else capfirst(str(column)) for column in _TASK_COLUMNS
    ]


def _yes(value: bool) -> str:
    return _("Yes") if value else ""


def interaction_row(interaction: Interaction) -> list[Cell]:
    customer = interaction.customer
    return [
        interaction.number,
        interaction.occurred_at,
        customer.number,
        customer.name,
        interaction.contact.name if interaction.contact else "",
        interaction.get_method_display(),
        interaction.topic,
        interaction.summary,
        interaction.feedback,
        interaction.next_step,
        interaction.next_step_due,
        _yes(interaction.proposal_sent),
        str(interaction.owner),
        str(customer.team) if customer.team else "",
    ]


def task_row(task: FollowUpTask, now: datetime) -> list[Cell]:
    customer = task.customer
    overdue = task.status == FollowUpTask.Status.OPEN and task.due_at < now
    return [
        customer.number,
        customer.name,
        task.contact.name if task.contact else "",
        task.content,
        task.get_kind_display(),
        task.parent.content if task.parent else "",
        str(task.owner),
        task.due_at,
        task.get_priority_display(),
        task.get_status_display(),
        _yes(overdue),
        task.source_interaction.number if task.source_interaction else "",
        task.completed_by_interaction.number if task.completed_by_interaction else "",
        task.completed_at,
        task.created_at,
    ]


def build_interactions(user, params: dict) -> tuple[Sequence[str], Iterator[list[Cell]], int]:
    """``params``: ``{"query": "<the interaction list's query string>"}``."""
    if not user.has_perm(VIEW_INTERACTION):
        raise PermissionDenied
    queryset = interaction_list(actor=user, params=QueryDict(params.get("query", "")))
    count = queryset.count()
    rows = (interaction_row(interaction) for interaction in queryset.iterator(chunk_size=FETCH_SIZE))
    return interaction_headers(), rows, count


def build_tasks(user, params: dict) -> tuple[Sequence[str], Iterator[list[Cell]], int]:
    """``params``: ``{"query": "<the task list's query string>"}`` (none: the user's open tasks)."""
    if not user.has_perm(VIEW_TASK):
        raise PermissionDenied
    now = timezone.now()
    # The rows only: the list's prefetch of recent interactions (for "done") is not needed here.
    queryset = task_list(actor=user, params=QueryDict(params.get("query", "")), now=now).prefetch_related(
        None
    )
    count = queryset.count()
    rows = (task_row(task, now) for task in queryset.iterator(chunk_size=FETCH_SIZE))
    return task_headers(), rows, count
