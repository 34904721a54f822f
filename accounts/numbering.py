"""Human-readable record numbers: a prefix, the local date and a daily sequence.

``C20260301`` + ``0007`` is the seventh customer created on 1 March 2026. The counter is one row
per prefix and day, bumped with a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: the
database serialises concurrent callers on that row, so two reps saving at the same moment get
different numbers, and a first caller of the day cannot race another one creating the row.
Both PostgreSQL and SQLite (3.35+) understand the statement.
"""

from datetime import date

from django.db import connection
from django.utils import timezone

from accounts.models import NumberSequence


def next_number(prefix: str, *, width: int = 4, day: date | None = None) -> str:
    return reserve_numbers(prefix, 1, width=width, day=day)[0]


def reserve_numbers(prefix: str, count: int, *, width: int = 4, day: date | None = None) -> list[str]:
    """``count`` consecutive numbers in one statement, for bulk imports and demo data."""
    if count <= 0:
        return []
    day = day or timezone.localdate()
    key = f"{prefix}{day:%Y%m%d}"
    quote = connection.ops.quote_name
    table, key_column, value_column = quote(NumberSequence._meta.db_table), quote("key"), quote("last_value")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_column}, {value_column}) VALUES (%s, %s) "
            f"ON CONFLICT ({key_column}) DO UPDATE SET {value_column} = {table}.{value_column} + %s "
            f"RETURNING {value_column}",
            [key, count, count],
        )
        (last,) = cursor.fetchone()
    return [f"{key}{value:0{width}d}" for value in range(last - count + 1, last + 1)]


def reserve_numbers_by_key(counts: dict[str, int]) -> dict[str, int]:
    """The first of ``count`` consecutive numbers for each counter key (prefix + day), all keys in
    one statement: the same rows and upsert as ``reserve_numbers``, which takes one statement per
    day (a thousand for three years of demo history). Keys are locked in sorted order, so two
    callers cannot deadlock."""
    if not counts:
        return {}
    quote = connection.ops.quote_name
    table, key, value = quote(NumberSequence._meta.db_table), quote("key"), quote("last_value")
    keys = sorted(counts)
    rows = ", ".join(["(%s, %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {value}) VALUES {rows} "
            f"ON CONFLICT ({key}) DO UPDATE SET {value} = {table}.{value} + EXCLUDED.{value} "
            f"RETURNING {key}, {value}",
            [item for name in keys for item in (name, counts[name])],
        )
        return {name: last - counts[name] + 1 for name, last in cursor.fetchall()}


def assign_numbers(by_key: dict[str, list], created, *, width: int = 4) -> None:
    """Give each record of ``by_key`` (counter key → records) its ``number``: the key and a daily
    sequence in time order (``created(record)``), every key's block reserved in one statement."""
    firsts = reserve_numbers_by_key({key: len(group) for key, group in by_key.items()})
    for key, group in by_key.items():
        group.sort(key=created)
        for offset, record in enumerate(group):
            record.number = f"{key}{firsts[key] + offset:0{width}d}"
