"""Satisfaction surveys (满意度) and purchases.

- ``/s/<token>/``: the public survey page, no login (a customer on a phone): the company's name,
  the ticket's number and subject (nothing else of theirs or anyone's), a 1–5 score and a comment,
  one answer; expired and answered links get a clear page, unknown ones a 404, and each address
  may ask ``SURVEY_RATE_LIMIT`` times per ``SURVEY_RATE_WINDOW_MINUTES`` (then 429);
- ``service/surveys/``: the results for managers (average per quarter and kind, distribution,
  latest comments), within scope;
- ``service/tickets/<pk>/survey/resend/``: a new link for a ticket's unanswered survey, shown once;
- ``service/customers/<pk>/purchases/new/``: record a purchase (plans the after-sales call); the
  customer page's "Purchases" panel lists them.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import DomainError
from customers.selectors import customer_get
from service.forms_surveys import PurchaseForm, SurveyAnswerForm, SurveyFilterForm
from service.selectors_surveys import (
    customer_purchases,
    recent_periods,
    survey_results,
    ticket_survey_for_resend,
)
from service.services import surveys as survey_services
from service.services.aftersales import purchase_record

logger = logging.getLogger(__name__)

VIEW_SURVEYS = "service.view_surveyinvitation"
ADD_PURCHASE = "service.add_purchase"
VIEW_PURCHASE = "service.view_purchase"
RESEND = "service.change_ticket"


# --- The public survey page ------------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    """The caller's address, trusting X-Forwarded-For only where login throttling does."""
    for header in settings.AXES_IPWARE_META_PRECEDENCE_ORDER:
        if value := request.META.get(header, "").split(",")[0].strip():
            return value
    return "unknown"


def _rate_limited(request: HttpRequest) -> bool:
    """A counter per address and window in the cache; a cache that is down lets callers through
    (the page stays usable; tokens are unguessable anyway)."""
    window = settings.SURVEY_RATE_WINDOW_MINUTES * 60
    bucket = int(timezone.now().timestamp()) // window
    key = f"survey-rate:{_client_address(request)}:{bucket}"
    try:
        cache.add(key, 0, timeout=window)
        count = cache.incr(key)
    except Exception:
        logger.warning("The cache is unavailable; the survey page is not rate-limited", exc_info=True)
        return False
    return count > settings.SURVEY_RATE_LIMIT


def _closed(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    context = {"reason": reason, "company": survey_services.company_name()}
    response = TemplateResponse(request, "service/survey_closed.html", context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    if status == 429:
        response["Retry-After"] = str(settings.SURVEY_RATE_WINDOW_MINUTES * 60)
    return response


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    if _rate_limited(request):
        return _closed(request, "limited", 429)
    invitation = survey_services.survey_by_token(token)
    if invitation is None:
        return _closed(request, "unknown", 404)
    now = timezone.now()
    state = survey_services.survey_state(invitation, now)
    if state == "answered":
        return _closed(request, "answered", 200)
    if state == "expired":
        return _closed(request, "expired", 410)
    form = SurveyAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey_services.survey_answer(
                invitation, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"], now=now
            )
        except survey_services.SurveyClosed as closed:
            return _closed(request, closed.reason, 200 if closed.reason == "answered" else 410)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _closed(request, "thanks", 200)
    context = {
        "form": form,
        "invitation": invitation,
        "ticket": invitation.ticket,
        "company": survey_services.company_name(),
    }
    response = TemplateResponse(request, "service/survey_answer.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- Results for managers --------------------------------------------------------------------


@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW_SURVEYS)
    form = SurveyFilterForm(request.GET or None, periods=recent_periods(timezone.now()))
    period = kind = ""
    if form.is_valid():
        period, kind = form.cleaned_data["period"], form.cleaned_data["kind"]
    results = survey_results(user, period=period, kind=kind)
    context = {"form": form, "results": results, "low_score": settings.SURVEY_LOW_SCORE}
    return TemplateResponse(request, "service/survey_results.html", context)


@require_POST
def survey_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """A new link for the ticket's unanswered survey; the page shows it once (only its hash is
    kept), so the agent can copy it into a chat or text message."""
    user = request.user
    invitation = ticket_survey_for_resend(user, pk)
    if invitation is None:
        raise Http404
    access.require(user, RESEND)
    ticket = invitation.ticket
    try:
        link = survey_services.survey_resend(invitation, actor=user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(ticket)
    return TemplateResponse(request, "service/survey_link.html", {"ticket": ticket, "link": link})


# --- Purchases -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def purchase_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    user = request.user
    customer = customer_get(user, customer_pk)
    access.require(user, ADD_PURCHASE)
    if request.method == "POST":
        form = PurchaseForm(request.POST)
        if form.is_valid():
            try:
                purchase_record(actor=user, customer=customer, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request,
                    _("Purchase recorded; the after-sales call is planned a week after it."),
                )
                return redirect(customer)
    else:
        form = PurchaseForm(initial={"purchased_on": timezone.localdate()})
    return TemplateResponse(request, "service/purchase_form.html", {"form": form, "customer": customer})


def customer_purchases_panel(customer, user) -> dict:
    """The customer page's "Purchases" (registered in customers.hooks by ServiceConfig.ready())."""
    return customer_purchases(customer) | {"can_add_purchase": user.has_perm(ADD_PURCHASE)}


urlpatterns = [
    path("s/<str:token>/", survey_answer, name="survey-answer"),
    path("service/surveys/", survey_list, name="survey-list"),
    path("service/tickets/<int:pk>/survey/resend/", survey_resend, name="survey-resend"),
    path("service/customers/<int:customer_pk>/purchases/new/", purchase_create, name="purchase-create"),
]
