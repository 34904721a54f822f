"""How interactions and tasks join the customers app's workflows (customers.hooks):
the customer timeline, merging two customers, and transferring customers to a new owner."""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers import hooks
from customers.models import Customer
from customers.services.privacy import SCRUBBED, plain_record
from interactions.models import FollowUpTask, Interaction
from interactions.services.follow_up import customers_refresh_follow_up


def timeline_entries(customer: Customer, user, limit: int) -> list[hooks.TimelineEntry]:
    """The customer's newest interactions and tasks (one query each); whoever sees the customer
    sees them all (collaborators share follow-up records)."""
    entries = []
    for interaction in (
        Interaction.objects.filter(customer=customer)
        .select_related("owner", "contact")
        .order_by("-occurred_at")[:limit]
    ):
        body = interaction.summary
        if interaction.feedback:
            body += "\n" + _("Feedback: %(feedback)s") % {"feedback": interaction.feedback}
        if interaction.next_step:
            body += "\n" + _("Next step: %(step)s") % {"step": interaction.next_step}
        entries.append(
            hooks.TimelineEntry(
                at=interaction.occurred_at,
                kind="interaction",
                icon="chat-left-text",
                title=f"{interaction.get_method_display()} · {interaction.topic}",
                body=body,
                url=interaction.get_absolute_url(),
                actor=str(interaction.owner),
            )
        )
    tasks = (
        FollowUpTask.objects.filter(customer=customer).select_related("owner").order_by("-created_at")[:limit]
    )
    for task in tasks:
        if task.status == FollowUpTask.Status.DONE:
            title, at, icon = (
                _("Task done: %(task)s") % {"task": task.content},
                task.completed_at,
                "check2-square",
            )
        else:
            title, at, icon = (
                _("Task planned: %(task)s") % {"task": task.content},
                task.created_at,
                "calendar-event",
            )
        body = _("Due %(due)s · %(status)s") % {
            "due": date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT"),
            "status": task.get_status_display(),
        }
        entries.append(
            hooks.TimelineEntry(
                at=at or task.created_at,
                kind="task",
                icon=icon,
                title=title,
                body=body,
                url=task.get_absolute_url(),
                actor=str(task.owner),
            )
        )
    return entries


def _move(model):
    def move(survivor: Customer, merged: Customer, actor) -> int:
        moved = model.objects.filter(customer=merged).update(customer=survivor)
        customers_refresh_follow_up([survivor.pk, merged.pk])
        return moved

    return move


def _count(model):
    return lambda customer: model.objects.filter(customer=customer).count()


def transfer_open_tasks(customer_ids: list[int], new_owner, actor) -> None:
    """The open tasks of transferred customers go to the new owner (SPEC 3), in the transfer's
    transaction; done and cancelled tasks keep who did them."""
    FollowUpTask.objects.filter(customer_id__in=customer_ids, status=FollowUpTask.Status.OPEN).exclude(
        owner=new_owner
    ).update(owner=new_owner)


def erase_texts(customer: Customer, actor) -> int:
    """PIPL erasure: what was said in calls and planned in tasks can name people and numbers. The
    records stay (number, time, method, topic, who followed up, due dates); their texts go."""
    cleared = Interaction.objects.filter(customer=customer).update(
        summary=SCRUBBED, feedback="", next_step=""
    )
    cleared += FollowUpTask.objects.filter(customer=customer).update(content=SCRUBBED)
    return cleared


def personal_data_interactions(customer: Customer) -> list[dict]:
    """What was said with the customer, for the personal-data export (one query)."""
    return [
        plain_record(interaction, exclude={"id", "customer"})
        for interaction in Interaction.objects.filter(customer=customer)
        .select_related("contact", "owner", "created_by")
        .order_by("occurred_at", "pk")
    ]


def personal_data_tasks(customer: Customer) -> list[dict]:
    """The follow-ups planned with the customer, for the personal-data export (one query)."""
    return [
        plain_record(task, exclude={"id", "customer", "version", "care_key"})
        for task in FollowUpTask.objects.filter(customer=customer)
        .select_related(
            "contact", "parent", "owner", "cadence_rule", "completed_by_interaction", "source_interaction"
        )
        .select_related("created_by")
        .order_by("due_at", "pk")
    ]


def register() -> None:
    hooks.register_timeline("interactions", timeline_entries)
    hooks.register_merge(
        hooks.MergeHandler(
            "interactions", gettext_lazy("Interactions"), _move(Interaction), _count(Interaction)
        )
    )
    hooks.register_merge(
        hooks.MergeHandler(
            "tasks", gettext_lazy("Follow-up tasks"), _move(FollowUpTask), _count(FollowUpTask)
        )
    )
    hooks.register_transfer("interactions", transfer_open_tasks)
    hooks.register_erase("interactions", erase_texts)
    hooks.register_personal_data("interactions", personal_data_interactions)
    hooks.register_personal_data("follow_up_tasks", personal_data_tasks)
