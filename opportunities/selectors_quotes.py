"""Reads of the price list and quotes: every product and quote page starts from these.

Quotes follow their opportunity's scope (``Quote.objects.visible_to``) and disappear with a
deleted or merged-away customer, like the opportunity itself. The price list is not scoped:
whoever may view products sees all of them.
"""

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.shortcuts import get_object_or_404

from customers.models import Contact
from opportunities.models import Opportunity, Product, Quote, QuoteLine, QuoteQuerySet

if TYPE_CHECKING:
    from opportunities.filters_quotes import ProductFilter, QuoteFilter


# Products ------------------------------------------------------------------------------------


def product_get(pk: int) -> Product:
    return get_object_or_404(Product, pk=pk)


def product_filter(*, params: QueryDict) -> "ProductFilter":
    from opportunities.filters_quotes import ProductFilter

    return ProductFilter(params, queryset=Product.objects.all())


def product_choices(*, include: set[int] | None = None) -> list[Product]:
    """Products a quote line may name, by name: the active ones, plus ``include`` (products a
    draft already quotes, which stay even when taken off the price list). One query."""
    condition = Q(active=True) | Q(pk__in=include) if include else Q(active=True)
    return list(Product.objects.filter(condition).order_by("name", "pk"))


# Quotes --------------------------------------------------------------------------------------


def quotes_visible_to(user) -> QuoteQuerySet:
    """Quotes of opportunities in the user's scope whose customer is alive."""
    return Quote.objects.visible_to(user).filter(opportunity__customer__deleted_at__isnull=True)


def quote_rows(queryset: QuerySet[Quote]) -> QuerySet[Quote]:
    """What each row of the quote list shows, in one query (the order, if any, is joined too)."""
    return queryset.select_related(
        "opportunity", "opportunity__customer", "opportunity__owner", "contact", "order"
    )


def quote_get(user, pk: int) -> Quote:
    """The quote with everything its page shows, or 404 when it is outside the user's scope."""
    return get_object_or_404(
        quote_rows(quotes_visible_to(user)).select_related("created_by", "opportunity__stage"), pk=pk
    )


def quote_lines(quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product").order_by("position", "pk"))


def quote_versions(quote: Quote) -> QuerySet[Quote]:
    """Every version of the quote's number, newest first (served by the number/version index)."""
    return (
        Quote.objects.filter(number=quote.number)
        .order_by("-version")
        .only("pk", "number", "version", "status", "total", "currency", "created_at", "superseded_at")
    )


def quote_filter(*, actor, params: QueryDict) -> "QuoteFilter":
    from opportunities.filters_quotes import QuoteFilter

    return QuoteFilter(params, queryset=quotes_visible_to(actor), actor=actor)


def opportunity_quotes(opportunity: Opportunity) -> list[Quote]:
    """The opportunity page's quotes: the newest version of each number, newest first (served by
    the quote_opportunity index), with their order if one was made. One query."""
    return list(
        Quote.objects.filter(opportunity=opportunity, superseded_at__isnull=True)
        .select_related("order")
        .order_by("-created_at", "-pk")
    )


def contact_choices(opportunity: Opportunity) -> QuerySet[Contact]:
    """Contacts the quote may be addressed to: the opportunity's customer's."""
    return Contact.objects.filter(customer_id=opportunity.customer_id).order_by("-is_primary", "name")


def default_contact(opportunity: Opportunity) -> Contact | None:
    return contact_choices(opportunity).filter(is_primary=True).first()
