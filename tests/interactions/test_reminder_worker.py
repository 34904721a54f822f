"""The reminder sweeps for real: two sweeps at once on their own database connections, and a
real Celery worker (not eager mode) fed through Redis, on the test database."""

import datetime
import os
import subprocess
import sys
import threading
import time
from datetime import UTC
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Notification
from interactions.models import LeadDigest, TaskReminder
from interactions.services.reminders import KIND_OVERDUE, digests_sweep, reminders_sweep
from interactions.tasks.reminders import send_task_reminders
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import TaskFactory

NOW = datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
HOUR = datetime.timedelta(hours=1)


def run_at_once(work, times: int = 2) -> list:
    """Run ``work`` in ``times`` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(times)
    results, errors = [], []

    def thread_body():
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=thread_body) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)  # pytest-django runs transactional tests last
@pytest.mark.usefixtures("migration_data")
def test_two_sweeps_at_once_deliver_each_reminder_exactly_once(mailoutbox):
    owners = [UserFactory(username=f"concurrent_rep{index}") for index in range(3)]
    tasks = [
        TaskFactory(customer=CustomerFactory(owner=owners[index % 3]), due_at=NOW + (index % 7 - 3) * HOUR)
        for index in range(30)
    ]

    results = run_at_once(lambda: reminders_sweep(now=NOW, batch_size=4), times=3)

    assert sum(result.sent for result in results) == 30
    assert Notification.objects.count() == 30
    assert TaskReminder.objects.filter(status=TaskReminder.Status.SENT).count() == 30
    per_task = {task.pk: TaskReminder.objects.filter(task=task).count() for task in tasks}
    assert set(per_task.values()) == {1}
    assert len(mailoutbox) == 30
    assert reminders_sweep(now=NOW).sent == 0


@pytest.mark.django_db(transaction=True)  # pytest-django runs transactional tests last
@pytest.mark.usefixtures("migration_data")
def test_two_digest_sweeps_at_once_send_one_digest(team_a, mailoutbox):
    from tests.conftest import make_lead

    lead = make_lead(team_a, "concurrent_lead")
    rep = UserFactory(username="concurrent_digest_rep", team=team_a)
    TaskFactory(customer=CustomerFactory(owner=rep), due_at=NOW - 30 * HOUR)

    results = run_at_once(lambda: digests_sweep(now=NOW), times=3)

    assert sum(result.sent for result in results) == 1
    assert LeadDigest.objects.get(lead=lead).status == LeadDigest.Status.SENT
    assert Notification.objects.filter(recipient=lead).count() == 1
    assert len([message for message in mailoutbox if message.to == [lead.email]]) == 1


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.django_db(transaction=True)  # pytest-django runs transactional tests last
@pytest.mark.usefixtures("migration_data")
def test_a_real_celery_worker_delivers_the_reminder_once(tmp_path: Path):
    if not settings.CELERY_BROKER_URL.startswith("redis://") or not _redis_reachable():
        pytest.skip(f"Needs a reachable Redis broker (CELERY_BROKER_URL={settings.CELERY_BROKER_URL})")
    from crm_site.celery import app

    owner = UserFactory(username="worker_rep")
    TaskFactory(customer=CustomerFactory(owner=owner), due_at=timezone.now() - HOUR)
    app.control.purge()  # messages left over from an earlier run of this test
    send_task_reminders.delay()
    send_task_reminders.apply_async()  # a duplicate message: the second run must send nothing

    environment = os.environ | {
        "DATABASE_URL": _url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CRM_VAR_DIR": str(tmp_path),
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "crm_site",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if Notification.objects.filter(recipient=owner).exists() and _ran_twice(tmp_path):
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    output = (tmp_path / "worker.log").read_text()
    assert Notification.objects.filter(recipient=owner, kind=KIND_OVERDUE).count() == 1, output
    assert TaskReminder.objects.get().status == TaskReminder.Status.SENT
    assert output.count("succeeded in") >= 2, output  # both messages ran; the second sent nothing


def _ran_twice(tmp_path: Path) -> bool:
    return (tmp_path / "worker.log").read_text().count("succeeded in") >= 2


def _url_of_test_database() -> str:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{database['USER']}{password}@{database['HOST']}{port}/{database['NAME']}"
