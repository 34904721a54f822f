"""The service-level clock (service.services.sla): business-hours arithmetic across lunch breaks,
closing times, weekends, midnight, other time zones and DST; due times set, paused and resumed.

The default calendar (migration 0002) is Monday to Friday, 09:00–12:00 and 13:30–18:00 in
Asia/Shanghai: 450 business minutes a day. Every function takes ``now``; nothing is mocked."""

import datetime
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.models import BusinessHours, ServiceLevel, Ticket
from service.services.sla import (
    add_business_time,
    business_minutes_between,
    level_for,
    sla_apply,
    sla_first_response,
    sla_pause,
    sla_resume,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = 450  # business minutes of a weekday


def at(
    day: int, hour: int, minute: int = 0, *, month: int = 3, zone: ZoneInfo = SHANGHAI
) -> datetime.datetime:
    """A time in March 2026 (Friday the 6th, Monday the 9th), Shanghai time unless told."""
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=zone)


def business(start: datetime.datetime, minutes: int) -> datetime.datetime:
    return add_business_time(start, minutes, business_hours=True)


# add_business_time


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        pytest.param(at(9, 10), 60, at(9, 11), id="inside a period"),
        pytest.param(at(9, 11, 30), 60, at(9, 14), id="across the lunch break"),
        pytest.param(at(9, 12, 30), 30, at(9, 14), id="start in the lunch break"),
        pytest.param(at(9, 7), 30, at(9, 9, 30), id="start before opening"),
        pytest.param(at(9, 17), 60, at(9, 18), id="ends exactly at closing"),
        pytest.param(at(9, 18), 30, at(10, 9, 30), id="start at closing"),
        pytest.param(at(9, 23, 59), 30, at(10, 9, 30), id="start just before midnight"),
        pytest.param(at(10, 0), DAY, at(10, 18), id="start at midnight, a whole day"),
        pytest.param(at(6, 17, 50), 120, at(9, 10, 50), id="Friday 17:50 over the weekend"),
        pytest.param(at(7, 10), 30, at(9, 9, 30), id="start on Saturday"),
        pytest.param(at(8, 23), 30, at(9, 9, 30), id="start on Sunday night"),
        pytest.param(at(9, 9), 3 * DAY, at(11, 18), id="three whole days"),
        pytest.param(at(9, 9), 5 * DAY + 1, at(16, 9, 1), id="a whole week and a minute"),
        pytest.param(at(9, 10), 0, at(9, 10), id="nothing to add"),
    ],
)
def test_business_time_walks_the_opening_periods(start, minutes, due):
    assert business(start, minutes) == due


def test_around_the_clock_ignores_business_hours():
    assert add_business_time(at(6, 17, 50), 120, business_hours=False) == at(6, 19, 50)
    assert add_business_time(at(7, 23), 90, business_hours=False) == at(8, 0, 30)


def test_due_times_are_aware_utc_instants():
    due = business(at(6, 17, 50), 120)
    assert due.tzinfo is UTC
    assert due == datetime.datetime(2026, 3, 9, 2, 50, tzinfo=UTC)


def test_a_start_given_in_another_time_zone_counts_in_the_site_time_zone():
    # Friday 17:50 in Shanghai is Friday 04:50 in New York (EST): the desk's clock is Shanghai's.
    new_york = ZoneInfo("America/New_York")
    start = at(6, 17, 50).astimezone(new_york)
    assert start.hour == 4
    assert business(start, 120) == at(9, 10, 50)
    assert business_minutes_between(start, at(9, 10, 50).astimezone(new_york), business_hours=True) == 120


def test_several_periods_a_day_are_walked_and_overlaps_merged():
    # Monday gets an evening shift, and a period overlapping the morning one (09:00–12:30 merged).
    BusinessHours.objects.create(weekday=0, opens=datetime.time(19), closes=datetime.time(21))
    BusinessHours.objects.create(weekday=0, opens=datetime.time(11), closes=datetime.time(12, 30))

    assert business(at(9, 11, 30), 60) == at(9, 12, 30)
    assert business(at(9, 17, 30), 60) == at(9, 19, 30)
    assert business(at(9, 20, 30), 60) == at(10, 9, 30)
    assert business_minutes_between(at(9, 0), at(10, 0), business_hours=True) == 210 + 270 + 120


def test_without_business_hours_the_clock_runs_around_the_clock():
    BusinessHours.objects.all().delete()
    assert business(at(7, 10), 30) == at(7, 10, 30)
    assert business_minutes_between(at(7, 10), at(7, 11), business_hours=True) == 60


