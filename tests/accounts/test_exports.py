"""The export framework (accounts.exports): rows → file in the background, progress, download."""

import io
import logging
import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from accounts import exports
from accounts.models import Export
from accounts.tasks import build_export
from tests.factories import customers_listing
from tests.factories.accounts import UserFactory
from tests.factories.customers_listing import export_rows

pytestmark = pytest.mark.django_db

eager_celery = customers_listing.eager_celery
media = customers_listing.media


@pytest.fixture
def probe(monkeypatch):
    """A registered exporter "probe": five rows, one a formula; it records each build."""
    calls = []

    def build(user, params):
        calls.append((user.pk, params))
        count = params.get("count", 5)
        rows = ([f"row {n}", n] for n in range(1, count + 1))
        if params.get("formula"):
            rows = iter([['=HYPERLINK("http://evil")', 1], ["+1+1", 2], ["@SUM(A1)", 3]])
            count = 3
        if params.get("fail"):
            raise RuntimeError("boom")
        return [_("Customers"), "n"], rows, count

    monkeypatch.setitem(
        exports._exporters,
        "probe",
        exports.Exporter(kind="probe", build=build, permission="customers.export_customer", label="Probe"),
    )
    return calls


def _start(user, fmt="csv", **params) -> Export:
    return exports.start_export(user=user, kind="probe", params=params, fmt=fmt)


