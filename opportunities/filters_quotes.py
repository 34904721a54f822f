"""Filters of the price list and the quote list (django-filter).

Indexes: the price list sorts by name (product_name, product_active_name for the active ones),
list price (product_list_price) or code (its unique index); its search uses the trigram indexes
asked for in /tmp/brief/requests-quotes.md. The quote list filters by status and date
(quote_status_created, quote_created), sorts by date or total in CNY (quote_created,
quote_total_cny); its owner filter and search go through the opportunity (owner index, trigram on
its name) and the customer (trigram on ``search_text``); a number is matched exactly (the
number/version unique index).
"""

import datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.filters import search_needle
from opportunities.models import Product, Quote
from opportunities.selectors import opportunity_owner_choices

EMPTY = "---------"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the current time zone (the created_at index is on the timestamp)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class _SortedFilterSet(django_filters.FilterSet):
    SORTS: dict[str, tuple[str, ...]] = {}
    DEFAULT_SORT = ""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or self.DEFAULT_SORT
        return queryset.order_by(*self.SORTS.get(sort, self.SORTS[self.DEFAULT_SORT]))

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied last, in filter_queryset


class ProductFilter(_SortedFilterSet):
    SORTS = {
        "name": ("name", "pk"),
        "-name": ("-name", "-pk"),
        "price": ("list_price", "pk"),
        "-price": ("-list_price", "-pk"),
        "code": ("code",),
    }
    DEFAULT_SORT = "name"

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or product code")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        method="filter_status",
        empty_label=_("Active products"),
        choices=[
            ("inactive", _("Inactive products")),
            ("all", _("All products")),
        ],
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        method="filter_sort",
        empty_label=_("Name"),
        choices=[
            ("-name", _("Name, Z to A")),
            ("price", _("List price, lowest first")),
            ("-price", _("List price, highest first")),
            ("code", _("Product code")),
        ],
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # No status chosen means the active products (the ones that can be quoted).
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(active=True)
        return super().filter_queryset(queryset)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "inactive":
            return queryset.filter(active=False)
        return queryset


class QuoteFilter(_SortedFilterSet):
    SORTS = {
        "-created": ("-created_at", "-pk"),
        "created": ("created_at", "pk"),
        "-total": ("-total_cny", "-pk"),
        "total": ("total_cny", "pk"),
    }
    DEFAULT_SORT = "-created"

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Quote number, title, opportunity or customer")}
        ),
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Quote.Status.choices, empty_label=EMPTY)
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), field_name="opportunity__owner", queryset=None, empty_label=EMPTY
    )
    created_from = django_filters.DateFilter(
        label=_("Created from"), method="filter_created_from", widget=_date_input()
    )
    created_to = django_filters.DateFilter(
        label=_("Created until"), method="filter_created_to", widget=_date_input()
    )
    versions = django_filters.BooleanFilter(
        label=_("Include older versions"),
        method="filter_versions",
        widget=forms.CheckboxInput,
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        method="filter_sort",
        empty_label=_("Newest first"),
        choices=[
            ("created", _("Oldest first")),
            ("-total", pgettext_lazy("quote sort", "Total, largest first")),
            ("total", pgettext_lazy("quote sort", "Total, smallest first")),
        ],
    )

    class Meta:
        model = Quote
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, actor, **kwargs) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.actor = actor
        self.filters["owner"].queryset = opportunity_owner_choices(actor)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Older versions stay out of the list unless asked for: one row per quote number.
        if not self.form.cleaned_data.get("versions"):
            queryset = queryset.filter(superseded_at__isnull=True)
        return super().filter_queryset(queryset)

    def filter_versions(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset  # applied in filter_queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = (
            Q(number=value.upper())
            | Q(title__icontains=value)
            | Q(opportunity__name__icontains=value)
            | Q(opportunity__number=value.upper())
        )
        if needle := search_needle(value):
            condition |= Q(opportunity__customer__search_text__contains=needle)
        return queryset.filter(condition)

    def filter_created_from(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(created_at__gte=_start_of_day(value))

    def filter_created_to(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(created_at__lt=_start_of_day(value + datetime.timedelta(days=1)))
