"""Forms of the interaction and task lists: exporting a list, marking a task done, editing a task."""

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.models import Export
from interactions.models import FollowUpTask
from interactions.selectors import task_assignee_choices, task_completion_candidates, task_contact_choices

MAX_QUERY_LENGTH = 2000


def list_query(text: str) -> str:
    """A list's query string without its page number, re-encoded (only ``key=value`` pairs survive).

    Empty values are kept: "owner=" (everyone) differs from no owner at all, which makes the task
    list show one's own open tasks (interactions.selectors.task_filter).
    """
    params = QueryDict(text.lstrip("?")[:MAX_QUERY_LENGTH], mutable=True)
    params.pop("page", None)
    return params.urlencode()


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=Export.Format.choices)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=MAX_QUERY_LENGTH)

    def clean_query(self) -> str:
        return list_query(self.cleaned_data["query"])


class TaskDoneForm(forms.Form):
    """Which interaction completed the task (optional): one of its customer's."""

    interaction = forms.ModelChoiceField(
        label=_("Completed by the interaction"), queryset=None, required=False, empty_label=_("None")
    )

    def __init__(self, *args, task: FollowUpTask, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interaction"].queryset = task_completion_candidates(task)


def _datetime_input() -> forms.DateTimeInput:
    # <input type="datetime-local"> reads and writes YYYY-MM-DDTHH:MM, in the viewer's time zone.
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TaskEditForm(forms.Form):
    """Reschedule, reassign or reword an open task; ``version`` is the one read (optimistic lock)."""

    due_at = forms.DateTimeField(label=_("Due"), widget=_datetime_input())
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, empty_label=None)
    content = forms.CharField(label=_("What to do"), max_length=255)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=FollowUpTask.Priority.choices, coerce=int)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False, empty_label=_("None"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, actor, task: FollowUpTask, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "due_at": task.due_at,
                "owner": task.owner_id,
                "content": task.content,
                "priority": task.priority,
                "contact": task.contact_id,
                "version": task.version,
            },
        )
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["owner"].queryset = task_assignee_choices(actor, task)
        self.fields["contact"].queryset = task_contact_choices(task)

    def clean_content(self) -> str:
        return self.cleaned_data["content"].strip()

    def changes(self) -> dict:
        """The fields that differ from the task as read (the service writes only those)."""
        task, data = self.task, self.cleaned_data
        current = {
            # The input has whole minutes: seconds the task was saved with are no change.
            "due_at": task.due_at.replace(second=0, microsecond=0),
            "owner": task.owner,
            "content": task.content,
            "priority": task.priority,
            "contact": task.contact,
        }
        return {name: data[name] for name, value in current.items() if data[name] != value}
