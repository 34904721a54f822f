"""Forms of the public survey page, the survey results filter and the purchase form."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from service.models import SurveyInvitation
from service.services.surveys import COMMENT_MAX

RATINGS = [
    (5, _("5 – very satisfied")),
    (4, _("4 – satisfied")),
    (3, _("3 – neutral")),
    (2, _("2 – dissatisfied")),
    (1, _("1 – very dissatisfied")),
]


class SurveyAnswerForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a score from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class PurchaseForm(forms.Form):
    purchased_on = forms.DateField(
        label=_("Purchase date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    description = forms.CharField(
        label=_("What was bought"),
        max_length=200,
        help_text=_("E.g. 3 office printers, annual maintenance contract."),
    )

    def clean_purchased_on(self):
        day = self.cleaned_data["purchased_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A purchase date cannot be in the future."))
        return day


class SurveyFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Quarter"), required=False)
    kind = forms.ChoiceField(
        label=pgettext_lazy("survey", "Kind"),
        required=False,
        choices=[("", _("All surveys")), *SurveyInvitation.Kind.choices],
    )

    def __init__(self, *args, periods: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [("", _("All quarters")), *[(period, period) for period in periods]]
