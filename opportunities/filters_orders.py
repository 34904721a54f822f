"""Filters of the order list (django-filter).

Indexes of Order.Meta serve them: owner / team / status / signing date (each with ``-signed_on``),
``amount_cny``; "has overdue instalments" is an EXISTS on the partial index of unsettled
instalments by due date; the customer search is one LIKE on the customer's trigram-indexed
``search_text``, or the order number (unique index).
"""

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import Scope, scope_of
from customers.filters import search_needle
from customers.selectors import customer_team_choices
from opportunities.filters import EMPTY, _date_input, _month_bounds
from opportunities.models import Order
from opportunities.selectors_orders import (
    has_overdue_condition,
    order_owner_choices,
    outstanding_cny_expression,
)


class OrderFilter(django_filters.FilterSet):
    SORTS = {
        "-signed": ("-signed_on", "-pk"),
        "signed": ("signed_on", "pk"),
        "-amount": ("-amount_cny", "-pk"),
        "amount": ("amount_cny", "pk"),
    }

    q = django_filters.CharFilter(
        label=_("Customer or number"),
        method="filter_search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Customer name or contract number")}
        ),
    )
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=None, empty_label=EMPTY)
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=None, empty_label=EMPTY)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Order.Status.choices, empty_label=EMPTY)
    signed_month = django_filters.CharFilter(
        label=_("Signing month"),
        method="filter_signed_month",
        widget=forms.TextInput(attrs={"type": "month"}),
    )
    signed_from = django_filters.DateFilter(
        label=_("Signed from"), field_name="signed_on", lookup_expr="gte", widget=_date_input()
    )
    signed_to = django_filters.DateFilter(
        label=_("Signed until"), field_name="signed_on", lookup_expr="lte", widget=_date_input()
    )
    overdue = django_filters.BooleanFilter(
        label=_("Has overdue instalments"), method="filter_overdue", widget=forms.CheckboxInput
    )
    outstanding = django_filters.BooleanFilter(
        label=_("Outstanding amount"), method="filter_outstanding", widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        method="filter_sort",
        empty_label=_("Newest signed first"),
        choices=[
            ("signed", _("Signing date, earliest first")),
            ("-amount", _("Amount, largest first")),
            ("amount", _("Amount, smallest first")),
            ("-outstanding", _("Outstanding, largest first")),
        ],
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, actor, **kwargs) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.actor = actor
        self.filters["owner"].queryset = order_owner_choices(actor)
        if scope_of(actor) in (Scope.ALL, Scope.TEAM):
            self.filters["team"].queryset = customer_team_choices(actor)
        else:
            del self.filters["team"]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or "-signed"
        if sort == "-outstanding":
            return queryset.order_by(outstanding_cny_expression().desc(), "-pk")
        return queryset.order_by(*self.SORTS.get(sort, self.SORTS["-signed"]))

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied last, in filter_queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(number=value.upper())
        if needle := search_needle(value):
            condition |= Q(customer__search_text__contains=needle)
        return queryset.filter(condition)

    def filter_signed_month(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        bounds = _month_bounds(value)
        if bounds is None:
            return queryset
        return queryset.filter(signed_on__gte=bounds[0], signed_on__lt=bounds[1])

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(has_overdue_condition(timezone.localdate()), status=Order.Status.ACTIVE)

    def filter_outstanding(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """In force and not fully paid (a fully paid order is completed; a cancelled one owes nothing)."""
        if not value:
            return queryset
        return queryset.filter(status=Order.Status.ACTIVE, amount__gt=F("paid_amount"))
