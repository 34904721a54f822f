"""Keeping a profile's review state in step with its completeness (建档审核)."""

from typing import Any

from django.db import transaction

from customers.completeness import missing_information
from customers.models import Customer, CustomerChange
from customers.selectors_lifecycle import REVIEW_OPEN
from customers.services.history import difference, record_change, snapshot


def customer_review_recheck(customer: Customer, *, actor=None) -> bool:
    """After a profile edit: a returned profile that is now complete waits for review again.

    Also lifts the incomplete flag of a completed profile. Called by the profile and contact
    services after each change, in their transaction; returns whether anything changed.
    """
    if customer.review_status not in REVIEW_OPEN or missing_information(customer):
        return False
    updates: dict[str, Any] = {}
    if customer.review_status == Customer.ReviewStatus.RETURNED:
        updates["review_status"] = Customer.ReviewStatus.PENDING
    if customer.review_flagged_at is not None:
        updates["review_flagged_at"] = None
    if not updates:
        return False
    with transaction.atomic():
        changed = Customer.objects.filter(pk=customer.pk, review_status=customer.review_status).update(
            **updates
        )
        if not changed:
            return False
        before = snapshot(customer, ["review_status"])
        for name, value in updates.items():
            setattr(customer, name, value)
        diff = difference(before, snapshot(customer, ["review_status"]))
        if diff:
            record_change(customer=customer, actor=actor, action=CustomerChange.Action.REVIEWED, changes=diff)
    return True
