"""The service-level overview (服务时效) for service managers and administrators: the targets per
priority and type, the business hours the clock counts, and — within the reader's scope — how
many running tickets are past due or due soon, linking to the desk's "breaching soon" tab.

The targets and hours are edited in admin (link shown to those who may)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from accounts import access
from service.models import BusinessHours, ServiceLevel
from service.models.setup import Priority
from service.selectors import tickets_visible_to
from service.services.alerts import due_counts

VIEW = "service.view_servicelevel"


def duration_label(minutes: int) -> str:
    """ "2 hours", "90 minutes": targets are set in minutes, read in hours."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


@require_GET
def sla_overview(request: HttpRequest) -> HttpResponse:
    access.require(request.user, VIEW)
    now = timezone.now()
    counts = due_counts(tickets_visible_to(request.user), now=now)
    levels = [
        {
            "level": level,
            "first_response": duration_label(level.first_response_minutes),
            "resolution": duration_label(level.resolution_minutes),
        }
        for level in ServiceLevel.objects.order_by("-priority", "ticket_type")
    ]
    empty = {"response_overdue": 0, "resolution_overdue": 0, "due_soon": 0}
    priorities = [
        {"value": value, "label": label, **counts.get(value, empty)}
        for value, label in sorted(Priority.choices, reverse=True)
    ]
    return TemplateResponse(
        request,
        "service/sla_overview.html",
        {
            "levels": levels,
            "hours": list(BusinessHours.objects.order_by("weekday", "opens")),
            "priorities": priorities,
            "warning_minutes": settings.SLA_WARNING_MINUTES,
            "time_zone": settings.TIME_ZONE,
            "title": _("Service levels"),
        },
    )


urlpatterns = [
    path("service/levels/", sla_overview, name="sla-overview"),
]
