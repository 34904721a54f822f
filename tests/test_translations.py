"""Every user-visible string has a zh-hans translation (SPEC: the UI ships in Chinese)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = Path("locale/zh_Hans/LC_MESSAGES/django.po")


def project_sources() -> list[Path]:
    apps = [path.parent for path in ROOT.glob("*/apps.py")]
    return [ROOT / "manage.py", ROOT / "crm_site", ROOT / "templates", ROOT / "locale", *apps]


@pytest.fixture(scope="module")
def regenerated_catalogue(tmp_path_factory) -> Path:
    """The catalogue as makemessages would rewrite it now, made in a copy of the sources."""
    copy = tmp_path_factory.mktemp("i18n")
    for source in project_sources():
        target = copy / source.name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(source, target)
    env = {**os.environ, "DEBUG": "true", "CRM_VAR_DIR": str(copy / "var")}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    return copy / PO


def entries(catalogue: Path, selection: str) -> list[str]:
    """The msgids ``msgattrib`` selects (e.g. ``--untranslated``), without the header."""
    result = subprocess.run(
        ["msgattrib", selection, "--no-obsolete", str(catalogue)], check=True, capture_output=True, text=True
    )
    return [line for line in result.stdout.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


def test_makemessages_finds_no_untranslated_string(regenerated_catalogue):
    missing = entries(regenerated_catalogue, "--untranslated")
    assert missing == [], "run `make messages` and translate these"


def test_no_translation_is_left_fuzzy(regenerated_catalogue):
    fuzzy = entries(regenerated_catalogue, "--only-fuzzy")
    assert fuzzy == [], "check and unmark these fuzzy translations"


def test_committed_catalogue_compiles_with_matching_placeholders():
    subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(ROOT / PO)], check=True)
