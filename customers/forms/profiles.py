"""The customer profile form (create and edit), its contacts formset and the attachments input.

The form insists only on what a rep always knows (kind, name, a phone or e-mail, the source) and
on well-formed values; the rest of SPEC 2's required fields are marked "needed for the profile
review" (customers.completeness) and may follow within ``CUSTOMER_REVIEW_HOURS``.
"""

import json
import re
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.completeness import ENTERPRISE_REQUIRED, INDIVIDUAL_REQUIRED
from customers.models import (
    ENTERPRISE_FIELDS,
    INDIVIDUAL_FIELDS,
    PRIVATE_FIELDS,
    PROFILE_FIELDS,
    Attachment,
    Contact,
    Customer,
    Tag,
)
from customers.selectors import collaborator_choices, tags_for_form
from customers.uploads import check_attachment

# Left empty, these hold the profile review up (customers.completeness); the form says so.
REVIEW_FIELDS = (set(ENTERPRISE_REQUIRED) | set(INDIVIDUAL_REQUIRED) | {"birthday", "age"}) - {
    "name",
    "source",
}

MAX_CONTACTS = 20
MAX_FILES = 10

_PHONE_CHARS = re.compile(r"^[\d\s+\-()（）]+$")
_ID_CARD = re.compile(r"^\d{17}[\dX]$")
_ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CARD_CHECK = "10X98765432"


def validate_phone(value: str) -> None:
    """Digits, spaces, +, - and parentheses, with 6 to 20 digits: ``+86 (21) 5555-0001``."""
    digits = sum(char.isdigit() for char in value)
    if not _PHONE_CHARS.match(value) or not 6 <= digits <= 20:
        raise ValidationError(
            _("Enter a phone number of 6 to 20 digits; spaces, +, - and parentheses are allowed."),
            code="phone",
        )


def clean_id_card(value: str) -> str:
    """An 18-character resident ID number whose last character is the ISO 7064 check digit."""
    value = value.replace(" ", "").upper()
    if not value:
        return ""
    if not _ID_CARD.match(value):
        raise ValidationError(_("An ID card number has 17 digits followed by a digit or X."), code="id_card")
    total = sum(int(char) * weight for char, weight in zip(value[:17], _ID_CARD_WEIGHTS, strict=True))
    if _ID_CARD_CHECK[total % 11] != value[17]:
        raise ValidationError(
            _("This ID card number is not valid: check the digits for a typing mistake."), code="id_card"
        )
    return value


def clean_bank_card(value: str) -> str:
    value = re.sub(r"[\s-]", "", value)
    if value and not re.fullmatch(r"\d{12,19}", value):
        raise ValidationError(_("A bank card number has 12 to 19 digits."), code="bank_card")
    return value


def not_in_future(value: date | None) -> date | None:
    if value and value > timezone.localdate():
        raise ValidationError(_("This date is in the future."), code="future")
    return value


