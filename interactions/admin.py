"""Administration of the cadence rules (跟进周期), and read-only lists of interactions and tasks
for administrators who need to look one up. Interactions and tasks are written only through
the services (numbers, follow-up fields), never here."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from interactions.models import (
    CadenceRule,
    EscalationStep,
    FollowUpTask,
    Holiday,
    Interaction,
    LeadDigest,
    TaskReminder,
)

# Shown above the list of rules (the page's subtitle) and, in full, on a rule's form.
PRECEDENCE_SHORT = _("The most specific active rule wins: event, then customer stage, then value class.")
PRECEDENCE = _(
    "The most specific active rule proposes the next follow-up: an event (a proposal was sent) "
    "comes first, then the customer's stage (need confirmed: intent; lost), then the value class "
    "(A, B, C). A rule that is switched off is skipped; with none left, nothing is proposed."
)


def _allowed_values(trigger: str) -> dict[str, str]:
    if trigger == CadenceRule.Trigger.EVENT:
        return {"proposal_sent": gettext("a proposal or quote was sent")}
    if trigger == CadenceRule.Trigger.STAGE:
        return dict(Customer.Stage.choices)
    if trigger == CadenceRule.Trigger.VALUE_CLASS:
        return dict(Customer.ValueClass.choices)
    return {}


class CadenceRuleForm(forms.ModelForm):
    class Meta:
        model = CadenceRule
        fields = ["trigger", "value", "days", "task_content", "note", "active"]
        help_texts = {
            "value": _(
                "For an event: proposal_sent. For a customer stage: potential, intent, deal or lost. "
                "For a value class: A, B or C."
            ),
            "days": _("The proposed task falls due this many days after the interaction, at 10:00."),
            "task_content": _("What the proposed task says; the rep may change it."),
            "note": _("Shown with the proposal, e.g. a monthly executive contact for class A."),
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        trigger, value = cleaned.get("trigger"), cleaned.get("value")
        allowed = _allowed_values(trigger) if trigger else {}
        if trigger and value is not None and value not in allowed:
            self.add_error(
                "value",
                gettext("Choose one of: %(values)s.") % {"values": ", ".join(allowed)},
            )
        return cleaned


@admin.register(CadenceRule)
class CadenceRuleAdmin(admin.ModelAdmin):
    form = CadenceRuleForm
    list_display = ["trigger", "value", "days", "task_content", "note", "active"]
    list_editable = ["days", "active"]
    list_filter = ["trigger", "active"]
    fieldsets = [(None, {"fields": CadenceRuleForm.Meta.fields, "description": PRECEDENCE})]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {"subtitle": PRECEDENCE_SHORT, **(extra_context or {})})


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["name", "name_en", "date", "days_before", "value_classes", "active"]
        help_texts = {
            "value_classes": _("The value classes whose customers get a care task, e.g. AB."),
            "date": _("Lunar holidays move: add one row for each year's date."),
        }

    def clean_value_classes(self) -> str:
        value = self.cleaned_data["value_classes"].upper().replace(" ", "").replace(",", "")
        allowed = [choice for choice, _label in Customer.ValueClass.choices]
        if not value or any(letter not in allowed for letter in value):
            raise forms.ValidationError(_("Use the letters A, B and C, e.g. AB."))
        return "".join(sorted(set(value)))


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    form = HolidayForm
    list_display = ["date", "name", "name_en", "days_before", "value_classes", "active"]
    list_editable = ["active"]
    list_filter = ["active"]
    date_hierarchy = "date"
    search_fields = ["name", "name_en"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Look-up only: administrators (and superusers) see the records, nobody edits them here."""

    show_full_result_count = False  # a second COUNT over a million rows on every page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ["number", "occurred_at", "customer", "method", "topic", "owner"]
    list_filter = ["method", "proposal_sent"]
    list_select_related = ["customer", "owner"]
    search_fields = ["=number", "topic", "customer__name", "=customer__number"]
    raw_id_fields = ["customer", "contact", "owner", "created_by"]
    ordering = ["-occurred_at", "-pk"]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ReadOnlyAdmin):
    list_display = ["content", "customer", "owner", "due_at", "status", "priority", "kind"]
    list_filter = ["status", "kind", "priority"]
    list_select_related = ["customer", "owner"]
    search_fields = ["content", "customer__name", "=customer__number"]
    raw_id_fields = [
        "customer",
        "contact",
        "parent",
        "owner",
        "cadence_rule",
        "completed_by_interaction",
        "source_interaction",
        "created_by",
    ]
    ordering = ["-due_at", "-pk"]


# Reminders of follow-up tasks (interactions.services.reminders)

ESCALATION_HELP = _(
    "When an open follow-up task is this many days overdue, the reminder sweep tells the owner "
    "and/or the team lead once, and can flag the task for reassignment on the manager page. A task "
    "already past a later step gets that step only."
)


class EscalationStepForm(forms.ModelForm):
    class Meta:
        model = EscalationStep
        fields = ["days_overdue", "notify_owner", "notify_lead", "flag_for_reassignment", "active"]

    def clean_days_overdue(self) -> int:
        days = self.cleaned_data["days_overdue"]
        if days < 1:  # day 0 is the "overdue" reminder itself
            raise forms.ValidationError(_("A step comes at least one day after the task became overdue."))
        return days


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    form = EscalationStepForm
    list_display = ["days_overdue", "notify_owner", "notify_lead", "flag_for_reassignment", "active"]
    list_editable = ["notify_owner", "notify_lead", "flag_for_reassignment", "active"]
    fieldsets = [
        (
            None,
            {
                "fields": EscalationStepForm.Meta.fields,
                "description": ESCALATION_HELP,
            },
        )
    ]


@admin.register(TaskReminder)
class TaskReminderAdmin(ReadOnlyAdmin):
    """The outbox, to answer "was I reminded?"; written only by the sweep."""

    list_display = ["task", "step", "recipient", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "step"]
    list_select_related = ["task", "recipient"]
    raw_id_fields = ["task", "recipient"]
    search_fields = ["=task__id", "recipient__username"]
    ordering = ["-pk"]


@admin.register(LeadDigest)
class LeadDigestAdmin(ReadOnlyAdmin):
    list_display = ["day", "lead", "status", "task_count", "attempts", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
    date_hierarchy = "day"
    ordering = ["-day", "lead"]
