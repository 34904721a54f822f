import datetime

from django.urls import reverse
from django.utils import timezone

from accounts import health
from accounts.models import Heartbeat
from accounts.tasks import record_heartbeat


def test_healthz_is_public_and_503_until_a_worker_has_beaten(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "transport": "redis"}
    assert body["checks"]["worker"] == {"ok": False, "last_heartbeat": None}


def test_healthz_is_200_after_the_heartbeat_task_ran(client, db):
    record_heartbeat()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


def test_stale_heartbeat_makes_healthz_unhealthy(client, db, settings):
    Heartbeat.objects.create(
        name=health.WORKER,
        beat_at=timezone.now() - datetime.timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 5),
    )
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_unreachable_redis_makes_healthz_unhealthy(client, db, settings):
    record_heartbeat()
    # Nothing listens on port 1: the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_filesystem_broker_is_healthy_when_its_folder_is_writable(db, settings, tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(queue)}
    assert health.check_broker() == {"ok": True, "transport": "filesystem"}
    queue.rmdir()
    assert health.check_broker()["ok"] is False


def test_heartbeat_task_twice_keeps_one_row(db):
    record_heartbeat()
    record_heartbeat()
    assert Heartbeat.objects.count() == 1
