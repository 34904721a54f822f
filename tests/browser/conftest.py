"""Playwright drives Debian's chromium (never a downloaded browser) against live_server."""

import os
import shutil

import pytest

from tests.migration_data import restore_migration_data

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


@pytest.fixture
def demo_data(transactional_db):
    """The demo accounts of the README, on top of what the data migrations create."""
    from django.core.management import call_command

    restore_migration_data()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", "--i-know-this-is-not-production", stdout=quiet)
