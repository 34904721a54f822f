"""Badges and small pieces shared by every customer page."""

from django import template
from django.utils.html import format_html

from customers.models import Customer

register = template.Library()

_CLASS_STYLE = {"A": "text-bg-danger", "B": "text-bg-warning", "C": "text-bg-secondary"}
_STAGE_STYLE = {
    "potential": "text-bg-light border",
    "intent": "text-bg-info",
    "deal": "text-bg-success",
    "lost": "text-bg-dark",
}


@register.simple_tag
def value_class_badge(customer: Customer) -> str:
    return format_html(
        '<span class="badge {}" title="{}">{}</span>',
        _CLASS_STYLE.get(customer.value_class, "text-bg-secondary"),
        Customer._meta.get_field("value_class").verbose_name,
        customer.get_value_class_display(),
    )


@register.simple_tag
def stage_badge(customer: Customer) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        _STAGE_STYLE.get(customer.stage, "text-bg-light"),
        customer.get_stage_display(),
    )
