"""Who may work with products, quotes, orders and payments (idempotent: ``add()``).

Reps quote, turn accepted quotes into orders and record payments; managers also keep the price
list and void payments; directors read; administrators keep the price list.
"""

from django.db import migrations

from accounts.roles import grant_permissions


def _perms(verbs, model):
    return [f"opportunities.{verb}_{model}" for verb in verbs]


READ = [
    *_perms(["view"], "product"),
    *_perms(["view"], "quote"),
    *_perms(["view"], "order"),
    *_perms(["view"], "payment"),
]
REP = [
    *_perms(["view"], "product"),
    *_perms(["add", "change", "view"], "quote"),
    *_perms(["add", "change", "view"], "order"),
    *_perms(["add", "view"], "payment"),
]
GRANTS = {
    "Sales rep": REP,
    "Sales manager": [*REP, *_perms(["add", "change"], "product"), *_perms(["change"], "payment")],
    "Sales director": READ,
    "Administrator": [*READ, *_perms(["add", "change"], "product")],
}


def forwards(apps, schema_editor):
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0003_products_quotes_orders_payments"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
