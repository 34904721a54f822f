"""Checks on the container files: Dockerfile, docker-compose.yml and .dockerignore.

No Docker engine is needed. The compose file goes through `docker compose config -q` (or the old
`docker-compose`) when one of them is installed; everything else is checked on the text, since
PyYAML is not a dependency of the project. No database either: these are plain functions.
"""

import base64
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_SERVICES = ("web", "worker", "beat")
LONG_RUNNING = ("db", "redis", *APP_SERVICES)
CDN_HINTS = ("cdn", "jsdelivr", "unpkg", "googleapis", "cloudflare", "bootcdn", "staticfile.org")


# --- helpers ---------------------------------------------------------------------------------


def _compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) or `docker-compose` (v1), whichever actually runs."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        try:
            result = subprocess.run([*command, "version"], capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0:
            return command
    return None


def _top_level_blocks(text: str) -> dict[str, list[str]]:
    """Top-level keys of a YAML file and the lines under each (comments and blank lines dropped)."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"([A-Za-z][\w.-]*):", line)
        if match:
            current = match.group(1)
            blocks[current] = [line]
        elif current is not None:
            blocks[current].append(line)
    return blocks


def _anchors(text: str) -> dict[str, list[str]]:
    """`x-name: &anchor` blocks at the top level, by anchor name (without the header line)."""
    anchors = {}
    for lines in _top_level_blocks(text).values():
        match = re.search(r"&([\w-]+)\s*$", lines[0])
        if match:
            anchors[match.group(1)] = lines[1:]
    return anchors


def _expand(lines: list[str], anchors: dict[str, list[str]], depth: int = 0) -> list[str]:
    """Inline `key: *alias` and `<<: *alias` lines with the anchored text (good enough to search)."""
    assert depth < 5, "aliases nested too deeply"
    expanded = []
    for line in lines:
        expanded.append(line)
        match = re.search(r":\s*\*([\w-]+)\s*$", line)
        if match:
            assert match.group(1) in anchors, f"unknown alias *{match.group(1)}"
            expanded.extend(_expand(anchors[match.group(1)], anchors, depth + 1))
    return expanded


def _services() -> dict[str, dict[str, str]]:
    """Each service's own text (`own`) and its text with aliases inlined (`resolved`)."""
    text = COMPOSE.read_text(encoding="utf-8")
    lines = _top_level_blocks(text).get("services", [])
    own: dict[str, list[str]] = {}
    current = None
    for line in lines[1:]:
        match = re.match(r" {2}([A-Za-z][\w.-]*):\s*$", line)
        if match:
            current = match.group(1)
            own[current] = []
        elif current is not None:
            own[current].append(line)
    anchors = _anchors(text)
    return {
        name: {"own": "\n".join(body), "resolved": "\n".join(_expand(body, anchors))}
        for name, body in own.items()
    }


def _compose_default(name: str) -> str:
    """The `${NAME:-default}` default the compose file gives an environment variable."""
    match = re.search(rf"^\s+{name}: \$\{{{name}:-([^}}]*)\}}\s*$", COMPOSE.read_text(encoding="utf-8"), re.M)
    assert match, f"{name} should be set as `{name}: ${{{name}:-default}}` in docker-compose.yml"
    return match.group(1)


def _dockerfile_instructions() -> list[str]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        instructions.append(pending + line)
        pending = ""
    return instructions


def _index(instructions: list[str], pattern: str) -> int:
    """Position of the first instruction matching the regular expression."""
    for position, instruction in enumerate(instructions):
        if re.search(pattern, instruction):
            return position
    raise AssertionError(f"no Dockerfile instruction matches {pattern!r}")


def _without_comments(path: Path) -> str:
    return "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")
    )


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_file_passes_the_compose_validator():
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed and working")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)} config -q failed:\n{result.stderr}{result.stdout}"


def test_compose_defines_the_whole_stack():
    assert set(_services()) >= {"db", "redis", "migrate", "web", "worker", "beat"}


def test_every_long_running_service_has_its_own_healthcheck():
    services = _services()
    for name in LONG_RUNNING:
        assert re.search(r"^ {4}healthcheck:", services[name]["own"], re.M), f"{name} has no healthcheck"
        assert re.search(r"^ {6}test:", services[name]["own"], re.M), f"{name}'s healthcheck has no test"


