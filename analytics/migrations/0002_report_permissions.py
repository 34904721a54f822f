"""Who may subscribe to the scheduled KPI reports, and who manages everyone's subscriptions
(idempotent: ``add()``).

Sales managers, sales directors and service managers subscribe themselves (the page "My report
subscriptions"); administrators subscribe others and read every report in Django admin.
"""

from django.db import migrations

from accounts.roles import grant_permissions

SUBSCRIBE = ["analytics.subscribe_report"]
MANAGE = [
    *[f"analytics.{verb}_reportsubscription" for verb in ("add", "change", "delete", "view")],
    "analytics.view_reportsnapshot",
    "analytics.view_reportdelivery",
]
GRANTS = {
    "Sales manager": SUBSCRIBE,
    "Sales director": SUBSCRIBE,
    "Service manager": SUBSCRIBE,
    "Administrator": MANAGE,
}


def forwards(apps, schema_editor):
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_reports"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
