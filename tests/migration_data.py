"""The rows our data migrations create (roles, lookups, cadence rules, escalation steps,
holidays), put back for transactional tests, whose teardown flushes every table."""

from pathlib import Path

import pytest


def restore_migration_data() -> None:
    """Re-run our data migrations (all idempotent) after a transactional test's flush.

    Serialized rollback is not reliable here: under Playwright's event loop, and after tests
    whose threads opened their own connections, Django may hand out a different connection
    object than the one holding the serialized copy, and the roles, cadence rules and escalation
    steps the migrations create are missing.
    """
    from django.apps import apps as global_apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection)
    from django.conf import settings

    ours = {
        config.label
        for config in global_apps.get_app_configs()
        if Path(config.path).is_relative_to(settings.BASE_DIR) and ".venv" not in Path(config.path).parts
    }
    for key in loader.graph.leaf_nodes():
        for app_label, name in loader.graph.forwards_plan(key):
            if app_label not in ours:
                continue
            for operation in loader.get_migration(app_label, name).operations:
                if isinstance(operation, RunPython):
                    operation.code(global_apps, None)


@pytest.fixture
def migration_data(transactional_db) -> None:
    """A transactional test that needs the data migrations' rows (e.g. the roles). Mark the test
    ``django_db(transaction=True)`` too: pytest-django runs transactional tests after the others
    only when it sees the marker, and the flush at their end must not reach the others."""
    restore_migration_data()
