"""Forms of the lifecycle pages: review decision, transfer, personal-data erasure."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class ReviewForm(forms.Form):
    """The lead's decision; the two submit buttons carry ``decision``."""

    APPROVE = "approve"
    RETURN = "return"

    decision = forms.ChoiceField(
        label=_("Decision"), choices=[(APPROVE, _("Approve")), (RETURN, _("Return for completion"))]
    )
    note = forms.CharField(
        label=_("Note to the owner"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when returning: say what the owner should complete."),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("decision") == self.RETURN and not cleaned.get("note", "").strip():
            self.add_error("note", _("Say what the owner should complete."))
        return cleaned

    @property
    def approves(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return f"{user} · {user.team}" if user.team_id else str(user)


class TransferForm(forms.Form):
    # Named like the service's DomainError field, so its message lands on this field.
    owner = UserChoiceField(label=_("New owner"), queryset=get_user_model().objects.none())
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, candidates: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = candidates


class EraseForm(forms.Form):
    """Erasure cannot be undone: the manager types the customer number to confirm."""

    confirm_number = forms.CharField(label=_("Customer number"), max_length=20)

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["confirm_number"].help_text = _("Type %(number)s to confirm.") % {
            "number": customer.number
        }

    def clean_confirm_number(self) -> str:
        typed = self.cleaned_data["confirm_number"].strip()
        if typed.upper() != self.customer.number.upper():
            raise forms.ValidationError(
                _("Type the customer number %(number)s exactly to confirm the erasure."),
                params={"number": self.customer.number},
                code="mismatch",
            )
        return typed
