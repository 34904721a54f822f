"""Who sees a customer's personal data unmasked (SPEC 2: ID-card and bank-card numbers)."""

from customers.models import Customer


def can_see_private_data(user, customer: Customer) -> bool:
    """The owner, and holders of ``customers.view_private_data`` (managers) within their scope.

    Callers have already fetched ``customer`` through the user's scope.
    """
    return customer.owner_id == user.pk or user.has_perm("customers.view_private_data")
