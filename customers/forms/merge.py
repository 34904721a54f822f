"""The merge screens: the search box, and the side-by-side choice of every profile value."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.forms.boundfield import BoundField
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.privacy import can_see_private_data
from customers.services.merge import (
    BOTH_FIELDS,
    CHOOSABLE_FIELDS,
    PRIVATE_MERGE_FIELDS,
    Choice,
    default_choices,
)


class MergeSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find the other customer"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, name, contact, phone or e-mail")}
        ),
    )


def display(customer: Customer, name: str, *, user) -> str:
    """A field's value as the merge screen shows it (masked where the user may not see it)."""
    if name == "id_card_number":
        return customer.id_card_number if can_see_private_data(user, customer) else customer.id_card_masked
    if name == "bank_card_number":
        return (
            customer.bank_card_number if can_see_private_data(user, customer) else customer.bank_card_masked
        )
    field = Customer._meta.get_field(name)
    value = getattr(customer, name)
    if value is None or value == "":
        return ""
    if field.choices:
        return str(getattr(customer, f"get_{name}_display")())
    if isinstance(value, Decimal):
        return f"¥{intcomma(int(value) if value == value.to_integral_value() else value)}"
    if isinstance(value, date):
        return formats.date_format(value)
    return str(value)


@dataclass
class MergeRow:
    name: str
    label: str
    survivor_value: str
    other_value: str
    field: BoundField

    @property
    def differs(self) -> bool:
        return self.survivor_value != self.other_value

    @property
    def radios(self) -> dict[str, Any]:
        """The radio buttons by value ("survivor", "other", "both"), to place them in the table."""
        return {str(widget.data["value"]): widget for widget in self.field.subwidgets}


class MergeForm(forms.Form):
    """Which customer survives and, per field, whose value it keeps.

    Built for one survivor: switching sides reloads the page (``?survivor=``), so the defaults
    (the survivor's value, or the other's where the survivor has none) always match the screen.
    """

    survivor = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput)
    survivor_version = forms.IntegerField(widget=forms.HiddenInput)
    other_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, survivor: Customer, other: Customer, user, **kwargs: Any) -> None:
        self.survivor_customer, self.other_customer, self.user = survivor, other, user
        self.defaults = default_choices(survivor, other)
        kwargs.setdefault(
            "initial",
            {
                "survivor": survivor.pk,
                "survivor_version": survivor.version,
                "other_version": other.version,
                **self.defaults,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = [(survivor.pk, survivor.pk), (other.pk, other.pk)]
        for name in CHOOSABLE_FIELDS:
            choices = [("survivor", _("Keep")), ("other", _("Take"))]
            if name in BOTH_FIELDS:
                choices.append(("both", _("Keep both")))
            self.fields[name] = forms.ChoiceField(
                label=Customer._meta.get_field(name).verbose_name,
                choices=choices,
                required=False,  # rows whose values are the same show no buttons: the default holds
                widget=forms.RadioSelect,
            )

    def clean_survivor(self) -> int:
        if self.cleaned_data["survivor"] != self.survivor_customer.pk:
            raise forms.ValidationError(_("The customer to keep changed; compare again."))
        return self.cleaned_data["survivor"]

    def rows(self) -> list[MergeRow]:
        """Every profile field; the private ones only where either customer has a value."""
        rows = []
        for name in CHOOSABLE_FIELDS:
            row = MergeRow(
                name=name,
                label=str(self.fields[name].label),
                survivor_value=display(self.survivor_customer, name, user=self.user),
                other_value=display(self.other_customer, name, user=self.user),
                field=self[name],
            )
            if name in PRIVATE_MERGE_FIELDS and not (row.survivor_value or row.other_value):
                continue
            rows.append(row)
        return rows

    def choices(self) -> dict[str, Choice]:
        return {name: self.cleaned_data.get(name) or self.defaults[name] for name in CHOOSABLE_FIELDS}

    def expected_versions(self) -> dict[int, int]:
        return {
            self.survivor_customer.pk: self.cleaned_data["survivor_version"],
            self.other_customer.pk: self.cleaned_data["other_version"],
        }
