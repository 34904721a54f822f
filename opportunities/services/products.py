"""Writes of the price list (产品 / 价目表): create, edit, deactivate and reactivate products.

Products are never deleted: old quotes point at them. An inactive product stays on the quotes
that listed it but cannot be quoted again.
"""

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from opportunities.models import Product

EDITABLE_FIELDS = ["code", "name", "unit", "list_price", "description", "active"]


def normalize_code(code: str) -> str:
    """Codes are compared as written in capitals, without surrounding spaces: ``crm-01`` is ``CRM-01``."""
    return (code or "").strip().upper()


def _duplicate_code(code: str) -> DomainError:
    return DomainError(
        _("Product code %(code)s is already used by another product.") % {"code": code}, field="code"
    )


def _check(product: Product) -> None:
    product.code = normalize_code(product.code)
    product.name = (product.name or "").strip()
    product.unit = (product.unit or "").strip()
    product.description = (product.description or "").strip()
    if not product.code:
        raise DomainError(_("Enter a product code."), field="code")
    if not product.name:
        raise DomainError(_("Enter the product's name."), field="name")
    if not product.unit:
        raise DomainError(_("Enter the unit the product is sold in."), field="unit")
    if product.list_price is None or Decimal(product.list_price) < 0:
        raise DomainError(_("Enter a list price of zero or more."), field="list_price")
    taken = Product.objects.filter(code=product.code)
    if product.pk:
        taken = taken.exclude(pk=product.pk)
    if taken.exists():
        raise _duplicate_code(product.code)


def _save(product: Product) -> Product:
    """Save; two managers typing the same new code at once: the unique index decides, and the
    loser gets the same message as a code found taken beforehand."""
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise _duplicate_code(product.code) from None
    return product


@transaction.atomic
def product_create(*, actor, **fields: Any) -> Product:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not a product field: {', '.join(sorted(unknown))}")
    product = Product(**fields)
    _check(product)
    return _save(product)


@transaction.atomic
def product_update(*, actor, product: Product, **changes: Any) -> Product:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not a product field: {', '.join(sorted(unknown))}")
    current = Product.objects.select_for_update().get(pk=product.pk)
    for name, value in changes.items():
        setattr(current, name, value)
    _check(current)
    return _save(current)


@transaction.atomic
def product_set_active(*, actor, product: Product, active: bool) -> Product:
    """Deactivate (instead of deleting) or reactivate a product."""
    current = Product.objects.select_for_update().get(pk=product.pk)
    if current.active != active:
        current.active = active
        current.save(update_fields=["active", "updated_at"])
    return current
