"""Strings of Django itself that its zh-hans catalogue does not translate yet.

makemessages only extracts strings from our sources, so they are repeated here; gettext then
finds their translation in our catalogue, which takes precedence over Django's.
"""

from django.utils.translation import gettext_lazy as _

MISSING_FROM_DJANGO = [
    # django.db.models.fields.BLANK_CHOICE_LABEL (new in Django 6.1): the empty choice of selects.
    _("- Select an option -"),
]
