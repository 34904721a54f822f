"""Forms of the customer list: bulk actions, saving a segment, exporting the list."""

from collections.abc import Sequence

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.models import Export
from customers.selectors import customer_transfer_targets, tag_choices

# Query-string keys that say where one is in the list rather than what it shows.
_NOT_A_FILTER = {"page"}
MAX_QUERY_LENGTH = 2000


def list_query(text: str) -> str:
    """The list's query string without its page number and empty fields, re-encoded (so only
    ``key=value`` pairs survive, whatever was posted); what a segment saves and pages return to."""
    params = QueryDict(text.lstrip("?"), mutable=True)
    for key in list(params):
        values = [value for value in params.getlist(key) if value]
        if key in _NOT_A_FILTER or not values:
            del params[key]
        else:
            params.setlist(key, values)
    return params.urlencode()


class ListQueryField(forms.CharField):
    """A hidden copy of the list's query string, carried by the forms posted from the list."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(max_length=MAX_QUERY_LENGTH, **kwargs)

    def clean(self, value: str) -> str:
        return list_query(super().clean(value))


class IdListField(forms.Field):
    """The ids of the rows ticked in the list (one ``ids`` field per checkbox)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one customer."),
        "invalid": _("The selection is not valid; reload the list and try again."),
    }

    def to_python(self, value: Sequence[str] | None) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkAction(models.TextChoices):
    ASSIGN_OWNER = "assign_owner", _("Assign owner")
    ADD_TAG = "add_tag", _("Add tag")
    REMOVE_TAG = "remove_tag", _("Remove tag")
    EXPORT_CSV = "export_csv", _("Export selected (CSV)")
    EXPORT_XLSX = "export_xlsx", _("Export selected (XLSX)")


# What each bulk action needs, beyond seeing the customers (403 without it).
BULK_PERMISSIONS = {
    BulkAction.ASSIGN_OWNER: "customers.transfer_customer",
    BulkAction.ADD_TAG: "customers.change_customer",
    BulkAction.REMOVE_TAG: "customers.change_customer",
    BulkAction.EXPORT_CSV: "customers.export_customer",
    BulkAction.EXPORT_XLSX: "customers.export_customer",
}


def bulk_actions_for(user) -> list[tuple[str, str]]:
    return [(action.value, action.label) for action in BulkAction if user.has_perm(BULK_PERMISSIONS[action])]


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=())
    ids = IdListField(label=_("Customers"))
    # The same empty choice as the filters (Django 6.1's new default label has no Chinese yet).
    owner = forms.ModelChoiceField(
        label=_("New owner"), queryset=None, required=False, empty_label="---------"
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=None, required=False, empty_label="---------")
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
    query = ListQueryField()

    def __init__(self, *args, actor, **kwargs) -> None:
        # Its own ids: the filter form on the same page has an "owner" field too.
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = bulk_actions_for(actor)
        self.fields["owner"].queryset = customer_transfer_targets(actor)
        self.fields["tag"].queryset = tag_choices()

    def clean(self) -> dict:
        cleaned = super().clean()
        action = cleaned.get("action")
        needs_tag = action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG)
        # A choice that failed validation has its own error already.
        if action == BulkAction.ASSIGN_OWNER and not cleaned.get("owner") and "owner" not in self.errors:
            self.add_error("owner", _("Choose the new owner."))
        if needs_tag and not cleaned.get("tag") and "tag" not in self.errors:
            self.add_error("tag", _("Choose a tag."))
        return cleaned


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Segment name"), max_length=100)
    shared = forms.BooleanField(label=_("Shared with my team"), required=False)
    query = ListQueryField()

    def __init__(self, *args, actor, **kwargs) -> None:
        kwargs.setdefault("auto_id", "segment_%s")
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_shared(self) -> bool:
        shared = self.cleaned_data["shared"]
        if shared and not self.actor.team_id:
            raise ValidationError(_("You are not in a team, so there is nobody to share with."))
        return shared


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=Export.Format.choices)
    query = ListQueryField()
