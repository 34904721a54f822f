"""Two small things every app's views need: a template response that may be an htmx fragment,
and the safe "go back to where you came from" address."""

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme


def htmx_response(request: HttpRequest, template: str, context: dict, status: int = 200) -> TemplateResponse:
    """A page or, for htmx, a fragment of it from the same URL: caches must keep them apart."""
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` address posted or asked for (the list with its filters, say) when it is on
    this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
