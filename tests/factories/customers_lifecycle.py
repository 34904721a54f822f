"""Customers in the states the lifecycle tests need (review, recycle bin, personal data)."""

import datetime

from django.utils import timezone

from customers.models import Customer
from tests.factories.customers import ContactFactory, CustomerFactory


def incomplete_customer(*, hours_old: float = 0, **fields) -> Customer:
    """A pending enterprise profile lacking employees, needs, first contact date and a primary contact."""
    fields.setdefault("review_status", Customer.ReviewStatus.PENDING)
    return CustomerFactory(created_at=timezone.now() - datetime.timedelta(hours=hours_old), **fields)


def complete_customer(*, hours_old: float = 0, **fields) -> Customer:
    """A pending enterprise profile with every field SPEC 2 requires, primary contact included."""
    fields.setdefault("employee_band", Customer.EmployeeBand.SMALL)
    fields.setdefault("needs", "需要一套客户管理系统")
    fields.setdefault("first_contact_date", datetime.date(2026, 1, 5))
    customer = incomplete_customer(hours_old=hours_old, **fields)
    ContactFactory(customer=customer, is_primary=True, title="总经理")
    return customer
