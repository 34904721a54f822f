"""Forms of the customer import: the upload, the column mapping and the commit."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import DomainError
from customers.importing.mapping import FIELDS, FIELDS_BY_KEY
from customers.importing.reading import detect_format
from customers.models import CustomerImport


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel (.xlsx) file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file_format = ""
        self.fields["file"].help_text = _(
            "Headers in Chinese or English; CSV in UTF-8 or GBK; at most %(limit)s."
        ) % {"limit": filesizeformat(settings.IMPORT_MAX_MB * 1024 * 1024)}

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_MB * 1024 * 1024
        if upload.size > limit:
            raise ValidationError(
                _("%(name)s is %(size)s; import files may be at most %(limit)s.")
                % {"name": upload.name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
                code="too_big",
            )
        try:
            # By what the bytes are, not by the name: a renamed file is refused all the same.
            self.file_format = detect_format(upload)
        except DomainError as error:
            raise ValidationError(error.message, code="type") from error
        return upload


class ImportMappingForm(forms.Form):
    """One select per column of the file: the customer field it holds, or nothing."""

    def __init__(self, *args: Any, columns: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", gettext_lazy("— not imported —")), *((field.key, field.label) for field in FIELDS)]
        self.columns = columns
        for index, column in enumerate(columns):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=column["header"] or _("Column %(number)s") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=column["field"],
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = [cleaned.get(f"column_{index}", "") for index in range(len(self.columns))]
        for key in {key for key in chosen if key and chosen.count(key) > 1}:
            self.add_error(
                None,
                _("%(field)s is chosen for more than one column.") % {"field": FIELDS_BY_KEY[key].label},
            )
        if "name" not in chosen:
            self.add_error(None, _("Choose the column that holds the customer name."))
        return cleaned

    def mapped_fields(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{index}", "") for index in range(len(self.columns))]

    def rows(self) -> list[tuple[dict[str, str], forms.BoundField]]:
        """(column, its select) pairs for the mapping table."""
        return [(column, self[f"column_{index}"]) for index, column in enumerate(self.columns)]


class ImportCommitForm(forms.Form):
    mode = forms.ChoiceField(
        label=gettext_lazy("Rows that match an existing customer"),
        choices=CustomerImport.Mode.choices,
        initial=CustomerImport.Mode.SKIP,
        widget=forms.RadioSelect,
    )
