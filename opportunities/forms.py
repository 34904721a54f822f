"""Forms of the opportunity pages: create (with the owner the actor may choose) and edit (with the
version read, for optimistic locking), move stage (probability; lost asks for a reason) and export."""

import json
from decimal import Decimal

from django import forms
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.access import Scope, led_team_ids, scope_of
from accounts.models import Export, User
from customers.selectors import source_choices
from customers.services.history import snapshot
from opportunities.models import Opportunity
from opportunities.selectors import customer_choices, lost_reason_choices, open_stages, stage_choices
from opportunities.services import EDITABLE_FIELDS


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def owner_choices(actor) -> QuerySet[User]:
    """Who ``actor`` may make the owner of a new opportunity (validated by the owner field).

    Users who see every team: any active user who may add opportunities (through a group or
    directly). A team lead: themselves and those of the teams they lead. Anyone else: themselves.
    """
    permission = Permission.objects.filter(
        content_type__app_label="opportunities", codename="add_opportunity"
    )
    can_add = User.objects.filter(
        Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission)
    )
    users = User.objects.filter(is_active=True, pk__in=can_add.values("pk"))
    scope = scope_of(actor)
    if scope is Scope.TEAM:
        users = users.filter(Q(pk=actor.pk) | Q(team_id__in=led_team_ids(actor)))
    elif scope is not Scope.ALL:
        users = users.filter(pk=actor.pk)
    return users.select_related("team").order_by("team__name", "display_name", "username")


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user} · {user.team}" if user.team_id else str(user)


class OpportunityForm(forms.ModelForm):
    """Create (with customer and stage) or edit (with ``version`` and ``seen``)."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    owner = OwnerChoiceField(label=_("Owner"), queryset=None, required=False)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=None)
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty for the stage's default."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    # What the form showed when it was read: names the fields someone else changed meanwhile.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "amount",
            "currency",
            "rate_to_cny",
            "expected_close_date",
            "probability",
            "source",
            "next_step",
            "next_step_date",
            "notes",
        ]
        widgets = {
            "expected_close_date": _date_input(),
            "next_step_date": _date_input(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, actor, customer=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = source_choices()
        self.fields["rate_to_cny"].required = False
        self.fields["rate_to_cny"].help_text = _("Required for a currency other than CNY.")
        self.fields["next_step"].required = True
        self.fields["next_step_date"].required = True
        editing = self.instance.pk is not None
        self.actor = actor
        if editing:
            del self.fields["customer"]
            del self.fields["owner"]
            del self.fields["stage"]
            self.fields["version"].required = True
            if not self.is_bound:
                self.initial["version"] = self.instance.version
                self.initial["seen"] = json.dumps(snapshot(self.instance, [*EDITABLE_FIELDS, "stage"]))
            if self.instance.closed_at is not None:
                # A closed opportunity needs no next step.
                self.fields["next_step"].required = False
                self.fields["next_step_date"].required = False
        else:
            del self.fields["version"]
            del self.fields["seen"]
            self.fields["customer"].queryset = customer_choices(actor)
            self.fields["stage"].queryset = open_stages()
            if customer is not None:
                self.fields["customer"].initial = customer.pk
            owners = owner_choices(actor)
            if scope_of(actor) in (Scope.ALL, Scope.TEAM):
                self.fields["owner"].queryset = owners
                self.fields["owner"].empty_label = None
                self.fields["owner"].required = True
                if scope_of(actor) is Scope.TEAM:
                    self.fields["owner"].help_text = _("You or a member of a team you lead.")
                if not self.is_bound:
                    self.initial.setdefault("owner", actor.pk)
            else:
                # A rep owns what they create: no field to tamper with.
                del self.fields["owner"]
            if not self.is_bound:
                self.initial.setdefault("stage", open_stages().values_list("pk", flat=True).first())

    def clean(self):
        data = super().clean()
        currency = data.get("currency")
        rate = data.get("rate_to_cny")
        if currency == Opportunity.Currency.CNY:
            data["rate_to_cny"] = Decimal(1)
        elif currency and not rate:
            self.add_error("rate_to_cny", _("Enter the rate to CNY for an amount in another currency."))
        return data

    def seen_values(self) -> dict[str, str] | None:
        try:
            value = json.loads(self.cleaned_data.get("seen") or "null")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def chosen_owner(self) -> User:
        """The chosen owner (the actor when the form has no owner field)."""
        return self.cleaned_data.get("owner") or self.actor

    def opportunity_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS if name != "probability"}


class MoveStageForm(forms.Form):
    """Move to another stage: a select on each board card, or the move page (lost: a reason)."""

    stage = forms.ModelChoiceField(label=_("Move to"), queryset=None)
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty for the stage's default."),
    )
    lost_reason = forms.ModelChoiceField(label=_("Lost reason"), queryset=None, required=False)
    lost_note = forms.CharField(
        label=_("Lost note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)
    next_step_date = forms.DateField(label=_("Next step date"), required=False, widget=_date_input())

    def __init__(self, *args, opportunity: Opportunity, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.opportunity = opportunity
        self.fields["stage"].queryset = stage_choices().exclude(pk=opportunity.stage_id)
        self.fields["lost_reason"].queryset = lost_reason_choices()

    def clean(self):
        data = super().clean()
        stage = data.get("stage")
        if stage is not None and stage.is_lost and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Choose why the opportunity was lost."))
        reopening = stage is not None and stage.is_open and self.opportunity.closed_at is not None
        # Reopening: the opportunity needs a next step again.
        if reopening and not (data.get("next_step") or self.opportunity.next_step.strip()):
            self.add_error("next_step", _("An open opportunity needs a next step."))
        return data

    def move_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "stage": data["stage"],
            "probability": data.get("probability"),
            "lost_reason": data.get("lost_reason"),
            "lost_note": data.get("lost_note", ""),
            "next_step": data.get("next_step") or None,
            "next_step_date": data.get("next_step_date"),
        }


MAX_QUERY_LENGTH = 2000


def list_query(text: str) -> str:
    """The list's query string without its page number (what an export rebuilds the list from)."""
    params = QueryDict(text.lstrip("?")[:MAX_QUERY_LENGTH], mutable=True)
    params.pop("page", None)
    return params.urlencode()


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=Export.Format.choices)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=MAX_QUERY_LENGTH)

    def clean_query(self) -> str:
        return list_query(self.cleaned_data["query"])
