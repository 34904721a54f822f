"""The filter of the report pages: period (this week … custom), team and owner.

Who may pick which team or owner is decided by ``analytics.base.scope_for``; the view asks it
before validating this form (outside one's reach is a 404, never a form error), and the choices
offered here are the same reach, so a director sees every team, a manager the teams they lead and
their people, a rep neither field (their own numbers).
"""

import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import Scope as Visibility
from accounts.access import led_team_ids, scope_of
from accounts.models import Team, User
from analytics.base import CUSTOM, MONTH, PERIOD_KINDS, Period, period_of
from customers.selectors import customer_team_choices

# A custom period longer than this is refused: the figures of a decade say little and cost much.
MAX_CUSTOM_DAYS = 3 * 366


def report_owner_choices(viewer) -> QuerySet[User]:
    """The people whose numbers ``viewer`` may look at one by one: themselves and the active
    members of the teams they lead (every team for a director). Mirrors ``scope_for``.

    Kept here (a read, not a form rule) until analytics has a selectors module."""
    visibility = scope_of(viewer)
    if visibility is Visibility.ALL:
        people = Q(team__isnull=False, is_active=True) | Q(pk=viewer.pk)
    elif visibility is Visibility.TEAM and (teams := led_team_ids(viewer)):
        people = Q(team_id__in=teams, is_active=True) | Q(pk=viewer.pk)
    else:
        people = Q(pk=viewer.pk)
    ordering = ("team__name", "display_name", "username")
    return User.objects.filter(people).select_related("team").order_by(*ordering)


def sees_several_people(viewer) -> bool:
    """Whether the team and owner fields make sense: directors, and managers who lead a team."""
    visibility = scope_of(viewer)
    return visibility is Visibility.ALL or (visibility is Visibility.TEAM and bool(led_team_ids(viewer)))


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} · {obj.team}" if obj.team_id else str(obj)


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_KINDS, required=False)
    start = forms.DateField(
        label=_("First day"),
        help_text=_("For a custom period"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("Last day"),
        help_text=_("For a custom period"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    owner = OwnerChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)

    def __init__(self, data: Any = None, *, viewer, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.viewer = viewer
        if sees_several_people(viewer):
            self.fields["team"].queryset = customer_team_choices(viewer)
            self.fields["owner"].queryset = report_owner_choices(viewer)
        else:
            del self.fields["team"]
            del self.fields["owner"]
        for form_field in self.fields.values():
            select = isinstance(form_field.widget, forms.Select)
            form_field.widget.attrs["class"] = (
                "form-select form-select-sm" if select else "form-control form-control-sm"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("period") or MONTH
        data["period"] = kind
        if kind == CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start:
                self.add_error("start", _("Choose the first day of the period."))
            if not end:
                self.add_error("end", _("Choose the last day of the period."))
            if start and end and start > end:
                self.add_error("end", _("The last day must not be before the first day."))
            elif start and end and (end - start).days >= MAX_CUSTOM_DAYS:
                self.add_error("end", _("Choose a period of at most three years."))
        team, owner = data.get("team"), data.get("owner")
        if team and owner and owner.team_id != team.pk and owner.pk != self.viewer.pk:
            self.add_error("owner", _("This person is not a member of the chosen team."))
        return data

    def get_period(self, today: datetime.date | None = None) -> Period:
        """The period of the valid form (this month when nothing is chosen)."""
        data = self.cleaned_data
        return period_of(data["period"], today or timezone.localdate(), data.get("start"), data.get("end"))

    def query_string(self) -> str:
        """The chosen filter as a query string, for the links between report pages and the exports."""
        data = self.cleaned_data
        params: dict[str, str] = {"period": data["period"]}
        if data["period"] == CUSTOM:
            params |= {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
        if data.get("team"):
            params["team"] = str(data["team"].pk)
        if data.get("owner"):
            params["owner"] = str(data["owner"].pk)
        return urlencode(params)