def test_healthchecks_probe_the_right_things():
    services = _services()
    assert "pg_isready" in services["db"]["own"]
    assert "redis-cli" in services["redis"]["own"] and "ping" in services["redis"]["own"]
    assert "/healthz" in services["web"]["own"]
    # The image has no curl: the web probe must use Python.
    assert "urllib" in services["web"]["own"] and "curl" not in services["web"]["own"]
    worker = services["worker"]["own"]
    assert "inspect ping" in worker and "celery@$$HOSTNAME" in worker
    beat = services["beat"]["own"]
    assert "getmtime" in beat and "CELERY_BEAT_SCHEDULE_FILE" in beat


def test_app_services_wait_for_backing_services_and_migrations():
    services = _services()
    for name in APP_SERVICES:
        resolved = services[name]["resolved"]
        for dependency in ("db", "redis"):
            assert re.search(rf"^\s+{dependency}:\n\s+condition: service_healthy", resolved, re.M), (
                f"{name} should wait for {dependency} to be healthy"
            )
        assert re.search(r"^\s+migrate:\n\s+condition: service_completed_successfully", resolved, re.M), (
            f"{name} should wait for the migrate service to succeed"
        )
    migrate = services["migrate"]["resolved"]
    assert "migrate" in migrate and "manage.py" in migrate
    # One-shot: an `unless-stopped` migration would run again and again.
    assert re.search(r"^\s+restart: [\"']no[\"']", services["migrate"]["own"], re.M)


def test_app_services_share_one_image_built_from_the_dockerfile():
    services = _services()
    for name in ("migrate", *APP_SERVICES):
        resolved = services[name]["resolved"]
        assert re.search(r"^\s+build: \.\s*$", resolved, re.M), f"{name} is not built from the Dockerfile"
    commands = {name: services[name]["own"] for name in APP_SERVICES}
    assert "gunicorn" in commands["web"]
    assert re.search(r"\bworker\b", commands["worker"]) and "crm_site" in commands["worker"]
    assert re.search(r"\bbeat\b", commands["beat"]) and "crm_site" in commands["beat"]


def test_compose_only_pulls_postgres_and_redis():
    images = re.findall(r"^\s+image:\s*(\S+)", COMPOSE.read_text(encoding="utf-8"), re.M)
    pulled = {image for image in images if not image.startswith("${CRM_IMAGE")}
    assert pulled == {"postgres:16", "redis:7"}


def test_container_files_do_not_fetch_front_end_code_from_a_cdn():
    for path in (DOCKERFILE, COMPOSE):
        text = _without_comments(path)
        lowered = text.lower()
        for hint in CDN_HINTS:
            assert hint not in lowered, f"{path.name} mentions {hint!r}"
        for url in re.findall(r"https?://[^\s\"'),]+", text):
            assert re.match(r"https?://(localhost|127\.0\.0\.1)[:/]", url), (
                f"{path.name} reaches out to {url}"
            )
    assert not re.search(r"\b(curl|wget)\b", _without_comments(DOCKERFILE))


def test_compose_defaults_suit_a_local_plain_http_trial():
    assert _compose_default("DEBUG") == "false"
    assert "change-me" in _compose_default("SECRET_KEY")
    assert "change-me" in base64.urlsafe_b64decode(_compose_default("FIELD_ENCRYPTION_KEYS")).decode()
    assert _compose_default("ALLOWED_HOSTS") == "localhost,127.0.0.1"
    assert _compose_default("SECURE_SSL_REDIRECT") == "false"
    assert _compose_default("SECURE_COOKIES") == "false"
    text = COMPOSE.read_text(encoding="utf-8")
    assert re.search(r"^\s+DATABASE_URL: postgres://\S+@db:5432/", text, re.M)
    assert re.search(r"^\s+REDIS_URL: redis://redis:6379/", text, re.M)
    assert re.search(r"^\s+- \"?\S*(WEB_PORT:-8000\}|\b8000):8000\"?\s*$", text, re.M), (
        "port 8000 is not published"
    )
    assert "app-var:/app/var" in text, "media and the beat schedule need a volume"
    assert not re.search(r"^version:", text, re.M), "the compose specification has no version key"


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_vendors_front_end_libraries_in_a_node_stage():
    instructions = _dockerfile_instructions()
    node_stage = _index(instructions, r"^FROM node:")
    npm_ci = _index(instructions, r"^RUN npm ci\b")
    vendor = _index(instructions, r"\bnode scripts/vendor-static\.mjs")
    python_stage = _index(instructions, r"^FROM python:3\.12-slim\b")
    assert node_stage < npm_ci < vendor < python_stage
    assert re.search(r"^COPY --from=\S+ \S*static/vendor/? static/vendor/?$", "\n".join(instructions), re.M)


