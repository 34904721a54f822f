from functools import cache

from django.http import HttpRequest

from accounts import notifications


def notifications_bell(request: HttpRequest) -> dict[str, object]:
    """The bell's unread count: one query, and only on pages that show it (it is lazy)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": cache(lambda: notifications.unread_count(user))}
