from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import exports, health, workbench
from accounts.forms import PreferencesForm
from accounts.models import Export
from accounts.services import user_update_preferences


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The workbench (我的工作台): a compact role and team line, then the panels the apps register
    (accounts.workbench) that the user may see; a panel with ``wide`` set spans the page."""
    user = request.user
    wide, narrow = [], []
    for panel in workbench.panels_for(user):
        context = panel.context(request)
        if context is None:
            continue
        html = render_to_string(panel.template_name, {"panel": panel, **context}, request=request)
        (wide if panel.wide else narrow).append(html)
    context = {"role": user.role, "team": user.team, "wide_panels": wide, "workbench_panels": narrow}
    return TemplateResponse(request, "accounts/home.html", context)


def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = user_update_preferences(user=request.user, **form.cleaned_data)
        response = redirect("accounts:preferences")
        _set_language_cookie(response, user.language or translation.get_language())
        messages.success(request, _("Your preferences were saved."))
        return response
    return TemplateResponse(request, "accounts/preferences.html", {"form": form})


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: remembers the choice in a cookie and, when signed in, on the user."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        user_update_preferences(user=request.user, language=language)
    _set_language_cookie(response, language)
    return response


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    result = health.report()
    return JsonResponse(result, status=200 if result["ok"] else 503)


@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    """The user's own exports, with their state and a download link while the file is kept."""
    page = Paginator(exports.exports_of(request.user), 25).get_page(request.GET.get("page"))
    for export in page:
        try:
            export.label = exports.exporter_for(export.kind).label or export.kind
        except LookupError:  # an exporter since removed
            export.label = export.kind
    context = {"page": page, "retention_days": settings.EXPORT_RETENTION_DAYS}
    return TemplateResponse(request, "accounts/export_list.html", context)


@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of one export; htmx polls the progress fragment every second until it finishes."""
    export = exports.export_get(request.user, pk)
    try:
        exporter = exports.exporter_for(export.kind)
    except LookupError:
        label, back_url = export.kind, ""
    else:
        label = exporter.label or export.kind
        back_url = reverse(exporter.back_url_name) if exporter.back_url_name else ""
    context = {
        "export": export,
        "label": label,
        "back_url": back_url,
        "stalled": exports.export_is_stalled(export),
    }
    template = "accounts/export_detail.html#progress" if request.htmx else "accounts/export_detail.html"
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = exports.export_get(request.user, pk)
    if export.status != Export.Status.DONE or not export.file:
        raise Http404
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=export.download_name)
