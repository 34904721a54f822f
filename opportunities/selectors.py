"""Reads: every opportunity page starts from these, so scope is never forgotten."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, F, OuterRef, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.http import QueryDict
from django.shortcuts import get_object_or_404

from accounts.models import User
from customers.models import Customer
from customers.selectors import customers_visible_to
from opportunities.models import LostReason, Opportunity, OpportunityQuerySet, Stage, StageChange

if TYPE_CHECKING:
    from opportunities.filters import BoardFilter, OpportunityFilter

# Cards per board column; the rest is a "+N more" link to the filtered list.
BOARD_CARDS = 20


def opportunities_visible_to(user) -> OpportunityQuerySet:
    """Opportunities in the user's scope whose customer is alive (not deleted or merged away)."""
    return Opportunity.objects.visible_to(user).filter(customer__deleted_at__isnull=True)


def opportunity_get(user, pk: int) -> Opportunity:
    """The opportunity, or 404 when it is outside the user's scope."""
    return get_object_or_404(
        opportunities_visible_to(user).select_related(
            "customer", "owner", "team", "stage", "source", "lost_reason", "created_by"
        ),
        pk=pk,
    )


def opportunity_history(opportunity: Opportunity) -> QuerySet[StageChange]:
    return opportunity.stage_changes.select_related("from_stage", "to_stage", "changed_by")


def opportunity_rows(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """What each row of the list, the board or the export shows, in one query."""
    return queryset.select_related("customer", "owner", "team", "stage", "source", "lost_reason")


def opportunity_filter(*, actor, params: QueryDict) -> "OpportunityFilter":
    from opportunities.filters import OpportunityFilter

    return OpportunityFilter(params, queryset=opportunities_visible_to(actor), actor=actor)


def opportunity_list(*, actor, params: QueryDict) -> QuerySet[Opportunity]:
    return opportunity_rows(opportunity_filter(actor=actor, params=params).qs)


def opportunity_owner_choices(actor) -> QuerySet[User]:
    """Users owning an opportunity the actor can see (never names from out of scope)."""
    owned = opportunities_visible_to(actor).filter(owner=OuterRef("pk"))
    return User.objects.filter(Exists(owned)).order_by("display_name", "username")


def stage_choices() -> QuerySet[Stage]:
    return Stage.objects.filter(active=True).order_by("order", "name")


def open_stages() -> QuerySet[Stage]:
    return stage_choices().filter(is_won=False, is_lost=False)


def lost_reason_choices() -> QuerySet[LostReason]:
    return LostReason.objects.filter(active=True).order_by("order", "name")


def customer_choices(actor) -> QuerySet[Customer]:
    """Customers the actor may open an opportunity on."""
    return customers_visible_to(actor).order_by("name")


def board_filter(*, actor, params: QueryDict) -> "BoardFilter":
    from opportunities.filters import BoardFilter

    return BoardFilter(params, queryset=opportunities_visible_to(actor).open(), actor=actor)


def board_columns(queryset: QuerySet[Opportunity], stages: Iterable[Stage], *, per_column: int = BOARD_CARDS):
    """Per open stage: count, total in CNY and the first ``per_column`` cards (oldest in stage
    first), in two queries whatever the number of cards: the totals, and the cards numbered
    per column by a window function and cut at ``per_column``."""
    stages = list(stages)
    totals = {
        row["stage_id"]: row
        for row in queryset.order_by().values("stage_id").annotate(count=Count("pk"), total=Sum("amount_cny"))
    }
    cards: dict[int, list[Opportunity]] = {stage.pk: [] for stage in stages}
    if stages:
        position = Window(
            RowNumber(), partition_by=F("stage_id"), order_by=[F("stage_entered_at").asc(), F("pk").asc()]
        )
        bounded = (
            opportunity_rows(queryset.filter(stage__in=stages))
            .annotate(position=position)
            .filter(position__lte=per_column)
            .order_by("stage_entered_at", "pk")
        )
        for opportunity in bounded:
            cards[opportunity.stage_id].append(opportunity)
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        column_cards = sorted(cards[stage.pk], key=lambda o: (o.stage_entered_at, o.pk))
        count = row.get("count", 0)
        columns.append(
            {
                "stage": stage,
                "count": count,
                "total": row.get("total") or 0,
                "cards": column_cards,
                "more": max(count - len(column_cards), 0),
            }
        )
    return columns
