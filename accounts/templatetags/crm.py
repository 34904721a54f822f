import json
import math
from datetime import timedelta
from functools import cache

from django import template
from django.conf import settings
from django.templatetags.static import static

from accounts import navigation

register = template.Library()


@cache
def _vendor_manifest() -> dict[str, str]:
    path = settings.BASE_DIR / "static" / "vendor" / "manifest.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RuntimeError(
            "static/vendor/ is missing: run `make static` (npm ci + vendor-static.mjs)."
        ) from None


@register.simple_tag
def vendor(library: str, filename: str) -> str:
    """The URL of a file of a pinned front-end library, e.g. {% vendor "bootstrap" "bootstrap.min.css" %}."""
    return static(f"{_vendor_manifest()[library]}/{filename}")


@register.simple_tag(takes_context=True)
def nav_items(context) -> list[navigation.NavItem]:
    return navigation.items_for(context["request"].user)


@register.filter
def whole_minutes(duration: timedelta | None) -> int | str:
    """A lockout's length in minutes, rounded up (used by registration/locked_out.html)."""
    if not duration:
        return ""
    return max(1, math.ceil(duration.total_seconds() / 60))
