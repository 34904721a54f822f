"""How the report pages show a KPI: its value by unit, and its change against the period before."""

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.templatetags.crm import yuan
from analytics.base import COUNT, DAYS, HOURS, MONEY, PERCENT, SCORE, Figure

register = template.Library()

NONE = "—"  # a rate over nothing, or a figure that cannot be computed


def _number(value: float | Decimal, places: int) -> str:
    """Grouped by thousands in every language, as the money amounts of the app are."""
    text = f"{Decimal(str(value)):,.{places}f}"
    if places and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@register.filter
def kpi(value: int | float | Decimal | None, unit: str = COUNT) -> str:
    """``0.256|kpi:"percent"`` → ``25.6%``; ``None`` → ``—``; money as ``¥1,234.50``."""
    if value is None or value == "":
        return NONE
    if not isinstance(value, int | float | Decimal):
        return str(value)  # a label (stage name, source, owner) in a table cell
    if unit == PERCENT:
        return f"{_number(float(value) * 100, 1)}%"
    if unit == MONEY:
        return yuan(value)
    if unit == HOURS:
        return _("%(value)s h") % {"value": _number(value, 1)}
    if unit == DAYS:
        return _("%(value)s d") % {"value": _number(value, 1)}
    if unit == SCORE:
        return _number(value, 2)
    return _number(value, 0 if isinstance(value, int) else 2)


def affixes(unit: str) -> tuple[str, str]:
    """What goes before and after a bare number of ``unit`` (chart axes and tooltips)."""
    if unit == MONEY:
        return "¥", ""
    if unit == PERCENT:
        return "", "%"
    if unit in (HOURS, DAYS):
        text = _("%(value)s h") if unit == HOURS else _("%(value)s d")
        prefix, _placeholder, suffix = text.partition("%(value)s")
        return prefix, suffix
    return "", ""


@register.simple_tag
def kpi_change(figure: Figure) -> SafeString:
    """The change against the previous period: an arrow and the relative change, green when it
    went the good way (up, or down for the figures where ``lower_is_better``), red otherwise."""
    previous = _("Previous period: %(value)s") % {"value": kpi(figure.previous, figure.unit)}
    change = figure.change
    if change is None:
        return format_html(
            '<span class="kpi-change text-body-secondary" title="{}">{}</span>', previous, NONE
        )
    if change == 0:
        return format_html(
            '<span class="kpi-change text-body-secondary" title="{}">'
            '<i class="bi bi-dash" aria-hidden="true"></i> 0%'
            '<span class="visually-hidden"> ({})</span></span>',
            previous,
            previous,
        )
    good = (change > 0) != figure.lower_is_better
    arrow = "arrow-up" if change > 0 else "arrow-down"
    return format_html(
        '<span class="kpi-change {}" data-good="{}" title="{}">'
        '<i class="bi bi-{}" aria-hidden="true"></i> {}{}%<span class="visually-hidden"> ({})</span></span>',
        "text-success" if good else "text-danger",
        "true" if good else "false",
        previous,
        arrow,
        "+" if change > 0 else "−",
        _number(abs(change) * 100, 1),
        previous,
    )
