"""The customers app's own merge handlers (customers.hooks.MergeHandler).

``customers.services.merge.customer_merge`` runs every registered handler inside its transaction,
after both rows are locked and the survivor's chosen values are applied: each handler moves one
kind of record from the merged customer to the survivor and returns how many moved. The apps above
(interactions, opportunities, service) register theirs the same way in their ``AppConfig.ready()``.
"""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from customers import hooks
from customers.models import Attachment, Contact, Customer, CustomerChange, StageChange


def _move_contacts(survivor: Customer, merged: Customer, actor) -> int:
    """Contacts move; the survivor's primary contact stays the only one (contact_one_primary)."""
    moving = Contact.objects.filter(customer=merged)
    if Contact.objects.filter(customer=survivor, is_primary=True).exists():
        moving.filter(is_primary=True).update(is_primary=False)
    return moving.update(customer=survivor)


def _move_attachments(survivor: Customer, merged: Customer, actor) -> int:
    return Attachment.objects.filter(customer=merged).update(customer=survivor)


def _move_history(survivor: Customer, merged: Customer, actor) -> int:
    return CustomerChange.objects.filter(customer=merged).update(customer=survivor)


def _move_stage_changes(survivor: Customer, merged: Customer, actor) -> int:
    return StageChange.objects.filter(customer=merged).update(customer=survivor)


def _union_m2m(field_name: str, related_column: str, survivor: Customer, merged: Customer, skip=()) -> int:
    """Give the survivor the merged customer's links it lacks; returns how many it gained."""
    through = getattr(Customer, field_name).through
    already = through.objects.filter(customer_id=survivor.pk, **{related_column: OuterRef(related_column)})
    gained = list(
        through.objects.filter(customer_id=merged.pk)
        .exclude(Exists(already))
        .exclude(**{f"{related_column}__in": list(skip)})
        .values_list(related_column, flat=True)
    )
    through.objects.bulk_create(
        [through(customer_id=survivor.pk, **{related_column: pk}) for pk in gained], ignore_conflicts=True
    )
    through.objects.filter(customer_id=merged.pk).delete()
    return len(gained)


def _move_tags(survivor: Customer, merged: Customer, actor) -> int:
    return _union_m2m("tags", "tag_id", survivor, merged)


def _move_collaborators(survivor: Customer, merged: Customer, actor) -> int:
    # The survivor's owner (possibly just chosen from the merged one) is never its own collaborator.
    survivor.collaborators.remove(survivor.owner_id)
    return _union_m2m("collaborators", "user_id", survivor, merged, skip=[survivor.owner_id])


def _counter(model):
    """``count(customer)`` for a model with a ``customer`` foreign key."""

    def count(customer: Customer) -> int:
        return model.objects.filter(customer=customer).count()

    return count


HANDLERS = [
    hooks.MergeHandler("contacts", _("contacts"), _move_contacts, _counter(Contact)),
    hooks.MergeHandler("attachments", _("attachments"), _move_attachments, _counter(Attachment)),
    hooks.MergeHandler("history", _("history entries"), _move_history, _counter(CustomerChange)),
    hooks.MergeHandler("stage_changes", _("stage changes"), _move_stage_changes, _counter(StageChange)),
    hooks.MergeHandler("tags", _("tags"), _move_tags, lambda customer: customer.tags.count()),
    hooks.MergeHandler(
        "collaborators",
        _("collaborators"),
        _move_collaborators,
        lambda customer: customer.collaborators.count(),
    ),
]


def register_merge_handlers() -> None:
    """Called from customers.apps.CustomersConfig.ready()."""
    for handler in HANDLERS:
        hooks.register_merge(handler)
