"""Reads: every customer page starts from these, so scope and the recycle bin are never forgotten."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import Permission
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.access import Scope, led_team_ids, scope_of
from accounts.models import Team, User
from customers import normalize
from customers.models import Contact, Customer, CustomerQuerySet, Industry, Segment, Source, Tag

if TYPE_CHECKING:
    from customers.filters import CustomerFilter


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


# The customer list (customers.views.listing) and the customer export (customers.exports).


def customer_filter(*, actor, params) -> "CustomerFilter":
    """The list's filters bound to ``params`` (a query string's QueryDict) over the actor's scope.

    ``.form`` renders the filters; ``.qs`` is the filtered, sorted queryset, still without the
    related rows a page shows (``customer_rows`` adds them).
    """
    from customers.filters import CustomerFilter

    return CustomerFilter(params, queryset=customers_visible_to(actor), actor=actor)


def customer_rows(queryset: CustomerQuerySet) -> CustomerQuerySet:
    """What each row of the list or the export shows, in a constant number of queries.

    The primary contact lands in ``customer.primary_contacts`` (a list of at most one).
    """
    return queryset.select_related("owner", "team", "source", "industry").prefetch_related(
        "tags",
        Prefetch("contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary_contacts"),
    )


def customer_list(*, actor, params) -> CustomerQuerySet:
    """The filtered, sorted customers in the actor's scope, with what each row shows."""
    return customer_rows(customer_filter(actor=actor, params=params).qs)


def customers_with_tags(
    queryset: CustomerQuerySet, tag_ids: Iterable[int], *, match_all: bool
) -> CustomerQuerySet:
    """Customers with every one (AND) or any (OR) of the tags, as one subquery on the tag table.

    AND groups the tag rows of the chosen tags by customer and keeps those having them all, so
    its cost does not grow with a join per tag; OR is a semi-join (EXISTS) needing no DISTINCT.
    """
    tag_ids = sorted(set(tag_ids))
    if not tag_ids:
        return queryset
    through = Customer.tags.through
    if match_all:
        having_all = (
            through.objects.filter(tag_id__in=tag_ids)
            .values("customer_id")
            .annotate(matched=Count("tag_id"))
            .filter(matched=len(tag_ids))
            .values("customer_id")
        )
        return queryset.filter(pk__in=having_all)
    return queryset.filter(Exists(through.objects.filter(customer_id=OuterRef("pk"), tag_id__in=tag_ids)))


def customers_matching(user, query: str, *, limit: int = 20) -> tuple[list[Customer], bool]:
    """Customers in ``user``'s scope matching a name fragment, a number or a phone (any format),
    the most recently contacted first: at most ``limit``, and whether there are more. The
    quick-log box and "new opportunity" find their customer with it."""
    needle = normalize.search_needle(query)
    if not needle:
        return [], False
    rows = list(
        customers_visible_to(user)
        .filter(search_text__contains=needle)
        .select_related("owner")
        .order_by(F("last_contacted_at").desc(nulls_last=True), "name", "pk")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def customer_owner_choices(actor) -> QuerySet[User]:
    """The owner filter's choices: users owning at least one customer the actor can see.

    Built from the actor's scope, so a rep never sees the names of other teams' reps.
    """
    owned = customers_visible_to(actor).filter(owner=OuterRef("pk"))
    return User.objects.filter(Exists(owned)).order_by("display_name", "username")


def customer_team_choices(actor) -> QuerySet[Team]:
    """The team filter's choices: every team for a director, the led teams for a lead, none else."""
    scope = scope_of(actor)
    if scope is Scope.ALL:
        return Team.objects.order_by("name")
    if scope is Scope.TEAM:
        return Team.objects.filter(pk__in=led_team_ids(actor)).order_by("name")
    return Team.objects.none()


def manages(user, customer: Customer) -> bool:
    """Whether ``user`` manages ``customer`` (reviews, transfers, deletes, handles its personal data).

    Users who see every team manage every customer; a team lead manages the customers of the
    teams they lead. Others in scope (a collaborator from another team) see it but may not manage it.
    """
    return scope_of(user) is Scope.ALL or customer.team_id in led_team_ids(user)


def customer_transfer_targets(actor, *, exclude=None) -> QuerySet[User]:
    """Who ``actor`` may give customers to (one or in bulk): active members of the teams they lead.

    Users who see every team may choose any active user who can own customers
    (``customers.add_customer``, through a group or directly); others nobody.
    """
    users = User.objects.filter(is_active=True)
    scope = scope_of(actor)
    if scope is Scope.ALL:
        permission = Permission.objects.filter(content_type__app_label="customers", codename="add_customer")
        users = users.filter(
            Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission)
        )
    elif scope is Scope.TEAM:
        users = users.filter(team_id__in=led_team_ids(actor))
    else:
        return users.none()
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.select_related("team").distinct().order_by("team__name", "username")


def industry_choices() -> QuerySet[Industry]:
    return Industry.objects.order_by("order", "name")


def source_choices() -> QuerySet[Source]:
    return Source.objects.order_by("order", "name")


def tag_choices() -> QuerySet[Tag]:
    """Active tags grouped by dimension (the list's tag filter and the bulk tag actions)."""
    return Tag.objects.filter(active=True).select_related("dimension")


def tags_for_form(selected_ids: Iterable[int] = ()) -> QuerySet[Tag]:
    """Active tags, plus inactive ones a customer already has (so saving a form keeps them)."""
    return Tag.objects.filter(
        Q(active=True, dimension__active=True) | Q(pk__in=list(selected_ids))
    ).select_related("dimension")


def collaborator_choices(owner, selected_ids: Iterable[int] = ()) -> QuerySet[User]:
    """Who may collaborate on a customer of ``owner``: active members of the owner's team (and
    whoever already collaborates, so saving a form keeps them)."""
    condition = Q(pk__in=list(selected_ids))
    if owner.team_id:
        condition |= Q(team_id=owner.team_id, is_active=True)
    return User.objects.filter(condition).exclude(pk=owner.pk).order_by("username")


def segments_visible_to(user) -> QuerySet[Segment]:
    """The user's own segments and those shared with their team (the list's segment menu)."""
    return Segment.objects.visible_to(user).select_related("owner")


def segment_get_own(user, pk: int) -> Segment:
    """A segment the user owns, or 404 (others' segments, shared or not, cannot be changed)."""
    return get_object_or_404(Segment.objects.filter(owner=user), pk=pk)
