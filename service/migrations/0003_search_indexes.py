"""The service desk's search box: ILIKE '%…%' on the ticket number and subject (Django's icontains
is UPPER(col) LIKE UPPER(%s)), served by trigram indexes (pg_trgm comes from customers 0004)."""

from django.db import migrations

TRGM = {
    "ticket_number_trgm": "service_ticket USING gin (upper(number) gin_trgm_ops)",
    "ticket_subject_trgm": "service_ticket USING gin (upper(subject) gin_trgm_ops)",
}


def create_search_indexes(apps, schema_editor):
    # tests/migration_data.py replays data migrations without a schema editor.
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        for name, target in TRGM.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_search_indexes(apps, schema_editor):
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        for name in TRGM:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0002_defaults_and_permissions"),
        ("customers", "0004_search_permissions_tags"),
    ]

    operations = [migrations.RunPython(create_search_indexes, drop_search_indexes)]
