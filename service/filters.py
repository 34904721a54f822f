"""Filters of the service desk (django-filter).

Every filter and sort is served by an index of Ticket.Meta: type, status, priority and created
(each with -created_at), assignee/status, queue (unassigned), the due-time partial indexes for
the "due first" sort of the breaching tab; the search is one LIKE on the ticket number and
subject or on the customer's trigram-indexed ``search_text``.
"""

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from customers.filters import search_needle
from service.models import Ticket
from service.selectors import TAB_BREACHING, assignee_filter_choices, queue_choices

EMPTY = "---------"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TicketFilter(django_filters.FilterSet):
    SORTS = {
        "-created": ("-created_at", "-pk"),
        "created": ("created_at", "pk"),
        "-priority": ("-priority", "-created_at", "-pk"),
        "due": (F("resolution_due").asc(nulls_last=True), "pk"),
        "response_due": (F("first_response_due").asc(nulls_last=True), "pk"),
    }

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, subject or customer")}),
    )
    ticket_type = django_filters.ChoiceFilter(label=_("Type"), choices=Ticket.Type.choices, empty_label=EMPTY)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Ticket.Status.choices, empty_label=EMPTY)
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=Ticket.Priority.choices, empty_label=EMPTY
    )
    assignee = django_filters.ModelChoiceFilter(label=_("Assignee"), queryset=None, empty_label=EMPTY)
    queue = django_filters.ModelChoiceFilter(label=_("Queue"), queryset=None, empty_label=EMPTY)
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=Ticket.Channel.choices, empty_label=EMPTY
    )
    created_from = django_filters.DateFilter(
        label=_("Opened from"), field_name="created_at", lookup_expr="date__gte", widget=_date_input()
    )
    created_to = django_filters.DateFilter(
        label=_("Opened until"), field_name="created_at", lookup_expr="date__lte", widget=_date_input()
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        method="filter_sort",
        empty_label=_("Newest first"),
        choices=[
            ("created", _("Oldest first")),
            ("-priority", _("Priority, highest first")),
            ("response_due", _("First response due, earliest first")),
            ("due", _("Resolution due, earliest first")),
        ],
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, actor, tab: str = "", **kwargs) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.actor = actor
        self.tab = tab
        self.filters["assignee"].queryset = assignee_filter_choices(actor)
        self.filters["queue"].queryset = queue_choices()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        default = "due" if self.tab == TAB_BREACHING else "-created"
        sort = self.form.cleaned_data.get("sort") or default
        return queryset.order_by(*self.SORTS.get(sort, self.SORTS["-created"]))

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied last, in filter_queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(number__icontains=value) | Q(subject__icontains=value)
        if needle := search_needle(value):
            condition |= Q(customer__search_text__contains=needle)
        return queryset.filter(condition)
