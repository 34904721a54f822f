"""Logging an interaction (跟进记录) with the next follow-up it proposes, and adding a task.

The cadence proposal itself is computed by the view (``interactions.services.cadence``) and
given to the interaction form as its initial values; the form only checks what the rep typed.
"""

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.access import led_team_ids
from customers.models import Contact, Customer
from interactions.models import CadenceRule, FollowUpTask, Interaction
from interactions.services.cadence import Proposal

# What <input type="datetime-local"> sends and shows, whatever the language.
LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
# A phone's clock a little ahead of the server's does not put an interaction in the future.
CLOCK_SKEW = timedelta(minutes=2)
# An open task due within this time is ticked "completed by this interaction" by default.
DUE_SOON = timedelta(days=1)


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _now_to_the_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, contact: Contact) -> str:
        label = f"{contact.name} · {contact.title}" if contact.title else contact.name
        if contact.is_primary:
            label = gettext("%(contact)s (primary contact)") % {"contact": label}
        return label


def _task_label(task: FollowUpTask) -> str:
    due = date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")
    label = gettext("%(task)s · due %(due)s · %(owner)s") % {
        "task": task.content,
        "due": due,
        "owner": task.owner,
    }
    if task.is_overdue:
        label = gettext("%(task)s (overdue)") % {"task": label}
    return label


class OpenTaskChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, task: FollowUpTask) -> str:
        return _task_label(task)


class MainTaskChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, task: FollowUpTask) -> str:
        return _task_label(task)


def task_owner_candidates(actor, customer: Customer) -> list:
    """Who a follow-up task on ``customer`` may be given to (active users only): the actor, the
    customer's owner and collaborators, and for a team lead the members of the teams they lead.
    One query, two more for a lead."""
    users = [actor, customer.owner, *customer.collaborators.order_by("username")]
    if led_team_ids(actor):
        for team in actor.led_teams.prefetch_related("members"):
            users += sorted(team.members.all(), key=lambda member: member.username)
    candidates: dict[int, Any] = {}
    for user in users:
        if user.is_active and user.pk not in candidates:
            candidates[user.pk] = user
    return list(candidates.values())


class _TaskFieldsMixin:
    """The owner field's choices and its user, for both forms (a choice of user ids)."""

    owner_field: str

    def _set_owner_choices(self, actor, customer: Customer) -> None:
        self._owners = {user.pk: user for user in task_owner_candidates(actor, customer)}
        self.fields[self.owner_field].choices = [(pk, str(user)) for pk, user in self._owners.items()]

    def chosen_owner(self):
        value = self.cleaned_data.get(self.owner_field)
        return self._owners.get(value) if value is not None else None


