import datetime
import threading

import pytest
from django.db import connection

from accounts.numbering import next_number, reserve_numbers

DAY = datetime.date(2026, 3, 1)


def test_numbers_count_up_per_prefix_and_day(db):
    assert next_number("C", day=DAY) == "C202603010001"
    assert next_number("C", day=DAY) == "C202603010002"
    assert next_number("G", day=DAY, width=3) == "G20260301001"
    assert next_number("C", day=DAY + datetime.timedelta(days=1)) == "C202603020001"


def test_reserved_blocks_do_not_overlap_single_numbers(db):
    first = next_number("C", day=DAY)
    block = reserve_numbers("C", 3, day=DAY)
    assert block == ["C202603010002", "C202603010003", "C202603010004"]
    assert next_number("C", day=DAY) == "C202603010005"
    assert first not in block


def test_number_uses_the_local_date_in_shanghai(db, settings):
    # 2026-03-01 17:30 UTC is already 2 March in Asia/Shanghai.
    from unittest import mock

    from django.utils import timezone

    moment = datetime.datetime(2026, 3, 1, 17, 30, tzinfo=datetime.UTC)
    with mock.patch.object(timezone, "now", return_value=moment):
        assert next_number("C").startswith("C20260302")


@pytest.mark.django_db(transaction=True)  # threads need committed rows; pytest-django runs it last
@pytest.mark.usefixtures("migration_data")
def test_concurrent_callers_never_get_the_same_number():
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                results.append(next_number("C", day=DAY))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 80
    assert len(set(results)) == 80
    assert max(results) == "C202603010080"
