"""Quotes (报价单): the list, create (from an opportunity), the quote page, edit a draft, the
printable page, and the status buttons (send, accept, reject, new version).

Scope follows the opportunity: out of scope is 404, in scope without add/change_quote is 403.
"""

import json
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import ConcurrentEditError, DomainError
from accounts.http import htmx_response
from accounts.paging import CappedPaginator
from opportunities.forms_quotes import (
    EDIT_QUOTE_EXTRA,
    NEW_QUOTE_EXTRA,
    QuoteForm,
    line_formset,
    line_initial,
    product_data,
)
from opportunities.models import CENT, Opportunity, Quote
from opportunities.selectors import opportunity_get
from opportunities.selectors_quotes import (
    default_contact,
    product_choices,
    quote_filter,
    quote_get,
    quote_lines,
    quote_rows,
    quote_versions,
)
from opportunities.services import quotes as services

PER_PAGE = 25
VIEW = "opportunities.view_quote"
ADD = "opportunities.add_quote"
CHANGE = "opportunities.change_quote"


# Amount in words (大写金额), as Chinese quotes and contracts print the total in CNY -------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_GROUP_UNITS = ["", "万", "亿", "万亿"]


def _group_words(number: int) -> str:
    """0 < number < 10000, e.g. 1010 → 壹仟零壹拾."""
    words, zero = "", False
    for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
        digit = number // 10**power % 10
        if digit == 0:
            zero = bool(words)
            continue
        if zero:
            words += "零"
            zero = False
        words += _DIGITS[digit] + unit
    return words


def _integer_words(number: int) -> str:
    groups = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    words, gap = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = bool(words)
            continue
        if words and (gap or group < 1000):
            words += "零"
        words += _group_words(group) + _GROUP_UNITS[index]
        gap = False
    return words


def cny_in_words(amount: Decimal) -> str:
    """``Decimal("1409.05")`` → 壹仟肆佰零玖元零伍分; whole yuan end in 整 (the banks' rules)."""
    cents = int((abs(Decimal(amount))).quantize(CENT) * 100)
    if cents >= 10**18:
        return ""
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    words = "负" if amount < 0 else ""
    if yuan:
        words += _integer_words(yuan) + "元"
    if rest == 0:
        return words + "整" if yuan else "零元整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    return words


# Pages --------------------------------------------------------------------------------------


@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    filterset = quote_filter(actor=user, params=request.GET)
    page = CappedPaginator(quote_rows(filterset.qs), PER_PAGE).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "quotes": page.object_list}
    template = "opportunities/quote_list.html"
    return htmx_response(request, f"{template}#results" if request.htmx else template, context)


def _form_context(form: QuoteForm, formset, products, **extra) -> dict:
    return {
        "form": form,
        "formset": formset,
        "product_data": product_data(products),
        "opportunity": form.opportunity,
        **extra,
    }


