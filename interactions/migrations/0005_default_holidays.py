"""The holidays that produce care tasks (节日关怀) for 2026–2028, editable in admin afterwards.

Lunar holidays move every year: 春节 (1st of the 1st lunar month), 端午 (5th of the 5th) and
中秋 (15th of the 8th) each have a row per year, with the Gregorian dates below.
"""

import datetime

from django.db import migrations

from accounts.roles import grant_permissions

# (name, English name, dates, value classes): 春节 and 中秋 reach every class, the others A and B.
HOLIDAYS = [
    ("元旦", "New Year's Day", ["2026-01-01", "2027-01-01", "2028-01-01"], "AB"),
    ("春节", "Spring Festival", ["2026-02-17", "2027-02-06", "2028-01-26"], "ABC"),
    ("端午节", "Dragon Boat Festival", ["2026-06-19", "2027-06-09", "2028-05-28"], "AB"),
    ("中秋节", "Mid-Autumn Festival", ["2026-09-25", "2027-09-15", "2028-10-03"], "ABC"),
    ("国庆节", "National Day", ["2026-10-01", "2027-10-01", "2028-10-01"], "AB"),
]


def add_holidays(apps, schema_editor) -> None:
    # Administrators keep the holiday table (HolidayAdmin); directors may look at it.
    grant_permissions(
        apps,
        {
            "Administrator": [f"interactions.{verb}_holiday" for verb in ("add", "change", "delete", "view")],
            "Sales director": ["interactions.view_holiday"],
        },
    )
    Holiday = apps.get_model("interactions", "Holiday")
    for name, name_en, dates, value_classes in HOLIDAYS:
        for text in dates:
            Holiday.objects.get_or_create(
                name=name,
                date=datetime.date.fromisoformat(text),
                defaults={"name_en": name_en, "value_classes": value_classes, "days_before": 3},
            )


def remove_holidays(apps, schema_editor) -> None:
    Holiday = apps.get_model("interactions", "Holiday")
    for name, _name_en, dates, _value_classes in HOLIDAYS:
        Holiday.objects.filter(name=name, date__in=[datetime.date.fromisoformat(d) for d in dates]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("interactions", "0004_reminders")]

    operations = [migrations.RunPython(add_holidays, remove_holidays)]
