"""The customer list's search, filters and sorting (django-filter).

Every choice list is built from the viewer's scope (customers.selectors), every filter and sort
is backed by an index of Customer (see its Meta.indexes), and the search box is one ILIKE on
``search_text`` backed by a trigram index.
"""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import Scope, scope_of
from customers.models import Customer, CustomerQuerySet
from customers.normalize import search_needle
from customers.selectors import (
    customer_owner_choices,
    customer_team_choices,
    customers_with_tags,
    industry_choices,
    source_choices,
    tag_choices,
)

TAG_MODE_ANY = "or"
TAG_MODE_ALL = "and"

# ``o`` parameter → field; each has an index (Customer.Meta.indexes).
SORT_FIELDS = {
    "number": "number",
    "name": "name",
    "created": "created_at",
    "first_contact": "first_contact_date",
    "value": "expected_annual_value",
    "last_contacted": "last_contacted_at",
    "next_follow_up": "next_follow_up_at",
    "updated": "updated_at",
}
SORT_CHOICES = [
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("number", _("Customer number")),
    ("-number", _("Customer number (descending)")),
    ("name", _("Name")),
    ("-name", _("Name (descending)")),
    ("first_contact", _("First contact date")),
    ("-first_contact", _("First contact date (latest first)")),
    ("-value", _("Expected annual value (highest first)")),
    ("value", _("Expected annual value (lowest first)")),
    ("-last_contacted", _("Last contacted (latest first)")),
    ("last_contacted", _("Last contacted (earliest first)")),
    ("next_follow_up", _("Next follow-up (soonest first)")),
    ("-next_follow_up", _("Next follow-up (latest first)")),
    ("-updated", _("Recently updated")),
    ("updated", _("Least recently updated")),
]
DEFAULT_SORT = ["-created_at"]
DEFAULT_SORT_PARAM = "-created"


def _date_input() -> forms.DateInput:
    # ISO format whatever the language: <input type="date"> only understands YYYY-MM-DD.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in the viewer's time zone, so created_at's index is used."""
    return timezone.make_aware(datetime.combine(day, time.min))


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, name, contact, phone or e-mail")}
        ),
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Customer.Kind.choices)
    value_class = django_filters.ChoiceFilter(label=_("Value class"), choices=Customer.ValueClass.choices)
    stage = django_filters.MultipleChoiceFilter(
        label=_("Stage"), choices=Customer.Stage.choices, widget=forms.CheckboxSelectMultiple
    )
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=None)
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=None)
    source = django_filters.ModelChoiceFilter(label=_("Source"), queryset=None)
    industry = django_filters.ModelChoiceFilter(label=_("Industry"), queryset=None)
    region = django_filters.ChoiceFilter(label=_("Region"), choices=Customer.Region.choices)
    province = django_filters.CharFilter(label=_("Province"), method="filter_place")
    city = django_filters.CharFilter(label=_("City"), method="filter_place")
    tags = django_filters.ModelMultipleChoiceFilter(
        label=_("Tags"), queryset=None, method="filter_tags", widget=forms.SelectMultiple(attrs={"size": 5})
    )
    tag_mode = django_filters.ChoiceFilter(
        label=_("Match tags"),
        choices=[
            (TAG_MODE_ANY, pgettext_lazy("tag filter", "Any of them (OR)")),
            (TAG_MODE_ALL, pgettext_lazy("tag filter", "All of them (AND)")),
        ],
        empty_label=None,
        method="filter_nothing",  # read by filter_tags
    )
    created_from = django_filters.DateFilter(
        label=_("Created from"), method="filter_created_from", widget=_date_input()
    )
    created_to = django_filters.DateFilter(
        label=_("Created until"), method="filter_created_to", widget=_date_input()
    )
    first_contact_from = django_filters.DateFilter(
        label=_("First contact from"),
        field_name="first_contact_date",
        lookup_expr="gte",
        widget=_date_input(),
    )
    first_contact_to = django_filters.DateFilter(
        label=_("First contact until"),
        field_name="first_contact_date",
        lookup_expr="lte",
        widget=_date_input(),
    )
    no_next_step = django_filters.BooleanFilter(
        label=_("No next step"), method="filter_no_next_step", widget=forms.CheckboxInput
    )
    review_status = django_filters.ChoiceFilter(
        label=_("Review status"), choices=Customer.ReviewStatus.choices
    )
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields={field: param for param, field in SORT_FIELDS.items()},
        choices=SORT_CHOICES,
        empty_label=None,
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, actor, **kwargs) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.actor = actor
        self.filters["owner"].queryset = customer_owner_choices(actor)
        self.filters["source"].queryset = source_choices()
        self.filters["industry"].queryset = industry_choices()
        self.filters["tags"].queryset = tag_choices()
        if scope_of(actor) in (Scope.ALL, Scope.TEAM):
            self.filters["team"].queryset = customer_team_choices(actor)
        else:
            # A rep sees no other team's customers: a team filter would only ever be "my team".
            del self.filters["team"]

    def filter_queryset(self, queryset: CustomerQuerySet) -> CustomerQuerySet:
        queryset = super().filter_queryset(queryset)
        # The last key makes paging stable when many rows share a value (a stage, a date).
        ordering = list(queryset.query.order_by) or DEFAULT_SORT
        return queryset.order_by(*ordering, "-pk")

    def filter_search(self, queryset: CustomerQuerySet, name: str, value: str) -> CustomerQuerySet:
        needle = search_needle(value)
        # search_text is lowercase already: a plain LIKE, which the trigram index serves (an
        # ILIKE would wrap the column in UPPER() and miss the index).
        return queryset.filter(search_text__contains=needle) if needle else queryset

    def filter_place(self, queryset: CustomerQuerySet, name: str, value: str) -> CustomerQuerySet:
        value = value.strip()
        return queryset.filter(**{name: value}) if value else queryset

    def filter_tags(self, queryset: CustomerQuerySet, name: str, value) -> CustomerQuerySet:
        mode = self.form.cleaned_data.get("tag_mode") or TAG_MODE_ANY
        return customers_with_tags(queryset, [tag.pk for tag in value], match_all=mode == TAG_MODE_ALL)

    def filter_nothing(self, queryset: CustomerQuerySet, name: str, value: str) -> CustomerQuerySet:
        return queryset

    def filter_created_from(self, queryset: CustomerQuerySet, name: str, value: date) -> CustomerQuerySet:
        return queryset.filter(created_at__gte=_start_of_day(value))

    def filter_created_to(self, queryset: CustomerQuerySet, name: str, value: date) -> CustomerQuerySet:
        return queryset.filter(created_at__lt=_start_of_day(value + timedelta(days=1)))

    def filter_no_next_step(self, queryset: CustomerQuerySet, name: str, value: bool) -> CustomerQuerySet:
        return queryset.without_next_step() if value else queryset
