"""Forms of the workbench (reschedule a task in place) and the team page (reassign a task)."""

from datetime import datetime

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from interactions.forms.lists import _datetime_input
from interactions.models import FollowUpTask


class TaskRescheduleForm(forms.Form):
    """A new due time for an open task; ``version`` is the one the page showed (optimistic lock)."""

    due_at = forms.DateTimeField(label=_("New due time"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, task: FollowUpTask, **kwargs) -> None:
        kwargs.setdefault("initial", {"due_at": timezone.localtime(task.due_at), "version": task.version})
        # One form per row: ids carry the task so labels stay unique on the page.
        kwargs.setdefault("auto_id", f"id_reschedule_{task.pk}_%s")
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["due_at"].widget = _datetime_input()
        self.fields["due_at"].widget.attrs["class"] = "form-control form-control-sm"

    def clean_due_at(self) -> datetime:
        due_at = self.cleaned_data["due_at"]
        if due_at < timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."), code="past")
        return due_at


class TaskReassignForm(forms.Form):
    """Give an open task to another member of the team (the lead's team page)."""

    owner = forms.ModelChoiceField(label=_("Give to"), queryset=None, empty_label=None)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, members: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members
