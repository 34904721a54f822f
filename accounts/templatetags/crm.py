import json
import math
from datetime import timedelta
from decimal import Decimal
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
def nav_items(context) -> list[tuple[navigation.NavItem, bool]]:
    """The entries the user may open, each with whether it is the current page."""
    request = context["request"]
    items = navigation.items_for(request.user)
    match = request.resolver_match
    active = navigation.active_item(items, match.view_name, match.namespace) if match else None
    return [(item, item is active) for item in items]


@register.filter
def whole_minutes(duration: timedelta | None) -> int | str:
    """A lockout's length in minutes, rounded up (used by registration/locked_out.html)."""
    if not duration:
        return ""
    return max(1, math.ceil(duration.total_seconds() / 60))


@register.filter
def money(amount: Decimal | float | int | None, currency: str = "CNY") -> str:
    """An amount in its currency, grouped by thousands: ``¥650,000`` or ``74,477.00 EUR``."""
    if amount is None or amount == "":
        return ""
    if not currency or currency == "CNY":
        return yuan(amount)
    return f"{Decimal(amount):,.2f} {currency}"


@register.filter
def yuan(amount: Decimal | float | int | None) -> str:
    """``650000`` → ``¥650,000``; ``1234.5`` → ``¥1,234.50``. Grouped by thousands in every
    language: zh-hans formats have no separator, but amounts are read that way in sales."""
    if amount is None or amount == "":
        return ""
    text = f"{Decimal(amount):,.2f}"
    return "¥" + (text[:-3] if text.endswith(".00") else text)
