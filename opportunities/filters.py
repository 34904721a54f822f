"""Filters of the opportunity list and the pipeline board (django-filter).

Every filter and sort is served by an index of Opportunity.Meta (owner/team/created, stage,
close date, amount_cny, currency, open/closed) or migration 0002 (trigram on name and number);
the customer part of the search is one LIKE on the customer's trigram-indexed ``search_text``.
"""

from datetime import date

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import Scope, scope_of
from customers.filters import search_needle
from customers.selectors import customer_team_choices
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_owner_choices, stage_choices

EMPTY = "---------"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _month_bounds(value: str) -> tuple[date, date] | None:
    try:
        year, month = (int(part) for part in value.split("-", 1))
        start = date(year, month, 1)
    except (TypeError, ValueError):
        return None
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, end


class _ScopeFilter(django_filters.FilterSet):
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=None, empty_label=EMPTY)
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=None, empty_label=EMPTY)
    close_month = django_filters.CharFilter(
        label=_("Close month"), method="filter_close_month", widget=forms.TextInput(attrs={"type": "month"})
    )

    def __init__(self, data=None, queryset=None, *, actor, **kwargs) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.actor = actor
        self.filters["owner"].queryset = opportunity_owner_choices(actor)
        if scope_of(actor) in (Scope.ALL, Scope.TEAM):
            self.filters["team"].queryset = customer_team_choices(actor)
        else:
            del self.filters["team"]

    def filter_close_month(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        bounds = _month_bounds(value)
        if bounds is None:
            return queryset
        return queryset.filter(expected_close_date__gte=bounds[0], expected_close_date__lt=bounds[1])


class BoardFilter(_ScopeFilter):
    class Meta:
        model = Opportunity
        fields: list[str] = []


class OpportunityFilter(_ScopeFilter):
    STATUS_CHOICES = [
        ("open", pgettext_lazy("opportunity status", "Open")),
        ("won", pgettext_lazy("opportunity status", "Won")),
        ("lost", pgettext_lazy("opportunity status", "Lost")),
    ]
    SORTS = {
        "-created": ("-created_at", "-pk"),
        "close": ("expected_close_date", "pk"),
        "-close": ("-expected_close_date", "-pk"),
        "amount": ("amount_cny", "pk"),
        "-amount": ("-amount_cny", "-pk"),
        "name": ("name", "pk"),
    }

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, number or customer")}),
    )
    stage = django_filters.ModelChoiceFilter(label=_("Stage"), queryset=None, empty_label=EMPTY)
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=STATUS_CHOICES, method="filter_status", empty_label=EMPTY
    )
    currency = django_filters.ChoiceFilter(
        label=_("Currency"), choices=Opportunity.Currency.choices, empty_label=EMPTY
    )
    close_from = django_filters.DateFilter(
        label=_("Close from"), field_name="expected_close_date", lookup_expr="gte", widget=_date_input()
    )
    close_to = django_filters.DateFilter(
        label=_("Close until"), field_name="expected_close_date", lookup_expr="lte", widget=_date_input()
    )
    amount_min = django_filters.NumberFilter(
        label=_("Amount from (CNY)"), field_name="amount_cny", lookup_expr="gte", min_value=0
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount up to (CNY)"), field_name="amount_cny", lookup_expr="lte", min_value=0
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        method="filter_sort",
        empty_label=_("Newest first"),
        choices=[
            ("close", _("Close date, earliest first")),
            ("-close", _("Close date, latest first")),
            ("-amount", _("Amount, largest first")),
            ("amount", _("Amount, smallest first")),
            ("name", _("Name")),
        ],
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, actor, **kwargs) -> None:
        super().__init__(data, queryset=queryset, actor=actor, **kwargs)
        self.filters["stage"].queryset = stage_choices()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or "-created"
        return queryset.order_by(*self.SORTS.get(sort, self.SORTS["-created"]))

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied last, in filter_queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(name__icontains=value) | Q(number__icontains=value)
        if needle := search_needle(value):
            condition |= Q(customer__search_text__contains=needle)
        return queryset.filter(condition)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "open":
            return queryset.filter(closed_at__isnull=True)
        if value == "won":
            return queryset.filter(closed_at__isnull=False, stage__is_won=True)
        if value == "lost":
            return queryset.filter(closed_at__isnull=False, stage__is_lost=True)
        return queryset