class InteractionLogForm(_TaskFieldsMixin, forms.Form):
    """One interaction, what it changes (stage, tasks it completes) and the next task it plans.

    Field ids start with ``log-`` (``auto_id``): the form opens inside the customer page, whose
    stage form also has a ``stage`` field.
    """

    owner_field = "next_owner"

    method = forms.ChoiceField(
        label=_("Method"),
        choices=Interaction.Method.choices,
        initial=Interaction.Method.PHONE,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    occurred_at = forms.DateTimeField(label=_("Time"), widget=_datetime_input())
    contact = ContactChoiceField(label=_("Contact"), queryset=None, required=False)
    topic = forms.CharField(label=_("Topic"), max_length=200)
    summary = forms.CharField(
        label=_("What was discussed"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    feedback = forms.CharField(
        label=_("Customer feedback / objections"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_step = forms.CharField(label=_("Next step"), max_length=255, required=False)
    next_step_due = forms.DateField(label=_("Next step expected by"), required=False, widget=_date_input())
    proposal_sent = forms.BooleanField(label=_("A proposal or quote was sent"), required=False)
    stage = forms.ChoiceField(label=_("Change the stage to"), required=False)
    completes = OpenTaskChoiceField(
        label=_("Open tasks this interaction completes"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    no_next_task = forms.BooleanField(label=_("Don't plan a next task"), required=False)
    next_due_at = forms.DateTimeField(label=_("Due"), required=False, widget=_datetime_input())
    next_content = forms.CharField(label=_("What to do"), max_length=255, required=False)
    next_owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False)
    next_priority = forms.TypedChoiceField(
        label=_("Priority"),
        coerce=int,
        choices=FollowUpTask.Priority.choices,
        initial=FollowUpTask.Priority.NORMAL,
    )

    def __init__(self, *args: Any, customer: Customer, actor, can_change_stage: bool, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "log-%s")
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["contact"].queryset = customer.contacts.all()
        open_tasks = customer.tasks.filter(status=FollowUpTask.Status.OPEN).select_related("owner")
        self.fields["completes"].queryset = open_tasks.order_by("due_at", "pk")
        # The template shows the tasks' fieldset only when there are some (one query).
        self.open_tasks = list(self.fields["completes"].queryset)
        if can_change_stage:
            self.fields["stage"].choices = [
                ("", pgettext_lazy("stage", "No change")),
                *[(value, label) for value, label in Customer.Stage.choices if value != customer.stage],
            ]
        else:
            del self.fields["stage"]
        self._set_owner_choices(actor, customer)
        self.fields["occurred_at"].widget.attrs["max"] = _now_to_the_minute().strftime(LOCAL_DATETIME)
        if not self.is_bound:
            self._set_defaults(actor)

    def _set_defaults(self, actor) -> None:
        defaults = {"occurred_at": _now_to_the_minute(), "next_owner": actor.pk}
        primary = next((contact for contact in self.customer.contacts.all() if contact.is_primary), None)
        if primary is not None:
            defaults["contact"] = primary.pk
        if self.open_tasks and self.open_tasks[0].due_at <= timezone.now() + DUE_SOON:
            defaults["completes"] = [self.open_tasks[0].pk]
        for name, value in defaults.items():
            self.initial.setdefault(name, value)

    def clean_occurred_at(self) -> datetime:
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + CLOCK_SKEW:
            raise ValidationError(
                _("An interaction cannot be in the future; plan a task for it instead."), code="future"
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("no_next_task"):
            return cleaned
        due_at = cleaned.get("next_due_at")
        if due_at is None and "next_due_at" not in self.errors:
            self.add_error(
                "next_due_at", _("Say when the next follow-up is due, or tick “Don't plan a next task”.")
            )
        elif due_at is not None and due_at < timezone.now() - CLOCK_SKEW:
            self.add_error("next_due_at", _("The next follow-up cannot be due in the past."))
        if not cleaned.get("next_content", "").strip() and "next_content" not in self.errors:
            self.add_error("next_content", _("Say what to do at the next follow-up."))
        if self.chosen_owner() is None and "next_owner" not in self.errors:
            self.add_error("next_owner", _("Choose who follows up."))
        return cleaned

    @property
    def typed_stage(self) -> str:
        """The stage chosen, valid or not (for the proposal shown next to a refused form)."""
        return (self["stage"].data or "") if "stage" in self.fields else ""

    @property
    def typed_proposal_sent(self) -> bool:
        return bool(self["proposal_sent"].data)

    def interaction_fields(self) -> dict[str, Any]:
        """Keyword arguments of ``interaction_log`` (without actor and customer)."""
        data = self.cleaned_data
        return {
            "method": data["method"],
            "occurred_at": data["occurred_at"],
            "contact": data["contact"],
            "topic": data["topic"],
            "summary": data["summary"],
            "feedback": data["feedback"],
            "next_step": data["next_step"],
            "next_step_due": data["next_step_due"],
            "proposal_sent": data["proposal_sent"],
            "stage": data.get("stage") or None,
            "completes": list(data["completes"]),
        }

    def next_task(self, rule: CadenceRule | None) -> dict[str, Any] | None:
        """``interaction_log``'s ``next_task``: the proposal as accepted or changed, or None."""
        data = self.cleaned_data
        if data["no_next_task"]:
            return None
        return {
            "due_at": data["next_due_at"],
            "content": data["next_content"].strip(),
            "owner": self.chosen_owner(),
            "priority": data["next_priority"],
            "contact": data["contact"],
            "cadence_rule": rule,
        }


def proposal_initial(proposal: Proposal | None) -> dict[str, Any]:
    """The next-task fields of ``InteractionLogForm`` filled from a cadence proposal; with no
    proposal (every rule switched off) "don't plan a next task" is ticked."""
    if proposal is None:
        return {"no_next_task": True, "next_due_at": None, "next_content": ""}
    return {"no_next_task": False, "next_due_at": proposal.due_at, "next_content": proposal.content}


def typed_values(form: forms.Form) -> dict[str, Any]:
    """What was typed into a bound form, as initial values for an unbound copy of it: the form
    shown again (with a new proposal) without complaining about fields not filled in yet."""
    return {name: form[name].data for name in form.fields}


class TaskForm(_TaskFieldsMixin, forms.Form):
    """A follow-up task (跟进任务) on one customer, or a sub-task of one of its open tasks."""

    owner_field = "owner"

    content = forms.CharField(label=_("What to do"), max_length=255)
    due_at = forms.DateTimeField(label=_("Due"), widget=_datetime_input())
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        coerce=int,
        choices=FollowUpTask.Priority.choices,
        initial=FollowUpTask.Priority.NORMAL,
    )
    contact = ContactChoiceField(label=_("Contact"), queryset=None, required=False)
    parent = MainTaskChoiceField(
        label=_("Main task"),
        queryset=None,
        required=False,
        help_text=_("Choose one to make this a sub-task of an open task of this customer."),
    )

    def __init__(self, *args: Any, customer: Customer, actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["contact"].queryset = customer.contacts.all()
        self.fields["parent"].queryset = (
            customer.tasks.filter(status=FollowUpTask.Status.OPEN)
            .select_related("owner")
            .order_by("due_at", "pk")
        )
        self._set_owner_choices(actor, customer)
        self.fields["due_at"].widget.attrs["min"] = _now_to_the_minute().strftime(LOCAL_DATETIME)
        if not self.is_bound:
            tomorrow = timezone.localtime() + timedelta(days=1)
            self.initial.setdefault("due_at", tomorrow.replace(hour=10, minute=0, second=0, microsecond=0))
            self.initial.setdefault("owner", actor.pk)

    def clean_due_at(self) -> datetime:
        value = self.cleaned_data["due_at"]
        if value < timezone.now() - CLOCK_SKEW:
            raise ValidationError(_("A follow-up task cannot be due in the past."), code="past")
        return value

    def clean_content(self) -> str:
        return self.cleaned_data["content"].strip()

    def task_fields(self) -> dict[str, Any]:
        """Keyword arguments of ``task_create`` (without actor and customer)."""
        data = self.cleaned_data
        return {
            "content": data["content"],
            "due_at": data["due_at"],
            "owner": self.chosen_owner(),
            "priority": data["priority"],
            "contact": data["contact"],
            "parent": data["parent"],
        }
