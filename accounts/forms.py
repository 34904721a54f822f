from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "email", "phone", "language", "time_zone"]
        labels = {"email": _("E-mail")}
