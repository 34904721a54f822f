"""The service-level clock (工单时效): when a ticket's first response and resolution are due.

A ticket's service level is the one for its priority and type, else the one for its priority and
any type (``level_for``); without one the ticket has no targets. A level counts either around the
clock (elapsed time) or business hours only: the ``BusinessHours`` periods of each weekday, in
the site's ``TIME_ZONE`` whoever opened the ticket and wherever they are (the desk keeps one
clock). While a ticket waits on the customer the clock is paused; on resume the due times move
later by the paused time (business time for a business-hours level).

Arithmetic is done on aware datetimes converted to UTC before adding or subtracting: Python adds
a timedelta to an aware datetime on its wall clock, which is wrong across a DST change in a zone
that has one (Asia/Shanghai has none, but TIME_ZONE is a setting). Business time walks period by
period, never minute by minute; the periods are read once per call (one query).

These functions set fields on the ticket and never save it: the caller (service.services.tickets)
saves in its own transaction, with its own update_fields.
"""

import datetime
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from service.models import BusinessHours, ServiceLevel, Ticket

Period = tuple[datetime.time, datetime.time]


class BusinessCalendar:
    """The weekly business hours in TIME_ZONE, loaded once; overlapping periods of a day merged.

    Without any period the calendar counts around the clock (an empty table must not stop the
    clock for ever).
    """

    def __init__(self, periods: list[tuple[int, datetime.time, datetime.time]], zone: ZoneInfo) -> None:
        self.zone = zone
        by_day: dict[int, list[Period]] = {weekday: [] for weekday in range(7)}
        for weekday, opens, closes in sorted(periods):
            day = by_day[weekday]
            if day and opens <= day[-1][1]:
                day[-1] = (day[-1][0], max(day[-1][1], closes))
            else:
                day.append((opens, closes))
        self.by_day = by_day
        self.empty = not periods

    @classmethod
    def load(cls) -> "BusinessCalendar":
        rows = BusinessHours.objects.values_list("weekday", "opens", "closes")
        return cls(list(rows), ZoneInfo(settings.TIME_ZONE))

    def periods_on(self, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """The day's opening periods as UTC instants (a local time DST skips maps to after the jump)."""
        return [
            (
                datetime.datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC),
                datetime.datetime.combine(day, closes, tzinfo=self.zone).astimezone(UTC),
            )
            for opens, closes in self.by_day[day.weekday()]
        ]

    def local_date(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self.zone).date()

    def add(self, start: datetime.datetime, duration: timedelta) -> datetime.datetime:
        """``start`` plus ``duration`` of business time; a start outside the hours counts from the
        next opening. The result is the instant the duration is used up (a closing time when it
        ends exactly there)."""
        cursor = start.astimezone(UTC)
        if duration <= timedelta(0):
            return cursor
        if self.empty:
            return cursor + duration
        day = self.local_date(cursor)
        remaining = duration
        while True:
            for opens, closes in self.periods_on(day):
                if closes <= cursor:
                    continue
                begin = max(opens, cursor)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = closes
            day += timedelta(days=1)

    def between(self, start: datetime.datetime, end: datetime.datetime) -> timedelta:
        """The business time from ``start`` to ``end`` (zero when ``end`` is not later)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        if self.empty:
            return end - start
        total = timedelta(0)
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for opens, closes in self.periods_on(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total


def add_business_time(start: datetime.datetime, minutes: int, *, business_hours: bool) -> datetime.datetime:
    """``start`` plus ``minutes``: elapsed time, or business time when ``business_hours``."""
    if not business_hours:
        return start.astimezone(UTC) + timedelta(minutes=minutes)
    return BusinessCalendar.load().add(start, timedelta(minutes=minutes))


def business_minutes_between(
    start: datetime.datetime, end: datetime.datetime, *, business_hours: bool
) -> int:
    """Whole minutes from ``start`` to ``end``: elapsed, or business time when ``business_hours``."""
    if not business_hours:
        elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    else:
        elapsed = BusinessCalendar.load().between(start, end)
    return max(int(elapsed.total_seconds() // 60), 0)


def level_for(ticket: Ticket) -> ServiceLevel | None:
    """The ticket's service level: for its priority and type, else its priority and any type."""
    return (
        ServiceLevel.objects.filter(priority=ticket.priority, ticket_type__in=[ticket.ticket_type, ""])
        .order_by("-ticket_type")  # the type's own level ("complaint") before the any-type one ("")
        .first()
    )


def _later(
    due: datetime.datetime, duration: timedelta, calendar: BusinessCalendar | None
) -> datetime.datetime:
    if calendar is None:
        return due.astimezone(UTC) + duration
    return calendar.add(due, duration)


def sla_apply(ticket: Ticket, now: datetime.datetime) -> ServiceLevel | None:
    """Start the ticket's clock at ``now`` (opened, reopened, priority or type changed): set the
    first response due (unless it was answered already) and the resolution due from its level;
    without a level, clear them. Breach marks stay: a missed target stays missed (reports count
    it, and lowering the priority must not erase it); a new due time still earns its own alerts.
    A ticket waiting on the customer has its pause restarted at ``now``, so resuming does not push
    the new targets by time that preceded them. Returns the level; no save."""
    level = level_for(ticket)
    calendar = BusinessCalendar.load() if level and level.business_hours else None
    if level is None:
        if ticket.first_responded_at is None:
            ticket.first_response_due = None
        ticket.resolution_due = None
    else:
        if ticket.first_responded_at is None:
            ticket.first_response_due = _later(now, timedelta(minutes=level.first_response_minutes), calendar)
        ticket.resolution_due = _later(now, timedelta(minutes=level.resolution_minutes), calendar)
    if ticket.paused_at is not None:
        ticket.paused_at = now
    return level


def sla_first_response(ticket: Ticket, now: datetime.datetime) -> bool:
    """Record the first response (the first reply, or the assignee starting work) once; True
    when this was it. No save."""
    if ticket.first_responded_at is not None:
        return False
    ticket.first_responded_at = now
    return True


def sla_pause(ticket: Ticket, now: datetime.datetime) -> bool:
    """Stop the clock while the ticket waits on the customer; True when it was running. No save."""
    if ticket.paused_at is not None:
        return False
    ticket.paused_at = now
    return True


def sla_resume(ticket: Ticket, now: datetime.datetime) -> timedelta:
    """Restart the clock: the due times (the first response's only while unanswered) move later
    by the time paused, counted in business time when the level counts business hours. Returns
    the time added; no save."""
    if ticket.paused_at is None:
        return timedelta(0)
    level = level_for(ticket)
    calendar = BusinessCalendar.load() if level and level.business_hours else None
    paused = (
        calendar.between(ticket.paused_at, now) if calendar else max(now - ticket.paused_at, timedelta(0))
    )
    if ticket.first_response_due is not None and ticket.first_responded_at is None:
        ticket.first_response_due = _later(ticket.first_response_due, paused, calendar)
    if ticket.resolution_due is not None:
        ticket.resolution_due = _later(ticket.resolution_due, paused, calendar)
    ticket.paused_at = None
    return paused
