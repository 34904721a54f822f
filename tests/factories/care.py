"""Factories for care tasks (关怀): holidays and customers or contacts with a birthday."""

import datetime

import factory

from customers.models import Customer
from interactions.models import Holiday
from tests.factories.customers import ContactFactory, CustomerFactory


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    name = factory.Sequence(lambda n: f"节日{n}")
    name_en = factory.Sequence(lambda n: f"Holiday {n}")
    date = datetime.date(2026, 12, 25)
    days_before = 3
    value_classes = "AB"


class IndividualCustomerFactory(CustomerFactory):
    kind = Customer.Kind.INDIVIDUAL
    name = factory.Faker("name", locale="zh_CN")
    birthday = datetime.date(1985, 12, 5)
    value_class = "C"


class BirthdayContactFactory(ContactFactory):
    birthday = datetime.date(1980, 12, 5)