@require_http_methods(["GET", "POST"])
def quote_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new quote on opportunity ``pk`` (the opportunity page's "New quote" button)."""
    user = request.user
    opportunity = opportunity_get(user, pk)
    access.require(user, ADD)
    if opportunity.closed_at is not None:
        messages.error(request, _("Quotes are made for open opportunities; reopen this one first."))
        return redirect(opportunity)
    products = product_choices()
    instance = Quote(opportunity=opportunity)
    if request.method == "POST":
        form = QuoteForm(request.POST, instance=instance, opportunity=opportunity)
        formset = line_formset(request.POST, products=products, extra=NEW_QUOTE_EXTRA)
        if form.is_valid() and formset.is_valid():
            try:
                quote = services.quote_create(
                    actor=user, opportunity=opportunity, lines=formset.lines(), **form.header()
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request, _("Quote %(number)s created as a draft.") % {"number": quote.number}
                )
                return redirect(quote)
    else:
        form = QuoteForm(
            instance=instance,
            opportunity=opportunity,
            initial={
                "title": services.default_title(opportunity),
                "contact": default_contact(opportunity),
                "currency": opportunity.currency,
                "rate_to_cny": opportunity.rate_to_cny,
                "tax_rate": services.DEFAULT_TAX_RATE,
                "valid_until": services.default_valid_until(),
            },
        )
        formset = line_formset(products=products, extra=NEW_QUOTE_EXTRA)
    return TemplateResponse(
        request, "opportunities/quote_form.html", _form_context(form, formset, products, quote=None)
    )


@require_http_methods(["GET", "POST"])
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    quote = quote_get(user, pk)
    access.require(user, CHANGE)
    if not quote.is_editable:
        messages.error(request, _("Only a draft can be edited; make a new version to change this quote."))
        return redirect(quote)
    lines = quote_lines(quote)
    products = product_choices(include={line.product_id for line in lines if line.product_id})
    opportunity = quote.opportunity
    if request.method == "POST":
        form = QuoteForm(request.POST, instance=quote, opportunity=opportunity)
        formset = line_formset(request.POST, products=products, extra=EDIT_QUOTE_EXTRA)
        if form.is_valid() and formset.is_valid():
            try:
                quote = services.quote_update(
                    actor=user,
                    quote=quote,
                    lock_version=form.cleaned_data["lock_version"],
                    seen=form.seen_values(),
                    lines=formset.lines(),
                    **form.header(),
                )
            except ConcurrentEditError as error:
                # Keep what they typed; the next save is against what is saved now.
                current = quote_get(user, pk)
                data = request.POST.copy()
                data["lock_version"] = str(current.lock_version)
                data["seen"] = json.dumps(services.quote_snapshot(current, quote_lines(current)))
                form = QuoteForm(data, instance=current, opportunity=opportunity)
                form.is_valid()
                form.add_error(None, error.message)
                quote = current
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Quote %(quote)s saved.") % {"quote": quote})
                return redirect(quote)
    else:
        form = QuoteForm(
            instance=quote, opportunity=opportunity, snapshot=services.quote_snapshot(quote, lines)
        )
        formset = line_formset(products=products, initial=line_initial(lines), extra=EDIT_QUOTE_EXTRA)
    return TemplateResponse(
        request, "opportunities/quote_form.html", _form_context(form, formset, products, quote=quote)
    )


def _actions(user, quote: Quote) -> dict[str, bool]:
    """Which buttons the quote page shows (the services refuse the rest anyway)."""
    can_change = user.has_perm(CHANGE)
    current = quote.superseded_at is None
    opportunity_open = quote.opportunity.closed_at is None
    status = quote.status
    return {
        "can_edit": can_change and quote.is_editable,
        "can_send": can_change and current and opportunity_open and status == Quote.Status.DRAFT,
        "can_decide": can_change and current and status == Quote.Status.SENT,
        "can_accept": can_change and current and opportunity_open and status == Quote.Status.SENT,
        "can_new_version": can_change
        and current
        and opportunity_open
        and status in services.NEW_VERSION_FROM,
    }


@require_GET
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    quote = quote_get(user, pk)
    access.require(user, VIEW)
    context = {
        "quote": quote,
        "opportunity": quote.opportunity,
        "lines": quote_lines(quote),
        "versions": list(quote_versions(quote)),
        "order": getattr(quote, "order", None),
        "total_in_words": cny_in_words(quote.total) if quote.currency == Opportunity.Currency.CNY else "",
        **_actions(user, quote),
    }
    return TemplateResponse(request, "opportunities/quote_detail.html", context)


def company() -> dict[str, str]:
    """The letterhead of the printed quote (settings, see the README's configuration table)."""
    names = ["NAME", "ADDRESS", "PHONE", "EMAIL", "WEBSITE", "TAX_ID", "BANK_ACCOUNT"]
    details = {name.lower(): getattr(settings, f"COMPANY_{name}", "") for name in names}
    details["name"] = details["name"] or getattr(settings, "SITE_NAME", "")
    return details


@require_GET
def quote_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable page: A4, the company's letterhead, no navigation (prints cleanly to PDF)."""
    user = request.user
    quote = quote_get(user, pk)
    access.require(user, VIEW)
    context = {
        "quote": quote,
        "opportunity": quote.opportunity,
        "lines": quote_lines(quote),
        "company": company(),
        "total_in_words": cny_in_words(quote.total) if quote.currency == Opportunity.Currency.CNY else "",
    }
    return TemplateResponse(request, "opportunities/quote_print.html", context)


# Status buttons -----------------------------------------------------------------------------


def _status_action(request: HttpRequest, pk: int, action, success: str) -> HttpResponse:
    user = request.user
    quote = quote_get(user, pk)
    access.require(user, CHANGE)
    try:
        quote = action(actor=user, quote=quote)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success % {"quote": quote})
    return redirect(quote)


@require_POST
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, services.quote_send, _("Quote %(quote)s marked as sent."))


@require_POST
def quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, services.quote_accept, _("Quote %(quote)s marked as accepted."))


@require_POST
def quote_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, services.quote_reject, _("Quote %(quote)s marked as rejected."))


@require_POST
def quote_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy into a new draft version and open it for editing."""
    user = request.user
    quote = quote_get(user, pk)
    access.require(user, CHANGE)
    try:
        new = services.quote_new_version(actor=user, quote=quote)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(quote)
    messages.success(
        request,
        _("Version %(version)d of quote %(number)s created; the previous version is kept.")
        % {"version": new.version, "number": new.number},
    )
    return redirect("opportunities:quote-edit", new.pk)


urlpatterns = [
    path("quotes/", quote_list, name="quote-list"),
    path("opportunities/<int:pk>/quotes/new/", quote_create, name="quote-create"),
    path("quotes/<int:pk>/", quote_detail, name="quote-detail"),
    path("quotes/<int:pk>/edit/", quote_edit, name="quote-edit"),
    path("quotes/<int:pk>/print/", quote_print, name="quote-print"),
    path("quotes/<int:pk>/send/", quote_send, name="quote-send"),
    path("quotes/<int:pk>/accept/", quote_accept, name="quote-accept"),
    path("quotes/<int:pk>/reject/", quote_reject, name="quote-reject"),
    path("quotes/<int:pk>/new-version/", quote_new_version, name="quote-new-version"),
]
