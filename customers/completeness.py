"""Which of SPEC 2's required profile fields a customer still lacks (建档审核).

The form insists only on what a rep always knows (kind, name, a phone or e-mail, the source);
the rest of SPEC 2's required fields may follow within ``CUSTOMER_REVIEW_HOURS``. This is the
one definition of "complete" that the form's markers, the customer page, the lead's review
queue and the incomplete-profile sweep all read.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

# Field name → label when missing. Phone/e-mail and the primary contact are checked separately.
ENTERPRISE_REQUIRED = ["name", "industry", "employee_band", "needs", "source", "first_contact_date"]
INDIVIDUAL_REQUIRED = ["name", "gender", "occupation", "needs", "source", "first_contact_date"]


def required_fields(kind: str) -> list[str]:
    return ENTERPRISE_REQUIRED if kind == Customer.Kind.ENTERPRISE else INDIVIDUAL_REQUIRED


_NOT_GIVEN = object()


def missing_information(customer: Customer, *, primary_contact=_NOT_GIVEN) -> list[Promise | str]:
    """Labels of what is missing, in the reader's language; empty when the profile is complete.

    Pass ``primary_contact`` (the prefetched primary contact, or None when there is none) to save
    a query on lists. Enterprise profiles need one with a name and a title.
    """
    missing: list[Promise | str] = []
    for name in required_fields(customer.kind):
        if getattr(customer, name) in (None, ""):
            missing.append(Customer._meta.get_field(name).verbose_name)
    if not customer.phone and not customer.email:
        missing.append(_("phone or e-mail"))
    if customer.kind == Customer.Kind.INDIVIDUAL and customer.age is None and customer.birthday is None:
        missing.append(_("age or birthday"))
    if customer.kind == Customer.Kind.ENTERPRISE:
        if primary_contact is _NOT_GIVEN:
            primary_contact = customer.contacts.filter(is_primary=True).first() if customer.pk else None
        if primary_contact is None:
            missing.append(_("primary contact"))
        elif not primary_contact.title:
            missing.append(_("title of the primary contact"))
    return missing
