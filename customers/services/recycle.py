"""The recycle bin (回收站): soft deletion, restore, and the administrator's purge."""

import logging

from django.db import transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from customers.models import Attachment, Customer, CustomerChange
from customers.services.history import record_change

logger = logging.getLogger(__name__)
audit = logging.getLogger("crm.audit")


@transaction.atomic
def customer_delete(*, actor, customer: Customer) -> Customer:
    """Move a customer to the recycle bin: hidden from every page until restored or purged."""
    now = timezone.now()
    moved = Customer.objects.filter(pk=customer.pk, deleted_at__isnull=True).update(
        deleted_at=now, deleted_by=actor, version=F("version") + 1
    )
    if not moved:
        raise DomainError(_("This customer is already in the recycle bin."))
    customer.deleted_at, customer.deleted_by = now, actor
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.DELETED)
    return customer


@transaction.atomic
def customer_restore(*, actor, customer: Customer) -> Customer:
    """Bring a customer back from the recycle bin (merged customers stay merged)."""
    restored = Customer.objects.filter(
        pk=customer.pk, deleted_at__isnull=False, merged_into__isnull=True
    ).update(deleted_at=None, deleted_by=None, version=F("version") + 1)
    if not restored:
        raise DomainError(_("This customer is not in the recycle bin."))
    customer.deleted_at, customer.deleted_by = None, None
    record_change(customer=customer, actor=actor, action=CustomerChange.Action.RESTORED)
    return customer


def _merged_into_chain(customer: Customer) -> list[int]:
    """The customer and every customer merged into it (directly or through another)."""
    ids, frontier = [customer.pk], [customer.pk]
    while frontier:
        frontier = list(Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def delete_files_on_commit(names: list[str]) -> None:
    storage = Attachment._meta.get_field("file").storage

    def delete() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Could not delete the attachment file %s", name)

    if names:
        transaction.on_commit(delete)


@transaction.atomic
def customer_purge(*, actor, customer: Customer) -> None:
    """Remove a customer in the recycle bin for good: the row, its records and its files.

    The merged-away shells pointing at it go too (their records already moved to it). There is
    no audit model yet: the purge is written to the ``crm.audit`` log.
    """
    if customer.deleted_at is None:
        raise DomainError(_("Only customers in the recycle bin can be purged."))
    number = customer.number
    ids = _merged_into_chain(customer)
    files = [
        stored
        for stored in Attachment.objects.filter(customer_id__in=ids).values_list("file", flat=True)
        if stored
    ]
    try:
        Customer.objects.filter(pk__in=ids).delete()
    except ProtectedError:
        raise DomainError(
            _("This customer still has records that must be kept, so it cannot be purged.")
        ) from None
    delete_files_on_commit(files)
    username = actor.get_username()
    transaction.on_commit(lambda: audit.info("%s purged customer %s", username, number))
