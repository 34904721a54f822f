"""Reads: every customer page starts from these, so scope and the recycle bin are never forgotten."""

from django.shortcuts import get_object_or_404

from customers.models import Customer, CustomerQuerySet


def customers_visible_to(user) -> CustomerQuerySet:
    """Live customers (not deleted, not merged away) in the user's scope."""
    return Customer.objects.visible_to(user).alive()


def customer_get(user, pk: int) -> Customer:
    """The customer, or 404 when it is outside the user's scope, deleted or merged."""
    return get_object_or_404(customers_visible_to(user).select_related("owner", "team"), pk=pk)


def customer_merged_target(user, pk: int) -> Customer | None:
    """The survivor a merged customer's old URL should redirect to, if the user may see both."""
    merged = Customer.objects.visible_to(user).filter(pk=pk, merged_into__isnull=False).first()
    if merged is None:
        return None
    survivor = merged.merged_into
    while survivor.merged_into_id is not None:  # merged again later
        survivor = survivor.merged_into
    return customers_visible_to(user).filter(pk=survivor.pk).first()
