"""Playwright drives Debian's chromium (never a downloaded browser) against live_server."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def restore_migration_data() -> None:
    """Re-run our data migrations (all idempotent) after a transactional test's flush.

    Serialized rollback cannot do it here: Playwright's sync API runs an event loop, under which
    Django hands out a different connection object than the one holding the serialized copy.
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
def demo_data(transactional_db):
    """The demo accounts of the README, on top of what the data migrations create."""
    from django.core.management import call_command

    restore_migration_data()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", "--i-know-this-is-not-production", stdout=quiet)
