"""Customers with names, phones and e-mails that never collide by chance (the merge tests).

Faker's Chinese company names repeat often enough to make accidental duplicates; the dedupe
tests must only find the duplicates they create on purpose.
"""

import itertools

from customers import normalize
from customers.models import Contact, Customer
from tests.factories.customers import ContactFactory, CustomerFactory

_serial = itertools.count(1)


def unique_customer(owner, **fields) -> Customer:
    n = next(_serial)
    values = {"name": f"独特测试客户{n}号", "phone": f"139{n:08d}", "email": f"unique{n}@example.com"}
    return CustomerFactory(owner=owner, **{**values, **fields})


def unique_contact(customer: Customer, **fields) -> Contact:
    n = next(_serial)
    values = {"name": f"联系人{n}", "phone": f"137{n:08d}", "email": f"contact{n}@example.com"}
    contact = ContactFactory(customer=customer, **{**values, **fields})
    # ContactFactory's own key hook is undone by factory_boy's save after post-generation
    # (its Meta lacks skip_postgeneration_save); set the keys as contact_create does.
    contact.phone_key = normalize.phone_key(contact.phone)
    contact.email_key = normalize.email_key(contact.email)
    Contact.objects.filter(pk=contact.pk).update(phone_key=contact.phone_key, email_key=contact.email_key)
    return contact
