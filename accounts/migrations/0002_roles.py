"""Creates the five role groups with their first permissions (SPEC section 1).

Later apps grant their own model permissions in their own data migrations, through the same
``accounts.roles.grant_permissions``. Administrators edit the groups in Django admin afterwards;
running migrations again never takes a permission away.
"""

from django.db import migrations

from accounts.roles import grant_permissions

GRANTS = {
    "Sales rep": [],
    "Sales manager": ["accounts.scope_team", "accounts.view_user", "accounts.view_team"],
    "Sales director": ["accounts.scope_all", "accounts.view_user", "accounts.view_team"],
    "Service agent": [],
    "Administrator": [
        "accounts.scope_all",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.delete_user",
        "accounts.view_user",
        "accounts.add_team",
        "accounts.change_team",
        "accounts.delete_team",
        "accounts.view_team",
        "accounts.view_heartbeat",
        "auth.add_group",
        "auth.change_group",
        "auth.delete_group",
        "auth.view_group",
        "auth.view_permission",
    ],
}


def create_roles(apps, schema_editor):
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
