"""Reads of the lifecycle pages: the lead's review queue, the recycle bin, transfer candidates.

Every query starts from the user's scope (``customers.selectors.customers_visible_to`` or
``Customer.objects.visible_to``), as on every other customer page.
"""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.access import Scope, led_team_ids, scope_of
from customers.completeness import missing_information
from customers.models import Contact, Customer, CustomerQuerySet
from customers.selectors import customers_visible_to

REVIEW_OPEN = [Customer.ReviewStatus.PENDING, Customer.ReviewStatus.RETURNED]

# The review queue's filters; the key is the ``status`` query parameter.
REVIEW_FILTERS = {
    "pending": _("Waiting for review"),
    "returned": _("Returned for completion"),
    "flagged": _("Flagged as incomplete"),
}


def with_primary_contact(queryset: CustomerQuerySet) -> CustomerQuerySet:
    """What ``missing_for`` reads, in a constant number of queries: the industry and source (read
    as related objects) and each customer's primary contact, in ``primary_contacts``."""
    return queryset.select_related("industry", "source").prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary_contacts")
    )


def missing_for(customer: Customer) -> list[Promise | str]:
    """``missing_information`` for a customer loaded through ``with_primary_contact`` (no query)."""
    return missing_information(customer, primary_contact=next(iter(customer.primary_contacts), None))


def review_scope(user) -> CustomerQuerySet:
    """Live customers whose profile ``user`` reviews: those of the teams they lead (all for scope ALL)."""
    customers = customers_visible_to(user)
    if scope_of(user) is Scope.ALL:
        return customers
    return customers.filter(team_id__in=led_team_ids(user))


def review_queue(user, *, status: str = "pending") -> CustomerQuerySet:
    """The profiles waiting for ``user``'s review, oldest first (index customer_review_pending)."""
    customers = review_scope(user).filter(review_status__in=REVIEW_OPEN)
    if status == "flagged":
        customers = customers.filter(review_flagged_at__isnull=False)
    elif status == "returned":
        customers = customers.filter(review_status=Customer.ReviewStatus.RETURNED)
    else:
        customers = customers.filter(review_status=Customer.ReviewStatus.PENDING)
    return with_primary_contact(customers.select_related("owner", "team", "reviewed_by")).order_by(
        "created_at", "pk"
    )


def review_customer_get(user, pk: int) -> Customer:
    """A live customer in scope with its primary contact prefetched (for ``missing_for``), or 404."""
    return get_object_or_404(
        with_primary_contact(customers_visible_to(user).select_related("owner", "team")), pk=pk
    )


@dataclass(frozen=True)
class ReviewSummary:
    pending: int
    flagged: int
    oldest_flagged: list[Customer]


def review_summary(user, *, team=None, limit: int = 5) -> ReviewSummary:
    """What the lead's workbench panel (and, for one ``team``, the team page) shows: two counts
    and the oldest flagged profiles."""
    open_profiles = review_scope(user).filter(review_status__in=REVIEW_OPEN)
    if team is not None:
        open_profiles = open_profiles.filter(team=team)
    counts = open_profiles.aggregate(
        pending=Count("pk", filter=Q(review_status=Customer.ReviewStatus.PENDING)),
        flagged=Count("pk", filter=Q(review_flagged_at__isnull=False)),
    )
    oldest = list(
        open_profiles.filter(review_flagged_at__isnull=False)
        .select_related("owner")
        .order_by("created_at", "pk")[:limit]
    )
    return ReviewSummary(pending=counts["pending"], flagged=counts["flagged"], oldest_flagged=oldest)


def recycle_bin_list(user) -> CustomerQuerySet:
    """Deleted (not merged) customers in ``user``'s scope, most recently deleted first."""
    return (
        Customer.objects.visible_to(user)
        .in_recycle_bin()
        .select_related("owner", "team", "deleted_by")
        .order_by("-deleted_at", "-pk")
    )


def recycle_bin_get(user, pk: int) -> Customer:
    """A customer in ``user``'s recycle bin, or 404 (live and merged customers are not in it)."""
    return get_object_or_404(recycle_bin_list(user), pk=pk)
