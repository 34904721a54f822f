"""Reads of customer imports: an import is visible to the user who uploaded it, and to no one else."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from customers.models import CustomerImport


def imports_visible_to(user) -> QuerySet[CustomerImport]:
    if not getattr(user, "is_authenticated", False):
        return CustomerImport.objects.none()
    return CustomerImport.objects.filter(created_by=user)


def import_get(user, pk: int) -> CustomerImport:
    """The import, or 404 when someone else uploaded it."""
    return get_object_or_404(imports_visible_to(user), pk=pk)
