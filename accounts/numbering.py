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
