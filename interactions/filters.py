"""Filters of the interaction and task lists (django-filter).

Choice lists come from the viewer's scope (interactions.selectors, customers.selectors). Each
filter is served by an index: interactions by Interaction.Meta.indexes (owner, method, time), tasks
by FollowUpTask.Meta.indexes (owner/status/due, status/due, open by due); team, value class and
stage filter through the customer's indexed columns; the customer box is one LIKE on the
customer's trigram-indexed ``search_text``.
"""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import Scope, scope_of
from customers.filters import search_needle
from customers.models import Customer
from customers.selectors import customer_team_choices
from interactions.models import FollowUpTask, Interaction
from interactions.selectors import interaction_owner_choices, task_owner_choices

# The same empty choice as the customer list's filters.
EMPTY = "---------"


def _date_input() -> forms.DateInput:
    # ISO format whatever the language: <input type="date"> only understands YYYY-MM-DD.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in the viewer's time zone (a local date, not a UTC one)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _customer_search() -> django_filters.CharFilter:
    return django_filters.CharFilter(
        label=_("Customer"),
        method="filter_customer",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer name, number or phone")}),
    )


class _ScopedFilter(django_filters.FilterSet):
    """What both lists share: the customer box, team, value class and stage of the customer."""

    customer = _customer_search()
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), field_name="customer__team", queryset=None, empty_label=EMPTY
    )
    value_class = django_filters.ChoiceFilter(
        label=_("Value class"),
        field_name="customer__value_class",
        choices=Customer.ValueClass.choices,
        empty_label=EMPTY,
    )
    stage = django_filters.ChoiceFilter(
        label=_("Stage"), field_name="customer__stage", choices=Customer.Stage.choices, empty_label=EMPTY
    )

    def __init__(self, data=None, queryset=None, *, actor, **kwargs) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.actor = actor
        if scope_of(actor) in (Scope.ALL, Scope.TEAM):
            self.filters["team"].queryset = customer_team_choices(actor)
        else:
            # A rep sees no other team's records: a team filter would only ever be "my team".
            del self.filters["team"]

    def filter_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        needle = search_needle(value)
        # search_text is lowercase already: a plain LIKE, which its trigram index serves.
        return queryset.filter(customer__search_text__contains=needle) if needle else queryset


class InteractionFilter(_ScopedFilter):
    owner = django_filters.ModelChoiceFilter(label=_("Followed up by"), queryset=None, empty_label=EMPTY)
    method = django_filters.ChoiceFilter(
        label=_("Method"), choices=Interaction.Method.choices, empty_label=EMPTY
    )
    occurred_from = django_filters.DateFilter(label=_("From"), method="filter_from", widget=_date_input())
    occurred_to = django_filters.DateFilter(label=_("Until"), method="filter_to", widget=_date_input())

    class Meta:
        model = Interaction
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, actor, **kwargs) -> None:
        super().__init__(data, queryset=queryset, actor=actor, **kwargs)
        self.filters["owner"].queryset = interaction_owner_choices(actor)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Newest first; the last key keeps paging stable when several share a time.
        return super().filter_queryset(queryset).order_by("-occurred_at", "-pk")

    def filter_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(occurred_at__gte=start_of_day(value))

    def filter_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(occurred_at__lt=start_of_day(value + timedelta(days=1)))


class TaskFilter(_ScopedFilter):
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=None, empty_label=_("Everyone"))
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=FollowUpTask.Status.choices, empty_label=_("Any status")
    )
    # 待跟进: open and past due, derived from the time of the request (never stored).
    overdue = django_filters.BooleanFilter(
        label=_("Overdue only"), method="filter_overdue", widget=forms.CheckboxInput
    )
    due_from = django_filters.DateFilter(label=_("Due from"), method="filter_due_from", widget=_date_input())
    due_to = django_filters.DateFilter(label=_("Due until"), method="filter_due_to", widget=_date_input())
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=FollowUpTask.Priority.choices, empty_label=EMPTY
    )
    kind = django_filters.ChoiceFilter(
        label=pgettext_lazy("follow-up task", "Kind"), choices=FollowUpTask.Kind.choices, empty_label=EMPTY
    )
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields={"due_at": "due"},
        choices=[("due", _("Due soonest first")), ("-due", _("Due latest first"))],
        empty_label=None,
    )

    class Meta:
        model = FollowUpTask
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, actor, now: datetime | None = None, **kwargs) -> None:
        super().__init__(data, queryset=queryset, actor=actor, **kwargs)
        self.now = now or timezone.now()
        self.filters["owner"].queryset = task_owner_choices(actor)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        ordering = list(queryset.query.order_by) or ["due_at"]
        return queryset.order_by(*ordering, "pk")

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.overdue(now=self.now) if value else queryset

    def filter_due_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(due_at__gte=start_of_day(value))

    def filter_due_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(due_at__lt=start_of_day(value + timedelta(days=1)))
