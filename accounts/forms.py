from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import notifications
from accounts.models import User


class PreferencesForm(forms.ModelForm):
    # The notification kinds the user also gets by e-mail (registered by the apps; all by default).
    email_kinds = forms.MultipleChoiceField(
        label=_("Also send me by e-mail"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every notification appears under the bell; ticked ones are e-mailed as well."),
    )

    class Meta:
        model = User
        fields = ["display_name", "email", "phone", "language", "time_zone"]
        labels = {"email": _("E-mail")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kinds = notifications.kinds()
        if not kinds:
            del self.fields["email_kinds"]
            return
        self.fields["email_kinds"].choices = [(kind.key, kind.label) for kind in kinds]
        if self.instance.pk:
            self.fields["email_kinds"].initial = sorted(notifications.email_kinds_of(self.instance))