def test_dockerfile_compiles_translations_and_collects_static_files():
    instructions = _dockerfile_instructions()
    copy_vendor = _index(instructions, r"^COPY --from=\S+ \S*static/vendor")
    gettext = _index(instructions, r"apt-get install .*\bgettext\b")
    compilemessages = _index(instructions, r"manage\.py compilemessages")
    collectstatic = _index(instructions, r"manage\.py collectstatic --noinput")
    assert gettext < compilemessages
    assert copy_vendor < collectstatic, "collectstatic must see static/vendor/"
    # Settings need a key to load; the build's throwaway key must not end up in the image.
    assert "SECRET_KEY" in instructions[collectstatic]
    assert "FIELD_ENCRYPTION_KEYS" in instructions[collectstatic]
    assert not any(re.match(r"(ENV|ARG)\s.*\bSECRET_KEY\b", line) for line in instructions)
    assert not any(re.match(r"ENV\s.*\bDEBUG\b", line) for line in instructions)


def test_dockerfile_stages_referenced_by_copy_exist():
    instructions = _dockerfile_instructions()
    stages = {
        match.group(1) for line in instructions if (match := re.match(r"FROM \S+ AS (\S+)", line, re.I))
    }
    for line in instructions:
        if match := re.match(r"COPY --from=(\S+)", line):
            assert match.group(1) in stages, f"{line!r} copies from an unknown stage"


def test_dockerfile_copies_every_package_and_project_folder():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = {
        match.group(1)
        for line in _dockerfile_instructions()
        if (match := re.match(r"COPY (?!--)(\S+) \S+$", line))
    }
    for name in [*packages, "manage.py", "templates", "static", "locale"]:
        assert name in copied, f"the Dockerfile does not copy {name}"
    for name in copied:
        assert (ROOT / name).exists(), f"the Dockerfile copies {name}, which does not exist"


def test_dockerfile_runtime_is_unprivileged_and_serves_on_8000():
    instructions = _dockerfile_instructions()
    # Follow the last stage back through `FROM <stage>` to the image it is made from.
    parents = {}
    for line in instructions:
        if match := re.match(r"FROM (\S+)(?: AS (\S+))?", line, re.I):
            parents[match.group(2)] = match.group(1)
    image = list(parents.values())[-1]
    while image in parents:
        image = parents[image]
    assert image == "python:3.12-slim"
    users = [line.split(None, 1)[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"):
        assert any(line.startswith("ENV ") and setting in line for line in instructions), setting
    assert "EXPOSE 8000" in instructions
    assert any(line.startswith("VOLUME ") and "/app/var" in line for line in instructions)
    cmd = [line for line in instructions if line.startswith("CMD ")][-1]
    assert "gunicorn" in cmd and "crm_site.wsgi:application" in cmd and "0.0.0.0:8000" in cmd
    assert any("--no-cache-dir" in line for line in instructions if "pip install" in line)


# --- .dockerignore ---------------------------------------------------------------------------


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    patterns = {
        line.strip().strip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in (".git", ".venv", "node_modules", "static/vendor", "staticfiles", "var", "tests"):
        assert required in patterns, f".dockerignore should exclude {required}"
    assert any("__pycache__" in pattern for pattern in patterns)
    # pip reads pyproject.toml and the node stage needs the lock file: they must reach the build.
    for needed in ("pyproject.toml", "package.json", "package-lock.json", "scripts", "static", "locale"):
        assert needed not in patterns, f".dockerignore must not exclude {needed}"


def test_dockerfile_collects_static_files_for_production_with_a_manifest():
    """manage.py defaults to DEBUG=true; the image must build the hashed files WhiteNoise serves."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    build_step = dockerfile[: dockerfile.index("manage.py collectstatic")].rsplit("RUN ", 1)[1]
    assert "DEBUG=false" in build_step
    assert "STATIC_MANIFEST=true" in build_step
