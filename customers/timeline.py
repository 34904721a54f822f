"""The customers app's own entries on the customer timeline: its history (who changed what).

Registered in ``CustomersConfig.ready()`` like the providers of interactions, tasks,
opportunities and tickets; ``customers.hooks.timeline_for`` merges them newest first.
"""

from collections.abc import Iterable

from django.urls import reverse
from django.utils.translation import gettext as _

from customers.hooks import TimelineEntry
from customers.models import Customer, CustomerChange
from customers.services.history import describe

# A Bootstrap Icons name per history action; "clock-history" for any other.
ICONS = {
    CustomerChange.Action.CREATED: "plus-circle",
    CustomerChange.Action.UPDATED: "pencil-square",
    CustomerChange.Action.STAGE: "signpost-split",
    CustomerChange.Action.VALUE_CLASS: "award",
    CustomerChange.Action.TRANSFERRED: "arrow-left-right",
    CustomerChange.Action.TAGS: "tags",
    CustomerChange.Action.CONTACT: "person-lines-fill",
    CustomerChange.Action.ATTACHMENT: "paperclip",
    CustomerChange.Action.REVIEWED: "clipboard-check",
    CustomerChange.Action.FLAGGED: "exclamation-triangle",
    CustomerChange.Action.MERGED: "intersect",
    CustomerChange.Action.DELETED: "trash",
    CustomerChange.Action.RESTORED: "arrow-counterclockwise",
    CustomerChange.Action.IMPORTED: "box-arrow-in-down",
    CustomerChange.Action.PERSONAL_DATA_EXPORTED: "file-earmark-lock",
    CustomerChange.Action.ERASED: "eraser",
}


def change_lines(change: CustomerChange) -> list[str]:
    """``label: old → new`` per changed value, in the reader's language."""
    lines = []
    for label, old, new in describe(change):
        if old and new:
            lines.append(_("%(field)s: %(old)s → %(new)s") % {"field": label, "old": old, "new": new})
        elif new:
            lines.append(_("%(field)s: added %(new)s") % {"field": label, "new": new})
        else:
            lines.append(_("%(field)s: removed %(old)s") % {"field": label, "old": old})
    return lines


def history_entries(customer: Customer, user, limit: int) -> Iterable[TimelineEntry]:
    """The newest history entries of a customer the user already sees (one query)."""
    history_url = reverse("customers:customer-history", args=[customer.pk])
    changes = customer.changes.select_related("actor").order_by("-at", "-pk")[:limit]
    for change in changes:
        lines = change_lines(change)
        if change.note:
            lines.append(change.note)
        yield TimelineEntry(
            at=change.at,
            kind="history",
            icon=ICONS.get(change.action, "clock-history"),
            title=change.get_action_display(),
            body="\n".join(lines),
            url=history_url,
            actor=str(change.actor) if change.actor else "",
        )
