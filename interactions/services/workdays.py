"""Working days: not a Saturday or Sunday, nor a day of the holiday table (interactions.Holiday,
kept by the administrators). Make-up working days (调休) are not known, so they count as weekends.

Used by the after-sales calls of won opportunities (opportunities.services.aftersales) and of
purchases entered by hand (service.services.aftersales), and by the service app's improvement
tasks after a low satisfaction score.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone

from interactions.models import Holiday

LOOKAHEAD = 30  # holidays looked up past the target day (a week-long 春节 break fits easily)


def next_working_day(day: datetime.date) -> datetime.date:
    """``day`` or the first day after it that is neither a weekend nor in the holiday table
    (one query)."""
    holidays = set(
        Holiday.objects.filter(
            active=True, date__gte=day, date__lte=day + datetime.timedelta(days=LOOKAHEAD)
        ).values_list("date", flat=True)
    )
    while day.weekday() >= 5 or day in holidays:
        day += datetime.timedelta(days=1)
    return day


def working_day_at(
    moment: datetime.datetime, *, days: int, hour: int, time_zone: str = ""
) -> datetime.datetime:
    """``hour`` o'clock (in ``time_zone``, default TIME_ZONE) on the first working day at least
    ``days`` calendar days after ``moment``'s local day."""
    zone = zoneinfo.ZoneInfo(time_zone or settings.TIME_ZONE)
    day = next_working_day(timezone.localtime(moment, zone).date() + datetime.timedelta(days=days))
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)


def working_day_on(day: datetime.date, *, days: int, hour: int, time_zone: str = "") -> datetime.datetime:
    """Like ``working_day_at`` for a calendar ``day`` (a purchase date, say)."""
    zone = zoneinfo.ZoneInfo(time_zone or settings.TIME_ZONE)
    target = next_working_day(day + datetime.timedelta(days=days))
    return datetime.datetime.combine(target, datetime.time(hour), tzinfo=zone)