def test_business_time_reads_the_calendar_once(django_assert_num_queries):
    with django_assert_num_queries(1):
        due = business(at(6, 17, 50), 5 * 24 * 60)  # the low-priority resolution target
    assert due == at(30, 17, 50)  # 10 minutes on Friday, 15 whole days, 440 minutes on Monday


# Another TIME_ZONE, with daylight saving time (Europe/Berlin: +1 → +2 on 2026-03-29 at 02:00,
# +2 → +1 on 2026-10-25 at 03:00).

BERLIN = ZoneInfo("Europe/Berlin")


def test_around_the_clock_counts_elapsed_time_across_a_dst_change(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    start = datetime.datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    due = add_business_time(start, 24 * 60, business_hours=False)
    # 24 hours later the wall clock shows 13:00: an hour was skipped in the night.
    assert due.astimezone(BERLIN) == datetime.datetime(2026, 3, 29, 13, tzinfo=BERLIN)
    assert business_minutes_between(start, due, business_hours=False) == 24 * 60


def test_business_hours_follow_the_local_wall_clock_across_a_dst_change(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    friday = datetime.datetime(2026, 3, 27, 17, tzinfo=BERLIN)  # CET
    monday = datetime.datetime(2026, 3, 30, 10, tzinfo=BERLIN)  # CEST
    assert business(friday, 120) == monday
    assert business_minutes_between(friday, monday, business_hours=True) == 120


def test_a_period_spanning_the_autumn_change_lasts_an_hour_longer(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    BusinessHours.objects.all().delete()
    BusinessHours.objects.create(weekday=6, opens=datetime.time(0), closes=datetime.time(5))
    sunday = datetime.date(2026, 10, 25)
    opens = datetime.datetime.combine(sunday, datetime.time(0), tzinfo=BERLIN)
    closes = datetime.datetime.combine(sunday, datetime.time(5), tzinfo=BERLIN)
    assert business_minutes_between(opens, closes, business_hours=True) == 6 * 60
    assert business(opens, 6 * 60) == closes


# business_minutes_between


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        pytest.param(at(9, 10), at(9, 11, 15), 75, id="inside a period"),
        pytest.param(at(9, 11), at(9, 14), 90, id="across the lunch break"),
        pytest.param(at(6, 17), at(9, 10), 120, id="over the weekend"),
        pytest.param(at(7, 8), at(8, 20), 0, id="on the weekend"),
        pytest.param(at(9, 0), at(10, 0), DAY, id="midnight to midnight"),
        pytest.param(at(9, 0), at(16, 0), 5 * DAY, id="a week"),
        pytest.param(at(9, 14), at(9, 10), 0, id="end before start"),
    ],
)
def test_business_minutes_between_counts_open_time_only(start, end, minutes):
    assert business_minutes_between(start, end, business_hours=True) == minutes


def test_minutes_between_around_the_clock_is_elapsed_time():
    assert business_minutes_between(at(7, 8), at(7, 11, 30), business_hours=False) == 210
    assert business_minutes_between(at(7, 11), at(7, 8), business_hours=False) == 0


# level_for


def ticket(
    ticket_type: str = Ticket.Type.REQUEST, priority: int = Ticket.Priority.NORMAL, **fields
) -> Ticket:
    return Ticket(ticket_type=ticket_type, priority=priority, **fields)


def test_a_type_with_its_own_level_uses_it():
    level = level_for(ticket(Ticket.Type.COMPLAINT, Ticket.Priority.URGENT))
    assert (level.ticket_type, level.first_response_minutes, level.resolution_minutes) == (
        "complaint",
        60,
        240,
    )


def test_other_types_use_the_priority_level_for_any_type():
    level = level_for(ticket(Ticket.Type.REQUEST, Ticket.Priority.URGENT))
    assert (level.ticket_type, level.first_response_minutes, level.resolution_minutes) == ("", 120, 480)
    assert level_for(ticket(Ticket.Type.COMPLAINT, Ticket.Priority.NORMAL)).ticket_type == ""


def test_a_priority_without_a_level_has_no_targets():
    ServiceLevel.objects.filter(priority=Ticket.Priority.LOW).delete()
    low = ticket(priority=Ticket.Priority.LOW, first_response_due=at(9, 10), resolution_due=at(9, 11))
    assert level_for(low) is None
    assert sla_apply(low, at(9, 9)) is None
    assert (low.first_response_due, low.resolution_due) == (None, None)


# sla_apply


def test_urgent_complaint_is_due_around_the_clock():
    complaint = ticket(Ticket.Type.COMPLAINT, Ticket.Priority.URGENT)
    sla_apply(complaint, at(6, 17, 50))
    assert complaint.first_response_due == at(6, 18, 50)
    assert complaint.resolution_due == at(6, 21, 50)


def test_normal_request_opened_friday_evening_is_due_in_business_hours():
    request = ticket()  # normal: respond within 8 business hours, resolve within 3 days' minutes
    sla_apply(request, at(6, 17, 50))
    # 10 minutes on Friday, 450 on Monday, 20 on Tuesday.
    assert request.first_response_due == at(10, 9, 20)
    # 4320 minutes: 10 on Friday, nine whole days (4050), 260 on Friday the 20th.
    assert request.resolution_due == at(20, 14, 50)


def test_apply_keeps_the_first_response_due_of_an_answered_ticket():
    answered = ticket(first_responded_at=at(9, 9, 30), first_response_due=at(9, 10))
    sla_apply(answered, at(11, 10))
    assert answered.first_response_due == at(9, 10)
    assert answered.resolution_due == business(at(11, 10), 3 * 24 * 60)


def test_apply_keeps_breach_marks():
    missed = ticket(response_breached_at=at(9, 11), resolution_breached_at=at(10, 11))
    sla_apply(missed, at(11, 10))
    assert (missed.response_breached_at, missed.resolution_breached_at) == (at(9, 11), at(10, 11))


def test_apply_while_waiting_restarts_the_pause():
    waiting = ticket(Ticket.Type.COMPLAINT, Ticket.Priority.URGENT, paused_at=at(9, 8))
    sla_apply(waiting, at(9, 10))
    assert waiting.paused_at == at(9, 10)
    sla_resume(waiting, at(9, 10, 30))
    assert waiting.first_response_due == at(9, 11, 30)


# first response, pause and resume


def test_first_response_is_recorded_once():
    request = ticket()
    assert sla_first_response(request, at(9, 10)) is True
    assert sla_first_response(request, at(9, 11)) is False
    assert request.first_responded_at == at(9, 10)


def test_pause_keeps_the_first_pause():
    request = ticket()
    assert sla_pause(request, at(9, 10)) is True
    assert sla_pause(request, at(9, 11)) is False
    assert request.paused_at == at(9, 10)


def test_resume_around_the_clock_moves_both_due_times_by_the_time_waited():
    urgent = ticket(priority=Ticket.Priority.URGENT)
    sla_apply(urgent, at(7, 10))  # a Saturday: the clock runs
    assert (urgent.first_response_due, urgent.resolution_due) == (at(7, 12), at(7, 18))
    sla_pause(urgent, at(7, 10, 30))

    assert sla_resume(urgent, at(7, 11, 15)) == timedelta(minutes=45)

    assert (urgent.first_response_due, urgent.resolution_due) == (at(7, 12, 45), at(7, 18, 45))
    assert urgent.paused_at is None


def test_resume_in_business_hours_adds_only_the_business_time_waited():
    request = ticket()
    sla_apply(request, at(9, 10))
    assert request.first_response_due == at(10, 10, 30)  # 390 minutes on Monday, 90 on Tuesday
    resolution_due = request.resolution_due
    sla_pause(request, at(9, 17))  # waits on the customer overnight

    assert sla_resume(request, at(10, 10)) == timedelta(minutes=120)  # 17:00–18:00, 09:00–10:00

    assert request.first_response_due == at(10, 14)  # 10:30 + 90 before lunch + 30 after
    assert request.resolution_due == business(resolution_due, 120)


def test_resume_after_a_weekend_wait_adds_nothing_in_business_hours():
    request = ticket()
    sla_apply(request, at(6, 10))
    due = request.first_response_due
    sla_pause(request, at(6, 18))
    sla_resume(request, at(9, 9))
    assert request.first_response_due == due


def test_resume_leaves_the_first_response_due_of_an_answered_ticket():
    request = ticket(priority=Ticket.Priority.URGENT)
    sla_apply(request, at(9, 10))
    sla_first_response(request, at(9, 10, 5))
    sla_pause(request, at(9, 11))
    sla_resume(request, at(9, 12))
    assert request.first_response_due == at(9, 12)
    assert request.resolution_due == at(9, 19)


def test_resume_without_a_pause_changes_nothing():
    request = ticket()
    sla_apply(request, at(9, 10))
    due = (request.first_response_due, request.resolution_due)
    assert sla_resume(request, at(9, 11)) == timedelta(0)
    assert (request.first_response_due, request.resolution_due) == due
