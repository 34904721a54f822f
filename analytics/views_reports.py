"""The scheduled KPI reports' pages: my subscriptions, building a past report by hand, the archive
of snapshots and one snapshot (its stored HTML, never recomputed) with its XLSX.

Subscribing and building need ``analytics.subscribe_report`` (sales managers, directors, service
managers; 403 otherwise); a snapshot outside the viewer's reach is a 404. The forms live here
because ``analytics/forms.py`` is the dashboard filter's.
"""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.errors import DomainError
from analytics.base import ScopeError
from analytics.models import Frequency
from analytics.services import reports as service
from customers.selectors import customer_team_choices

SUBSCRIBE = "analytics.subscribe_report"
ARCHIVE_PAGE_SIZE = 25


class SubscriptionForm(forms.Form):
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=None, required=False, empty_label=_("Every team I may see")
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = customer_team_choices(user)


class BuildForm(SubscriptionForm):
    day = forms.DateField(
        label=_("A day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The report covers the whole week (Monday to Sunday) or month of this day; it must be over."
        ),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["frequency"].label = _("Report")
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("day", today - datetime.timedelta(days=today.weekday() + 7))


def _require_subscriber(request: HttpRequest) -> None:
    if not request.user.has_perm(SUBSCRIBE):
        raise PermissionDenied


def _subscriptions_page(
    request: HttpRequest, form=None, build_form=None, status: int = 200
) -> TemplateResponse:
    user = request.user
    context = {
        "subscriptions": service.subscriptions_of(user),
        "form": form or SubscriptionForm(user=user),
        "build_form": build_form or BuildForm(user=user),
        "has_teams": customer_team_choices(user).exists(),
    }
    return TemplateResponse(request, "analytics/report_subscriptions.html", context, status=status)


def report_subscriptions(request: HttpRequest) -> HttpResponse:
    """My report subscriptions: the list, and the form to add one."""
    _require_subscriber(request)
    if request.method != "POST":
        return _subscriptions_page(request)
    form = SubscriptionForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            service.report_subscription_create(actor=request.user, **form.cleaned_data)
        except ScopeError:
            raise Http404 from None
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("You are subscribed. The next report will come by e-mail."))
            return redirect("analytics:report-subscriptions")
    return _subscriptions_page(request, form=form, status=400)


@require_POST
def report_subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_subscriber(request)
    subscription = get_object_or_404(service.subscriptions_of(request.user), pk=pk)
    service.report_subscription_delete(actor=request.user, subscription=subscription)
    messages.success(request, gettext("The subscription was ended."))
    return redirect("analytics:report-subscriptions")


@require_POST
def report_build(request: HttpRequest) -> HttpResponse:
    """Build (or open, if it exists) the report of a past week or month, within one's reach."""
    _require_subscriber(request)
    form = BuildForm(request.POST, user=request.user)
    if form.is_valid():
        team = form.cleaned_data["team"]
        try:
            snapshot = service.snapshot_build_by_hand(
                actor=request.user,
                kind=form.cleaned_data["frequency"],
                day=form.cleaned_data["day"],
                team_id=team.pk if team else None,
            )
        except ScopeError:
            raise Http404 from None
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect(snapshot)
    return _subscriptions_page(request, build_form=form, status=400)


def report_archive(request: HttpRequest) -> TemplateResponse:
    """The reports archive: the snapshots within the viewer's reach, newest first."""
    paginator = Paginator(service.report_archive(request.user).select_related("built_by"), ARCHIVE_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {"page_obj": page_obj, "can_subscribe": request.user.has_perm(SUBSCRIBE)}
    return TemplateResponse(request, "analytics/report_archive.html", context)


def report_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    snapshot = get_object_or_404(service.report_archive(request.user), pk=pk)
    context = {"snapshot": snapshot, "sections": service.sections_of(snapshot, request.user)}
    return TemplateResponse(request, "analytics/report_detail.html", context)


def report_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    snapshot = get_object_or_404(service.report_archive(request.user), pk=pk)
    content = service.snapshot_xlsx(snapshot, service.sections_of(snapshot, request.user))
    response = HttpResponse(content, content_type=service.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{service.xlsx_filename(snapshot)}"'
    return response
