"""Forms of the customer page: stage, value class, tags, contacts and attachments."""

from collections import defaultdict
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from customers.forms.profiles import not_in_future, validate_phone
from customers.models import Attachment, Contact, Customer, Tag, TagDimension, value_class_for
from customers.selectors import tag_choices
from customers.services.related import CONTACT_FIELDS


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=Customer.Stage.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["note"].widget.attrs.update(
            {"class": "form-control form-control-sm", "placeholder": _("Note (optional)")}
        )


# "Follow the expected value" is a choice of its own: a manager hands the class back to the rule.
FOLLOW_EXPECTED_VALUE = "auto"


def _class_labels() -> dict[str, str]:
    a_min, b_min = intcomma(int(settings.CUSTOMER_CLASS_A_MIN)), intcomma(int(settings.CUSTOMER_CLASS_B_MIN))
    return {
        "A": gettext("A: ¥%(min)s or more") % {"min": a_min},
        "B": gettext("B: ¥%(min)s to ¥%(max)s") % {"min": b_min, "max": a_min},
        "C": gettext("C: below ¥%(max)s") % {"max": b_min},
    }


class ValueClassForm(forms.Form):
    value_class = forms.ChoiceField(label=_("Value class"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        required=False,
        help_text=_("Required when you set the class by hand."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "value_class": customer.value_class
                if customer.value_class_overridden
                else FOLLOW_EXPECTED_VALUE,
                "reason": customer.value_class_reason,
            },
        )
        super().__init__(*args, **kwargs)
        computed = value_class_for(customer.expected_annual_value)
        labels = _class_labels()
        self.fields["value_class"].choices = [
            (
                FOLLOW_EXPECTED_VALUE,
                gettext("Follow the expected value (now %(value_class)s)") % {"value_class": computed},
            ),
            *[(value, labels[value]) for value in Customer.ValueClass.values],
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = cleaned.get("value_class")
        if chosen and chosen != FOLLOW_EXPECTED_VALUE and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Say why the value class differs from the expected value."))
        return cleaned

    @property
    def chosen_class(self) -> str | None:
        """The class to fix, or None to follow the expected value (for the service)."""
        chosen = self.cleaned_data["value_class"]
        return None if chosen == FOLLOW_EXPECTED_VALUE else chosen


class CustomerTagsForm(forms.Form):
    """One group of checkboxes per tag dimension, offering the active tags.

    Tags that were deactivated stay on the customer (they are not offered, so not unticked).
    """

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        current = list(customer.tags.all())
        current_ids = {tag.pk for tag in current}
        active = tag_choices().filter(dimension__active=True)
        by_dimension: dict[TagDimension, list[Tag]] = defaultdict(list)
        for tag in active:
            by_dimension[tag.dimension].append(tag)
        self.offered_ids: set[int] = set()
        for dimension in sorted(by_dimension, key=lambda dimension: (dimension.order, str(dimension))):
            tags = by_dimension[dimension]
            self.offered_ids.update(tag.pk for tag in tags)
            self.fields[f"dimension_{dimension.pk}"] = forms.MultipleChoiceField(
                label=str(dimension),
                choices=[(str(tag.pk), tag.name) for tag in tags],
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=[str(tag.pk) for tag in tags if tag.pk in current_ids],
            )
        self._kept = [tag for tag in current if tag.pk not in self.offered_ids]
        self._tags_by_id = {tag.pk: tag for tag in active}

    def chosen_tags(self) -> list[Tag]:
        chosen = [
            self._tags_by_id[int(pk)]
            for name, values in self.cleaned_data.items()
            if name.startswith("dimension_")
            for pk in values
        ]
        return chosen + self._kept


class ContactForm(forms.ModelForm):
    """A contact's fields; the view hands them to the contact services (never ``save()``).

    Bound without an instance, so a failed edit never touches the contact the services compare
    against; ``is_current_primary`` keeps a customer from losing its primary contact by an untick.
    """

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"name": pgettext_lazy("person", "Name")}

    def __init__(self, *args: Any, is_current_primary: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_current_primary = is_current_primary
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["is_primary"].help_text = _("Making this contact primary unmarks the previous one.")

    # The same checks as the contacts of the profile form (customers.forms.profiles).
    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone:
            validate_phone(phone)
        return phone

    def clean_birthday(self):
        return not_in_future(self.cleaned_data["birthday"])

    def clean_is_primary(self) -> bool:
        is_primary = self.cleaned_data.get("is_primary", False)
        if self.is_current_primary and not is_primary:
            raise ValidationError(
                _("To change the primary contact, mark another contact as primary."), code="primary"
            )
        return is_primary


class AttachmentForm(forms.Form):
    # A hint for the browser's file picker; customers.uploads checks the content on the server.
    file = forms.FileField(
        label=_("File"),
        widget=forms.FileInput(attrs={"accept": "image/*,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.txt,.csv"}),
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=Attachment.Category.choices, initial=Attachment.Category.OTHER
    )
    description = forms.CharField(label=_("Description"), max_length=255, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "An image, a PDF, an Office document or plain text, at most %(limit)s MB."
        ) % {"limit": settings.ATTACHMENT_MAX_MB}
