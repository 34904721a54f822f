"""Logging interactions and managing follow-up tasks; both keep the customer's denormalised
``last_contacted_at`` and ``next_follow_up_at`` correct, so lists need no extra query."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConcurrentEditError, DomainError
from accounts.numbering import next_number
from customers.models import Contact, Customer
from customers.services.profiles import customer_set_stage
from interactions.models import CadenceRule, FollowUpTask, Interaction


def customers_refresh_follow_up(customer_ids: Iterable[int]) -> None:
    """Recompute last contacted (the latest interaction) and next follow-up (the earliest open
    task) of these customers in one statement. Called in the transaction of every change."""
    ids = list(set(customer_ids))
    if not ids:
        return
    last = (
        Interaction.objects.filter(customer=OuterRef("pk")).values("customer").annotate(at=Max("occurred_at"))
    )
    following = (
        FollowUpTask.objects.filter(customer=OuterRef("pk"), status=FollowUpTask.Status.OPEN)
        .values("customer")
        .annotate(at=Min("due_at"))
    )
    Customer.objects.filter(pk__in=ids).update(
        last_contacted_at=Subquery(last.values("at")), next_follow_up_at=Subquery(following.values("at"))
    )


def _check_contact(customer: Customer, contact: Contact | None) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise DomainError(_("This contact belongs to another customer."), field="contact")


@transaction.atomic
def interaction_log(
    *,
    actor,
    customer: Customer,
    method: str,
    topic: str,
    summary: str,
    occurred_at: datetime | None = None,
    contact: Contact | None = None,
    feedback: str = "",
    next_step: str = "",
    next_step_due: date | None = None,
    proposal_sent: bool = False,
    stage: str | None = None,
    next_task: dict[str, Any] | None = None,
    completes: Iterable[FollowUpTask] = (),
) -> Interaction:
    """Record an interaction (跟进记录), number ``G``+date+sequence.

    Optionally in the same transaction: move the customer's stage (e.g. need confirmed → intent),
    complete the open tasks it answers, and create the next follow-up task (``next_task``: the
    fields of ``task_create``; usually the cadence proposal the rep accepted or changed).
    """
    _check_contact(customer, contact)
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise DomainError(
            _("An interaction cannot be in the future; plan a task instead."), field="occurred_at"
        )
    interaction = Interaction.objects.create(
        number=next_number("G", width=3, day=timezone.localdate(occurred_at)),
        customer=customer,
        contact=contact,
        method=method,
        occurred_at=occurred_at,
        owner=actor,
        topic=topic,
        summary=summary,
        feedback=feedback,
        next_step=next_step,
        next_step_due=next_step_due,
        proposal_sent=proposal_sent,
        created_by=actor,
    )
    if stage and stage != customer.stage:
        customer_set_stage(actor=actor, customer=customer, stage=stage, note=interaction.number)
    for task in completes:
        task_complete(actor=actor, task=task, interaction=interaction, refresh=False)
    if next_task:
        task_create(
            actor=actor, customer=customer, source_interaction=interaction, refresh=False, **next_task
        )
    customers_refresh_follow_up([customer.pk])
    return interaction


@transaction.atomic
def task_create(
    *,
    actor,
    customer: Customer,
    due_at: datetime,
    content: str,
    owner=None,
    contact: Contact | None = None,
    priority: int = FollowUpTask.Priority.NORMAL,
    parent: FollowUpTask | None = None,
    kind: str = FollowUpTask.Kind.FOLLOW_UP,
    cadence_rule: CadenceRule | None = None,
    source_interaction: Interaction | None = None,
    refresh: bool = True,
    care_key: str = "",
) -> FollowUpTask:
    """A new open task; ``care_key`` (unique when not empty) marks a task made once per occasion
    (a birthday, an after-sales call)."""
    _check_contact(customer, contact)
    if parent is not None and parent.customer_id != customer.pk:
        raise DomainError(_("A sub-task belongs to the customer of its main task."), field="parent")
    owner = owner or actor
    if not owner.is_active:
        raise DomainError(_("%(user)s is not an active user.") % {"user": owner}, field="owner")
    task = FollowUpTask.objects.create(
        customer=customer,
        contact=contact,
        parent=parent,
        kind=kind,
        owner=owner,
        due_at=due_at,
        content=content,
        priority=priority,
        cadence_rule=cadence_rule,
        source_interaction=source_interaction,
        created_by=actor,
        care_key=care_key,
    )
    if refresh:
        customers_refresh_follow_up([customer.pk])
    return task


def _locked_open(task: FollowUpTask) -> FollowUpTask:
    locked = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if locked.status != FollowUpTask.Status.OPEN:
        raise DomainError(_("This task is no longer open."))
    return locked


@transaction.atomic
def task_complete(
    *, actor, task: FollowUpTask, interaction: Interaction | None = None, refresh: bool = True
) -> FollowUpTask:
    """Mark a task done, with the interaction that completed it (SPEC 3)."""
    locked = _locked_open(task)
    if interaction is not None and interaction.customer_id != locked.customer_id:
        raise DomainError(_("The interaction is about another customer."), field="interaction")
    now = timezone.now()
    FollowUpTask.objects.filter(pk=locked.pk).update(
        status=FollowUpTask.Status.DONE,
        completed_at=now,
        completed_by_interaction=interaction,
        version=F("version") + 1,
    )
    task.status, task.completed_at, task.completed_by_interaction = FollowUpTask.Status.DONE, now, interaction
    task.version = locked.version + 1
    if refresh:
        customers_refresh_follow_up([locked.customer_id])
    return task


@transaction.atomic
def task_cancel(*, actor, task: FollowUpTask) -> FollowUpTask:
    locked = _locked_open(task)
    FollowUpTask.objects.filter(pk=locked.pk).update(
        status=FollowUpTask.Status.CANCELLED, version=F("version") + 1
    )
    task.status, task.version = FollowUpTask.Status.CANCELLED, locked.version + 1
    customers_refresh_follow_up([locked.customer_id])
    return task


@transaction.atomic
def task_update(*, actor, task: FollowUpTask, version: int, **changes: Any) -> FollowUpTask:
    """Reschedule, reassign or reword an open task read at ``version``."""
    allowed = {"due_at", "owner", "content", "priority", "contact"}
    if unknown := set(changes) - allowed:
        raise TypeError(f"Not an editable task field: {', '.join(sorted(unknown))}")
    locked = _locked_open(task)
    if locked.version != version:
        raise ConcurrentEditError(
            _("Someone else changed this task while you were editing. Reload the page to see their changes.")
        )
    if "contact" in changes:
        _check_contact(locked.customer, changes["contact"])
    if "owner" in changes and not changes["owner"].is_active:
        raise DomainError(_("%(user)s is not an active user.") % {"user": changes["owner"]}, field="owner")
    FollowUpTask.objects.filter(pk=locked.pk).update(**changes, version=F("version") + 1)
    for name, value in changes.items():
        setattr(task, name, value)
    task.version = locked.version + 1
    customers_refresh_follow_up([locked.customer_id])
    return task


@transaction.atomic
def task_reassign(*, actor, task: FollowUpTask, owner, version: int | None = None) -> FollowUpTask:
    """Give an open task to someone else (the lead's team page); it is no longer flagged for
    reassignment (FollowUpTask.reassign_flagged_at, set by the overdue escalation)."""
    locked = _locked_open(task)
    if version is not None and locked.version != version:
        raise ConcurrentEditError(
            _("Someone else changed this task while you were editing. Reload the page to see their changes.")
        )
    if not owner.is_active:
        raise DomainError(_("%(user)s is not an active user.") % {"user": owner}, field="owner")
    FollowUpTask.objects.filter(pk=locked.pk).update(
        owner=owner, reassign_flagged_at=None, version=F("version") + 1
    )
    task.owner, task.reassign_flagged_at, task.version = owner, None, locked.version + 1
    return task
