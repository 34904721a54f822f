"""Reads of interactions and follow-up tasks: every list, page and export starts from these, so
scope (through the customer; a task's owner always sees their own) is never forgotten."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.access import Scope, led_team_ids, scope_of
from accounts.models import User
from customers.models import Contact
from interactions.models import FollowUpTask, Interaction, InteractionQuerySet, TaskQuerySet

if TYPE_CHECKING:
    from interactions.filters import InteractionFilter, TaskFilter

# How many of the customer's latest interactions "done" offers as the one that completed a task.
COMPLETION_CHOICES = 10
# The latest of them is chosen already when it was logged this recently ("one click when it was
# just logged", SPEC 3).
JUST_LOGGED = timedelta(days=1)


# Interactions (跟进记录)


def interactions_visible_to(user) -> InteractionQuerySet:
    return Interaction.objects.visible_to(user)


def interaction_get(user, pk: int) -> Interaction:
    """One interaction with what its page shows, or 404 outside the user's scope."""
    tasks = FollowUpTask.objects.select_related("owner").order_by("due_at", "pk")
    queryset = (
        interactions_visible_to(user)
        .select_related("customer", "customer__owner", "customer__team", "contact", "owner", "created_by")
        .prefetch_related(
            Prefetch("proposed_tasks", queryset=tasks), Prefetch("completed_tasks", queryset=tasks)
        )
    )
    return get_object_or_404(queryset, pk=pk)


def interaction_filter(*, actor, params: QueryDict) -> "InteractionFilter":
    """The interaction list's filters bound to ``params`` over the actor's scope; ``.qs`` is the
    filtered queryset, newest first, without the related rows (``interaction_rows`` adds them)."""
    from interactions.filters import InteractionFilter

    return InteractionFilter(params, queryset=interactions_visible_to(actor), actor=actor)


def interaction_rows(queryset: InteractionQuerySet) -> InteractionQuerySet:
    """What each row of the list or the export shows, in one query."""
    return queryset.select_related("customer", "customer__team", "contact", "owner")


def interaction_list(*, actor, params: QueryDict) -> InteractionQuerySet:
    return interaction_rows(interaction_filter(actor=actor, params=params).qs)


def _people_filter_choices(actor, records: QuerySet) -> QuerySet[User]:
    """The people a "who" filter offers: for a director everyone who has such records; for
    others themselves and the members of their own and led teams (never other teams' names).

    Not "owners of a record the actor can see": at 100,000 customers that check reads every
    task of every other user to prove none is visible (about a second per page)."""
    if scope_of(actor) is Scope.ALL:
        people = Q(Exists(records.filter(owner=OuterRef("pk"))))
    else:
        teams = [*led_team_ids(actor), *([actor.team_id] if actor.team_id else [])]
        people = Q(pk=actor.pk) | Q(team_id__in=teams, is_active=True)
    return User.objects.filter(people).order_by("display_name", "username")


def interaction_owner_choices(actor) -> QuerySet[User]:
    """The "followed up by" filter of the interaction list."""
    return _people_filter_choices(actor, Interaction.objects.all())


# Follow-up tasks (跟进任务)


def tasks_visible_to(user) -> TaskQuerySet:
    return FollowUpTask.objects.visible_to(user)


def task_get(user, pk: int) -> FollowUpTask:
    """One task with what its page and its forms need, or 404 outside the user's scope."""
    queryset = tasks_visible_to(user).select_related(
        "customer",
        "customer__owner",
        "customer__team",
        "contact",
        "owner",
        "parent",
        "parent__owner",
        "source_interaction",
        "completed_by_interaction",
        "created_by",
    )
    return get_object_or_404(queryset, pk=pk)


def task_subtasks(task: FollowUpTask) -> QuerySet[FollowUpTask]:
    """The sub-tasks of a main task, each with its owner and deadline."""
    return task.subtasks.select_related("owner").order_by("due_at", "pk")


def task_filter(*, actor, params: QueryDict, now: datetime | None = None) -> "TaskFilter":
    """The task list's filters bound to ``params``; without any filter in the query string the
    list shows the actor's own open tasks ("mine, open")."""
    from interactions.filters import TaskFilter

    if not any(name in params for name in TaskFilter.base_filters):
        params = params.copy()
        params["owner"] = str(actor.pk)
        params["status"] = FollowUpTask.Status.OPEN
    return TaskFilter(params, queryset=tasks_visible_to(actor), actor=actor, now=now)


def task_rows(queryset: TaskQuerySet) -> TaskQuerySet:
    """What each row of the list or the export shows, in a constant number of queries.

    The customer's latest interactions (the choices of "done") land in
    ``task.customer.recent_interactions``: one windowed query for the whole page.
    """
    recent = Interaction.objects.order_by("-occurred_at", "-pk")[:COMPLETION_CHOICES]
    return queryset.select_related(
        "customer",
        "customer__team",
        "contact",
        "owner",
        "parent",
        "source_interaction",
        "completed_by_interaction",
    ).prefetch_related(Prefetch("customer__interactions", queryset=recent, to_attr="recent_interactions"))


def task_list(*, actor, params: QueryDict, now: datetime | None = None) -> TaskQuerySet:
    return task_rows(task_filter(actor=actor, params=params, now=now).qs)


def task_owner_choices(actor) -> QuerySet[User]:
    """The task list's owner filter."""
    return _people_filter_choices(actor, FollowUpTask.objects.all())


def task_assignee_choices(actor, task: FollowUpTask) -> QuerySet[User]:
    """Who may be given a task: the customer's owner and collaborators, and for a team lead the
    members of the teams they lead (whoever holds it now stays a valid choice)."""
    customer = task.customer
    condition = Q(pk=customer.owner_id) | Q(shared_customers=customer)
    scope = scope_of(actor)
    if scope is Scope.TEAM:
        condition |= Q(team_id__in=led_team_ids(actor))
    elif scope is Scope.ALL and customer.team_id:
        condition |= Q(team_id=customer.team_id)
    candidates = User.objects.filter(condition, is_active=True).values("pk")
    return User.objects.filter(Q(pk__in=candidates) | Q(pk=task.owner_id)).order_by(
        "display_name", "username"
    )


def task_contact_choices(task: FollowUpTask) -> QuerySet[Contact]:
    return Contact.objects.filter(customer_id=task.customer_id).order_by("-is_primary", "name")


def task_completion_candidates(task: FollowUpTask) -> QuerySet[Interaction]:
    """Interactions that may complete the task: those of its customer (the form lists the latest)."""
    return Interaction.objects.filter(customer_id=task.customer_id)


def task_completion_choices(task: FollowUpTask) -> list[Interaction]:
    """The customer's latest interactions, newest first: prefetched on list rows, else one query."""
    recent = getattr(task.customer, "recent_interactions", None)
    if recent is None:
        recent = list(task_completion_candidates(task).order_by("-occurred_at", "-pk")[:COMPLETION_CHOICES])
    return recent


def task_completion_default(
    choices: Sequence[Interaction], now: datetime | None = None
) -> Interaction | None:
    """The interaction "done" proposes: the latest one when it was logged within the last day."""
    now = now or timezone.now()
    if choices and choices[0].created_at >= now - JUST_LOGGED:
        return choices[0]
    return None