class CustomerForm(forms.ModelForm):
    """One form for both kinds. Without JS every field shows; the server keeps only the fields of
    the chosen kind, so a stray value typed in the other kind's section is never saved."""

    tags = forms.TypedMultipleChoiceField(
        label=_("tags"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    collaborators = forms.ModelMultipleChoiceField(
        label=_("collaborators"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Colleagues who share this customer and its follow-up records."),
    )
    # Optimistic locking: the version the form was read at (edit only).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Rendered in the duplicate warning (customers/customer_form.html#duplicates) when there are matches.
    confirm_duplicates = forms.BooleanField(
        label=_("I checked the possible duplicates; save anyway"), required=False
    )

    class Meta:
        model = Customer
        fields = [*PROFILE_FIELDS, "stage"]
        widgets = {
            "kind": forms.RadioSelect,
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "first_contact_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "needs": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "id_card_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 18}),
            "bank_card_number": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "website": forms.URLInput(attrs={"placeholder": "https://"}),
        }
        labels = {"name": _("customer name")}
        help_texts = {
            "expected_annual_value": _(
                "The value class follows from it: A from ¥500,000, B from ¥100,000, C below."
            ),
            "province": _("For example 浙江省 (mainland) or a state or country (overseas)."),
        }

    def __init__(
        self,
        *args: Any,
        user,
        customer: Customer | None = None,
        show_private: bool = True,
        **kwargs: Any,
    ) -> None:
        """``customer`` is the one being edited (None on create); the form never writes to it:
        its values come in as ``initial`` and the services compare before and after themselves.
        ``show_private``: False removes the ID-card and bank-card fields (masked for this user)."""
        self.customer = customer
        if customer is not None:
            initial = forms.model_to_dict(customer, fields=[*PROFILE_FIELDS, "stage"])
            initial["tags"] = [tag.pk for tag in customer.tags.all()]
            initial["collaborators"] = [member.pk for member in customer.collaborators.all()]
            initial["version"] = customer.version
            kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        if not show_private:
            for name in PRIVATE_FIELDS:
                del self.fields[name]

        self.fields["source"].required = True
        for name in ("industry", "source"):
            field = self.fields[name]
            current = getattr(customer, f"{name}_id", None) if customer else None
            field.queryset = field.queryset.filter(Q(active=True) | Q(pk=current))
        self.fields["age"].validators.append(MaxValueValidator(150))
        self.fields["age"].widget.attrs.update({"min": 0, "max": 150})
        self.fields["expected_annual_value"].validators.append(MinValueValidator(0))
        self.fields["expected_annual_value"].widget.attrs.update({"min": 0, "step": "1000"})
        for name in ("birthday", "first_contact_date"):
            self.fields[name].widget.attrs["max"] = timezone.localdate().isoformat()
        for name in REVIEW_FIELDS & set(self.fields):
            field = self.fields[name]
            field.widget.attrs["data-review"] = "1"
            field.help_text = " ".join(
                str(part) for part in (field.help_text, _("Needed for the profile review.")) if part
            )
        # Live duplicate warning: htmx asks customers:customer-duplicates while the rep types.
        warning = {
            "hx-get": reverse("customers:customer-duplicates"),
            "hx-trigger": "input changed delay:400ms",
            "hx-include": "#id_name, #id_phone, #id_email, #id_confirm_duplicates",
            "hx-target": "#duplicate-warning",
            "hx-swap": "innerHTML",
        }
        if customer is not None:
            warning["hx-vals"] = json.dumps({"exclude": customer.pk})
        for name in ("name", "phone", "email"):
            self.fields[name].widget.attrs.update(warning)
        if customer is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True

        tags = tags_for_form(self.initial.get("tags", []))
        self._tags = {tag.pk: tag for tag in tags}
        groups: dict[str, list[tuple[int, str]]] = {}
        for tag in self._tags.values():
            groups.setdefault(str(tag.dimension), []).append((tag.pk, tag.name))
        self.fields["tags"].choices = list(groups.items())

        owner = customer.owner if customer else user
        self.fields["collaborators"].queryset = collaborator_choices(
            owner, self.initial.get("collaborators", [])
        )

    # Field-level checks -------------------------------------------------------------------

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone:
            validate_phone(phone)
        return phone

    def clean_id_card_number(self) -> str:
        return clean_id_card(self.cleaned_data["id_card_number"])

    def clean_bank_card_number(self) -> str:
        return clean_bank_card(self.cleaned_data["bank_card_number"])

    def clean_birthday(self) -> date | None:
        return not_in_future(self.cleaned_data["birthday"])

    def clean_first_contact_date(self) -> date | None:
        return not_in_future(self.cleaned_data["first_contact_date"])

    def clean_tags(self) -> list[Tag]:
        return [self._tags[pk] for pk in self.cleaned_data["tags"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Keep only the chosen kind's fields; the other kind's are emptied.
        other = INDIVIDUAL_FIELDS if data.get("kind") == Customer.Kind.ENTERPRISE else ENTERPRISE_FIELDS
        for name in other:
            if name in self.fields:
                data[name] = self.fields[name].to_python(None)
                self._errors.pop(name, None)
        if not data.get("phone") and not data.get("email") and not {"phone", "email"} & set(self._errors):
            self.add_error("phone", _("Enter a phone number or an e-mail address (at least one)."))
        return data

    # Views read these -----------------------------------------------------------------------

    def profile(self) -> dict[str, Any]:
        """The profile fields for the services (those this user may change)."""
        profile = {name: self.cleaned_data[name] for name in PROFILE_FIELDS if name in self.fields}
        if profile["kind"] == Customer.Kind.ENTERPRISE:
            # Hidden from this user, but an enterprise keeps no personal numbers either way.
            profile.update({name: "" for name in PRIVATE_FIELDS})
        return profile

    def kind_sections(self) -> list[tuple[str, Any, list[forms.BoundField]]]:
        """(kind, legend, fields) for the template: the JS hides the section of the other kind."""
        return [
            (Customer.Kind.ENTERPRISE, _("Enterprise profile"), self._bound(ENTERPRISE_FIELDS)),
            (Customer.Kind.INDIVIDUAL, _("Individual profile"), self._bound(INDIVIDUAL_FIELDS)),
        ]

    def _bound(self, names: list[str]) -> list[forms.BoundField]:
        return [self[name] for name in names if name in self.fields]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "phone", "email", "wechat", "birthday", "is_primary"]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }
        labels = {"name": _("contact name"), "is_primary": _("primary contact")}

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone:
            validate_phone(phone)
        return phone

    def clean_birthday(self) -> date | None:
        return not_in_future(self.cleaned_data["birthday"])


class BaseContactFormSet(forms.BaseFormSet):
    """Several contacts, one primary: none ticked makes the first one primary, two is an error."""

    def filled(self) -> list[forms.Form]:
        return [form for form in self.forms if form.has_changed() and form.cleaned_data]

    def clean(self) -> None:
        if any(self.errors):
            return
        primaries = [form for form in self.filled() if form.cleaned_data.get("is_primary")]
        if len(primaries) > 1:
            raise ValidationError(_("Mark only one contact as the primary contact."), code="primaries")

    def contacts(self) -> list[dict[str, Any]]:
        """Cleaned contacts for ``contact_create``, the primary one first and marked."""
        rows = [dict(form.cleaned_data) for form in self.filled()]
        if not rows:
            return []
        primary = next((row for row in rows if row.get("is_primary")), rows[0])
        primary["is_primary"] = True
        return [primary, *(row for row in rows if row is not primary)]


ContactFormSet = forms.formset_factory(
    ContactForm,
    formset=BaseContactFormSet,
    extra=2,
    max_num=MAX_CONTACTS,
    absolute_max=MAX_CONTACTS,
    validate_max=True,
)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each one is cleaned like a single FileField would be."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        uploads = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(upload, initial) for upload in uploads if upload]


class AttachmentsForm(forms.Form):
    """Files added with a new customer; each is checked by content (customers.uploads)."""

    files = MultipleFileField(
        label=_("attachments"),
        required=False,
        help_text=_("Business cards, screenshots, requirement documents: images, PDF, Office or text."),
    )
    category = forms.ChoiceField(
        label=_("category"), choices=Attachment.Category.choices, initial=Attachment.Category.OTHER
    )

    def clean_files(self) -> list[UploadedFile]:
        uploads = self.cleaned_data["files"]
        if len(uploads) > MAX_FILES:
            raise ValidationError(
                _("Upload at most %(count)s files at a time.") % {"count": MAX_FILES}, code="too_many"
            )
        errors: list[str] = []
        for upload in uploads:
            try:
                check_attachment(upload)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return uploads
