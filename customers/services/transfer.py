"""Transfer (客户转移): customers change owner, one or in bulk, with what belongs to them."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from customers import hooks
from customers.models import Customer, CustomerChange


@transaction.atomic
def customers_transfer(*, actor, customers: Iterable[Customer], new_owner, note: str = "") -> int:
    """Give customers to ``new_owner`` (one or in bulk); their team follows the new owner.

    Open follow-up tasks and other owned work move too, through the apps' transfer hooks.
    Returns how many customers changed owner.
    """
    if not new_owner.is_active:
        raise DomainError(_("%(user)s is not an active user.") % {"user": new_owner}, field="owner")
    moving = [customer for customer in customers if customer.owner_id != new_owner.pk]
    if not moving:
        return 0
    ids = [customer.pk for customer in moving]
    Customer.objects.filter(pk__in=ids).update(
        owner=new_owner, team_id=new_owner.team_id, version=F("version") + 1
    )
    for handler in hooks.transfer_handlers():
        handler(ids, new_owner, actor)
    CustomerChange.objects.bulk_create(
        [
            CustomerChange(
                customer_id=customer.pk,
                actor=actor,
                action=CustomerChange.Action.TRANSFERRED,
                changes={"owner": [str(customer.owner), str(new_owner)]},
                note=note,
            )
            for customer in moving
        ]
    )
    return len(moving)
