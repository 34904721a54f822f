"""Saved filters of the customer list (客户分组/细分): a name and the list's query string.

A segment stores filters, never customers: whoever applies it sees the list through their own
scope (customers.selectors.customer_list), so sharing a segment with a team shares no data.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from customers.models import Segment


def segment_create(*, actor, name: str, query: str, shared: bool = False) -> Segment:
    """A segment owned by ``actor``; ``shared`` makes it visible to the actor's team."""
    if shared and not actor.team_id:
        raise DomainError(_("You are not in a team, so there is nobody to share with."), field="shared")
    if Segment.objects.filter(owner=actor, name=name).exists():
        raise DomainError(_("You already have a segment with this name."), field="name")
    try:
        with transaction.atomic():
            return Segment.objects.create(
                owner=actor, name=name, query=query, shared=shared, team_id=actor.team_id if shared else None
            )
    except IntegrityError:  # saved twice at the same moment: the unique constraint decides
        raise DomainError(_("You already have a segment with this name."), field="name") from None


def segment_delete(*, actor, segment: Segment) -> None:
    """Only the owner deletes a segment (the view fetches it with segment_get_own: 404 else)."""
    if segment.owner_id != actor.pk:
        raise DomainError(_("Only the owner of a segment can delete it."))
    segment.delete()
