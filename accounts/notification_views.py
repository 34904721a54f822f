"""The notifications page (the bell's target): only ever the user's own notifications.

Marking read is a POST (never on GET); htmx swaps the row or the list in place, and without
JavaScript the same forms post and come back to the page.
"""

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts import notifications

PER_PAGE = 25


def _page(request: HttpRequest) -> Page:
    return Paginator(notifications.notifications_of(request.user), PER_PAGE).get_page(request.GET.get("page"))


def _list_response(request: HttpRequest, template: str) -> HttpResponse:
    unread = notifications.unread_count(request.user)
    # The bell shows the same count: passing it saves the context processor its query.
    context = {"page": _page(request), "unread": unread, "unread_notifications": unread}
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    return _list_response(request, "accounts/notification_list.html")


@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark read and go to what it is about; only a path inside the CRM, never another site."""
    notification = get_object_or_404(notifications.notifications_of(request.user), pk=pk)
    notifications.notification_mark_read(user=request.user, notification=notification)
    url = notification.url
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=set()):
        return redirect(url)
    return redirect("accounts:notification-list")


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(notifications.notifications_of(request.user), pk=pk)
    notifications.notification_mark_read(user=request.user, notification=notification)
    if request.htmx:
        # The row, and the navbar's bell swapped out of band with the new count.
        context = {"notification": notification, "row_only": True}
        response = TemplateResponse(request, "accounts/notification_list.html#row", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    return redirect("accounts:notification-list")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications.notifications_mark_all_read(user=request.user)
    if request.htmx:
        return _list_response(request, "accounts/notification_list.html#list")
    return redirect("accounts:notification-list")
