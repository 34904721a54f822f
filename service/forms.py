"""Forms of the ticket pages and the service desk: open and edit a ticket (with the version read,
for optimistic locking), comment (internal note or reply), assign, resolve, and export."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Export, User
from customers.models import Customer
from customers.uploads import check_attachment
from service.models import Ticket
from service.selectors import assignee_choices, contact_choices, resolution_category_choices

# Files one form may carry: enough for screenshots of a problem, not a way to upload a folder.
MAX_FILES = 10
ACCEPT = "image/*,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.txt,.csv"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, each checked by its content (customers.uploads)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        single = super().clean
        files = data if isinstance(data, list | tuple) else [data] if data else []
        files = [single(item, initial) for item in files if item]
        if len(files) > MAX_FILES:
            raise ValidationError(
                gettext("Attach at most %(count)d files at a time.") % {"count": MAX_FILES}, code="too_many"
            )
        errors = []
        for upload in files:
            try:
                check_attachment(upload)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return files


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(label=_("Attachments"))


def _attachments_help(form: forms.Form) -> None:
    if "attachments" in form.fields:
        form.fields["attachments"].help_text = gettext(
            "Images, PDFs, Office documents or plain text, at most %(limit)s MB each."
        ) % {"limit": settings.ATTACHMENT_MAX_MB}


class TicketForm(forms.ModelForm):
    """Open a ticket for ``customer`` (with attachments) or edit one (with ``version``)."""

    attachments = _attachments_field()
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    class Meta:
        model = Ticket
        fields = ["ticket_type", "priority", "channel", "contact", "subject", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        _attachments_help(self)
        self.fields["contact"].queryset = contact_choices(customer)
        self.fields["contact"].required = False
        if self.instance.pk is not None:
            del self.fields["attachments"]
            self.fields["version"].required = True
            if not self.is_bound:
                self.initial["version"] = self.instance.version
        else:
            del self.fields["version"]
            if not self.is_bound:
                primary = next((c for c in self.fields["contact"].queryset if c.is_primary), None)
                if primary is not None:
                    self.initial.setdefault("contact", primary.pk)

    def ticket_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CommentForm(forms.Form):
    KIND_CHOICES = [("note", _("Internal note")), ("reply", _("Reply to the customer"))]

    kind = forms.ChoiceField(
        label=pgettext_lazy("ticket comment", "Kind"),
        choices=KIND_CHOICES,
        initial="note",
        widget=forms.RadioSelect,
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    attachments = _attachments_field()

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        _attachments_help(self)
        if ticket.contact is None or not ticket.contact.email:
            self.fields["kind"].help_text = _(
                "The contact has no e-mail address: a reply is recorded but not e-mailed."
            )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError(_("Write something first."), code="required")
        return body


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user} · {user.team}" if user.team_id else str(user)


class AssignForm(forms.Form):
    assignee = AssigneeChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignee_choices(ticket)


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    resolution_category = forms.ModelChoiceField(label=_("Resolution category"), queryset=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resolution_category"].queryset = resolution_category_choices()
        self.fields["resolution"].error_messages["required"] = _("Describe how the ticket was resolved.")
        self.fields["resolution_category"].error_messages["required"] = _("Choose a resolution category.")


class StatusNoteForm(forms.Form):
    """An optional note with a status change (what we wait for, why it is reopened)."""

    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


MAX_QUERY_LENGTH = 2000


def list_query(text: str) -> str:
    """The desk's query string without its page number (what an export rebuilds the list from)."""
    params = QueryDict(text.lstrip("?")[:MAX_QUERY_LENGTH], mutable=True)
    params.pop("page", None)
    return params.urlencode()


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=Export.Format.choices)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=MAX_QUERY_LENGTH)

    def clean_query(self) -> str:
        return list_query(self.cleaned_data["query"])