def test_export_is_built_after_commit_by_the_task(
    rep, probe, media, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = _start(rep)
        assert Export.objects.get(pk=export.pk).status == Export.Status.PENDING
    export.refresh_from_db()
    assert export.status == Export.Status.DONE
    assert export.total == export.processed == 5
    assert export.finished_at is not None
    assert export_rows(export) == [["客户", "n"], *[[f"row {n}", str(n)] for n in range(1, 6)]]
    assert probe == [(rep.pk, {})]


def test_running_the_task_twice_does_not_build_twice(rep, probe, media):
    export = _start(rep)
    build_export(export.pk)
    export.refresh_from_db()
    first_file = export.file.name
    assert exports.export_build(export.pk) is False
    build_export(export.pk)
    export.refresh_from_db()
    assert export.file.name == first_file
    assert len(probe) == 1


def test_a_run_whose_worker_died_is_taken_over_after_the_lease(rep, probe, media):
    export = _start(rep)
    Export.objects.filter(pk=export.pk).update(
        status=Export.Status.RUNNING, started_at=timezone.now() - exports.RUNNING_LEASE - timedelta(minutes=1)
    )
    assert exports.export_build(export.pk) is True
    export.refresh_from_db()
    assert export.status == Export.Status.DONE
    Export.objects.filter(pk=export.pk).update(status=Export.Status.RUNNING, started_at=timezone.now())
    assert exports.export_build(export.pk) is False


def test_progress_is_saved_in_chunks_while_writing(rep, media, monkeypatch):
    seen = []

    def build(user, params):
        def rows():
            for n in range(7):
                seen.append(Export.objects.get(kind="chunks").processed)
                yield [n]

        return ["n"], rows(), 7

    monkeypatch.setitem(exports._exporters, "chunks", exports.Exporter(kind="chunks", build=build))
    monkeypatch.setattr(exports, "CHUNK_SIZE", 3)
    export = exports.start_export(user=rep, kind="chunks", params={}, fmt="xlsx")
    exports.export_build(export.pk)
    assert seen == [0, 0, 0, 3, 3, 3, 6]
    export.refresh_from_db()
    assert (export.processed, export.total, export.status) == (7, 7, Export.Status.DONE)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_are_neutralised_in_the_file(rep, probe, media, fmt):
    export = _start(rep, fmt=fmt, formula=True)
    exports.export_build(export.pk)
    cells = [row[0] for row in export_rows(export)[1:]]
    assert cells == ['\'=HYPERLINK("http://evil")', "'+1+1", "'@SUM(A1)"]


def test_headers_follow_the_creators_language(rep, probe, media):
    rep.language = "en"
    rep.save(update_fields=["language"])
    export = _start(rep)
    exports.export_build(export.pk)
    assert export_rows(export)[0] == ["Customers", "n"]


def test_a_failing_build_marks_the_export_failed_and_the_page_says_so(client, rep, probe, media):
    export = _start(rep, fail=True)
    exports.export_build(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert "boom" in export.error
    client.force_login(rep)
    page = client.get(reverse("accounts:export-detail", args=[export.pk])).content.decode()
    assert "导出失败" in page
    assert client.get(reverse("accounts:export-download", args=[export.pk])).status_code == 404


def test_permission_is_checked_again_when_the_export_is_built(rep, probe, media):
    export = _start(rep)
    rep.groups.clear()
    exports.export_build(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert probe == []


def test_user_without_the_exporters_permission_cannot_start_one(agent, probe):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _start(agent)
    assert not Export.objects.exists()


def test_broker_down_leaves_the_export_pending_and_logged(
    client, rep, probe, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(build_export, "apply_async", refuse)
    with (
        caplog.at_level(logging.ERROR, logger="accounts.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        export = _start(rep)
    assert "broker may be down" in caplog.text
    export.refresh_from_db()
    assert export.status == Export.Status.PENDING
    Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    client.force_login(rep)
    page = client.get(reverse("accounts:export-detail", args=[export.pk])).content.decode()
    assert "后台" in page  # "no background worker has started this export yet"
    assert 'hx-trigger="every 1s"' in page


def test_export_page_polls_while_running_and_links_the_file_when_done(client, rep, probe, media):
    export = _start(rep, fmt="xlsx")
    client.force_login(rep)
    url = reverse("accounts:export-detail", args=[export.pk])
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    assert "HX-Request" in fragment["Vary"]
    assert 'hx-trigger="every 1s"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "<noscript>" in client.get(url).content.decode()

    exports.export_build(export.pk)
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' not in page
    assert reverse("accounts:export-download", args=[export.pk]) in page
    assert "下载" in page


def test_creator_downloads_the_file_with_a_readable_name(client, rep, probe, media):
    export = _start(rep, fmt="xlsx")
    exports.export_build(export.pk)
    client.force_login(rep)
    response = client.get(reverse("accounts:export-download", args=[export.pk]))
    assert response.status_code == 200
    assert 'filename="probe-' in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.xlsx"')
    export.refresh_from_db()
    assert "probe" not in export.file.name  # stored under a random name
    assert b"".join(response.streaming_content).startswith(b"PK")


@pytest.mark.parametrize("persona", ["teammate", "lead", "other_team_rep", "director"])
def test_only_the_creator_sees_or_downloads_an_export(client, rep, probe, media, persona, request):
    export = _start(rep)
    exports.export_build(export.pk)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("accounts:export-detail", args=[export.pk])).status_code == 404
    assert client.get(reverse("accounts:export-download", args=[export.pk])).status_code == 404


def test_pending_export_has_nothing_to_download(client, rep, probe):
    export = _start(rep)
    client.force_login(rep)
    assert client.get(reverse("accounts:export-download", args=[export.pk])).status_code == 404


def test_inactive_creator_gets_no_file(rep, probe, media):
    export = _start(rep)
    UserFactory._meta.model.objects.filter(pk=rep.pk).update(is_active=False)
    exports.export_build(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert not export.file


def test_sweep_sends_stalled_exports_again_and_they_are_built_once(
    rep, probe, media, eager_celery, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(minutes=5)
    stalled = _start(rep)
    fresh = _start(rep)
    done = _start(rep)
    exports.export_build(done.pk)
    Export.objects.filter(pk__in=[stalled.pk, done.pk]).update(created_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert exports.exports_requeue_stalled() == 1
    stalled.refresh_from_db()
    fresh.refresh_from_db()
    assert stalled.status == Export.Status.DONE
    assert fresh.status == Export.Status.PENDING
    assert len(probe) == 2  # "done" and "stalled", each built once


def test_a_run_taken_over_meanwhile_does_not_overwrite_the_newer_one(rep, media, monkeypatch):
    def build(user, params):
        # Another delivery takes the export over while this one is still writing.
        Export.objects.filter(kind="slow").update(started_at=timezone.now() + timedelta(seconds=1))
        return ["n"], iter([[1]]), 1

    monkeypatch.setitem(exports._exporters, "slow", exports.Exporter(kind="slow", build=build))
    export = exports.start_export(user=rep, kind="slow", params={}, fmt="csv")
    assert exports.export_build(export.pk) is False
    export.refresh_from_db()
    assert export.status == Export.Status.RUNNING
    assert not export.file
    assert not list((media / "exports").rglob("*.csv"))


def test_my_exports_lists_only_my_own_with_download_links(client, rep, teammate, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mine = Export.objects.create(
        user=rep, kind="customers", params={}, format="csv", status="done", processed=3
    )
    mine.file.save("mine.csv", io.BytesIO(b"a\n"), save=True)
    theirs = Export.objects.create(user=teammate, kind="customers", params={}, format="xlsx", status="done")
    client.force_login(rep)
    page = client.get(reverse("accounts:export-list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的导出" in page
    assert reverse("accounts:export-download", args=[mine.pk]) in page
    assert reverse("accounts:export-detail", args=[theirs.pk]) not in page


def test_my_exports_page_costs_the_same_queries_for_1_and_30_exports(
    client, rep, django_assert_max_num_queries
):
    client.force_login(rep)
    Export.objects.create(user=rep, kind="customers", params={}, format="csv")
    with django_assert_max_num_queries(7):
        client.get(reverse("accounts:export-list"))
    Export.objects.bulk_create(
        [Export(user=rep, kind="customers", params={}, format="csv") for _ in range(29)]
    )
    with django_assert_max_num_queries(7):
        client.get(reverse("accounts:export-list"))


def test_expired_exports_are_deleted_with_their_files(rep, settings, tmp_path):
    from accounts.exports import exports_delete_expired

    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_RETENTION_DAYS = 7
    old = Export.objects.create(user=rep, kind="customers", params={}, format="csv", status="done")
    old.file.save("old.csv", io.BytesIO(b"a\n"), save=True)
    Export.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    fresh = Export.objects.create(user=rep, kind="customers", params={}, format="csv", status="done")
    path = old.file.path
    assert exports_delete_expired() == 1
    assert not Export.objects.filter(pk=old.pk).exists() and Export.objects.filter(pk=fresh.pk).exists()
    assert not os.path.exists(path)
    assert exports_delete_expired() == 0
