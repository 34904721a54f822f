"""The default sales stages and lost reasons, search indexes, and the sales roles' permissions.

Idempotent: rows are matched by name (get_or_create), permissions added with ``add()``.
"""

from django.db import migrations

from accounts.roles import grant_permissions

# name, name_en, order, probability, won, lost, expected days in stage
STAGES = [
    ("线索", "Lead", 10, 10, False, False, 14),
    ("需求分析", "Needs analysis", 20, 25, False, False, 21),
    ("方案报价", "Proposal / quote", 30, 50, False, False, 14),
    ("商务谈判", "Negotiation", 40, 75, False, False, 21),
    ("赢单", "Won", 50, 100, True, False, 0),
    ("输单", "Lost", 60, 0, False, True, 0),
]
REASONS = [
    ("价格过高", "Price too high"),
    ("选择了竞争对手", "Chose a competitor"),
    ("需求取消", "Need cancelled"),
    ("预算不足", "Insufficient budget"),
    ("无法联系", "Could not reach the customer"),
    ("其他", "Other"),
]
WORK = [f"opportunities.{verb}_opportunity" for verb in ("add", "change", "view")]
GRANTS = {
    # As the customer permissions are granted (customers 0002): reps work, managers also delete.
    "Sales rep": WORK,
    "Sales manager": [*WORK, "opportunities.delete_opportunity"],
    "Sales director": ["opportunities.view_opportunity"],
    "Administrator": [
        "opportunities.view_opportunity",
        *[
            f"opportunities.{verb}_{model}"
            for verb in ("add", "change", "view")
            for model in ("stage", "lostreason")
        ],
    ],
}


def forwards(apps, schema_editor):
    Stage = apps.get_model("opportunities", "Stage")
    LostReason = apps.get_model("opportunities", "LostReason")
    for name, name_en, order, probability, won, lost, days in STAGES:
        Stage.objects.get_or_create(
            name=name,
            defaults={
                "name_en": name_en,
                "order": order,
                "probability": probability,
                "is_won": won,
                "is_lost": lost,
                "expected_days": days,
            },
        )
    for order, (name, name_en) in enumerate(REASONS, start=1):
        LostReason.objects.get_or_create(name=name, defaults={"name_en": name_en, "order": order * 10})
    grant_permissions(apps, GRANTS)


# The list's search box: ILIKE '%…%' on the name and the number (Django's icontains is
# UPPER(col) LIKE UPPER(%s)), served by trigram indexes (pg_trgm comes from customers 0004).
TRGM_SQL = [
    "CREATE INDEX IF NOT EXISTS opp_name_trgm ON opportunities_opportunity USING gin (upper(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS opp_number_trgm ON opportunities_opportunity "
    "USING gin (upper(number) gin_trgm_ops)",
]


def create_search_indexes(apps, schema_editor):
    # tests/migration_data.py replays data migrations without a schema editor.
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        for statement in TRGM_SQL:
            schema_editor.execute(statement)


def drop_search_indexes(apps, schema_editor):
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS opp_name_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS opp_number_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0001_initial"),
        ("customers", "0004_search_permissions_tags"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
