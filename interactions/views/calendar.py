"""The task calendar (任务日历): a month grid or a week of the user's tasks, or for managers their
team's, with prev / next / today links that are plain URLs (``?view=week&date=2026-12-01``)."""

import calendar as pycalendar
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from accounts.http import htmx_response
from interactions.selectors_calendar import calendar_days, calendar_subject, calendar_subjects

VIEW_TASK = "interactions.view_followuptask"
MONTH, WEEK = "month", "week"
# A month cell shows this many tasks and "+N more"; a week column has room for more.
PER_DAY = {MONTH: 3, WEEK: 12}


def _month_start(day: datetime.date, months: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _url(view: str, day: datetime.date, who: str) -> str:
    params = {"view": view, "date": day.isoformat()}
    if who:
        params["who"] = who
    return f"{reverse('interactions:calendar')}?{urlencode(params)}"


@require_GET
def task_calendar(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW_TASK)
    view = WEEK if request.GET.get("view") == WEEK else MONTH
    who = request.GET.get("who", "")
    subject = calendar_subject(user, who)
    today = timezone.localdate()
    day = today
    if raw := request.GET.get("date"):
        try:
            day = datetime.date.fromisoformat(raw)
        except ValueError:
            messages.error(
                request, _("“%(date)s” is not a date (YYYY-MM-DD); showing today.") % {"date": raw}
            )
    if view == MONTH:
        weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(day.year, day.month)
        previous, following = _month_start(day, -1), _month_start(day, 1)
    else:
        monday = day - datetime.timedelta(days=day.weekday())
        weeks = [[monday + datetime.timedelta(days=n) for n in range(7)]]
        previous, following = monday - datetime.timedelta(days=7), monday + datetime.timedelta(days=7)
    days = calendar_days(user, subject, weeks[0][0], weeks[-1][-1], per_day=PER_DAY[view])
    list_url = reverse("interactions:task-list")
    for cell in days.values():
        params = {**subject.list_params, "status": "", "due_from": cell.date, "due_to": cell.date}
        cell.list_url = f"{list_url}?{urlencode(params)}"
    shown = "" if subject.value == "me" else subject.value
    context = {
        "view": view,
        "day": day,
        "today": today,
        "now": timezone.now(),
        "weeks": [[days[date] for date in week] for week in weeks],
        "weekdays": weeks[0],
        "subject": subject,
        "subjects": calendar_subjects(user),
        "previous_url": _url(view, previous, shown),
        "next_url": _url(view, following, shown),
        "today_url": _url(view, today, shown),
        "month_url": _url(MONTH, day, shown),
        "week_url": _url(WEEK, day, shown),
    }
    template = "interactions/calendar.html"
    return htmx_response(request, f"{template}#calendar" if request.htmx else template, context)


urlpatterns = [path("tasks/calendar/", task_calendar, name="calendar")]
