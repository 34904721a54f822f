"""The checks behind /healthz: database, broker, and a recent worker heartbeat."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Heartbeat

WORKER = "worker"


def check_database() -> dict[str, object]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure of the database makes us unhealthy
        return {"ok": False, "error": error.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def check_broker() -> dict[str, object]:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        ok = folder.is_dir() and folder.stat().st_mode & 0o200 != 0
        return {"ok": ok, "transport": "filesystem"}
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        return {"ok": False, "transport": "redis", "error": error.__class__.__name__}
    return {"ok": True, "transport": "redis"}


def check_worker() -> dict[str, object]:
    beat_at = Heartbeat.objects.filter(name=WORKER).values_list("beat_at", flat=True).first()
    if beat_at is None:
        return {"ok": False, "last_heartbeat": None}
    age = timezone.now() - beat_at
    return {
        "ok": age <= timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE),
        "last_heartbeat": beat_at.isoformat(),
        "age_seconds": int(age.total_seconds()),
    }


def record_heartbeat(name: str = WORKER) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})


def report() -> dict[str, object]:
    database = check_database()
    checks = {
        "database": database,
        "broker": check_broker(),
        # Without a database there is no heartbeat to read.
        "worker": check_worker() if database["ok"] else {"ok": False},
    }
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks}
