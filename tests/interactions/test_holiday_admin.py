"""Holidays (节日关怀) in the admin: the dates the data migration loads, editing by administrators,
validation of the value classes, and the care tasks an added holiday produces."""

import datetime

import pytest
from django.urls import reverse

from interactions.models import FollowUpTask, Holiday
from interactions.services.care import care_tasks_create
from tests.factories.care import HolidayFactory
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:interactions_holiday_changelist")
ADD = reverse("admin:interactions_holiday_add")


def form_data(**overrides) -> dict:
    return {
        "name": "元宵节",
        "name_en": "Lantern Festival",
        "date": "2027-02-20",
        "days_before": "2",
        "value_classes": "ba",
        "active": "on",
        **overrides,
    }


def test_migration_loads_the_holidays_of_2026_to_2028_with_their_lunar_dates():
    dates = {(h.name, h.date) for h in Holiday.objects.all()}

    expected = {
        ("春节", datetime.date(2026, 2, 17)),
        ("春节", datetime.date(2027, 2, 6)),
        ("春节", datetime.date(2028, 1, 26)),
        ("端午节", datetime.date(2026, 6, 19)),
        ("端午节", datetime.date(2027, 6, 9)),
        ("端午节", datetime.date(2028, 5, 28)),
        ("中秋节", datetime.date(2026, 9, 25)),
        ("中秋节", datetime.date(2027, 9, 15)),
        ("中秋节", datetime.date(2028, 10, 3)),
    }
    assert expected <= dates
    for name, month in (("元旦", 1), ("国庆节", 10)):
        assert {d for n, d in dates if n == name} == {datetime.date(y, month, 1) for y in (2026, 2027, 2028)}
    assert len(dates) == 15
    assert all(h.active and h.name_en for h in Holiday.objects.all())


def test_administrator_adds_a_holiday_and_its_classes_are_normalised(client, administrator):
    client.force_login(administrator)

    response = client.post(ADD, form_data())

    assert response.status_code == 302
    holiday = Holiday.objects.get(name="元宵节")
    assert (holiday.date, holiday.days_before, holiday.value_classes) == (datetime.date(2027, 2, 20), 2, "AB")


def test_bad_value_classes_are_refused_and_the_form_keeps_what_was_typed(client, administrator):
    client.force_login(administrator)

    response = client.post(ADD, form_data(value_classes="AX"))

    assert response.status_code == 200
    assert "value_classes" in response.context["adminform"].form.errors
    assert 'value="AX"' in response.content.decode()
    assert not Holiday.objects.filter(name="元宵节").exists()


def test_administrator_lists_holidays_and_a_rep_cannot(client, administrator, rep):
    client.force_login(administrator)
    assert client.get(CHANGELIST).status_code == 200
    client.force_login(rep)
    response = client.get(CHANGELIST)
    assert response.status_code == 302  # not staff: sent to the admin login
    response = client.post(ADD, form_data())
    assert not Holiday.objects.filter(name="元宵节").exists()


def test_a_holiday_added_in_admin_makes_care_tasks_only_while_active(client, administrator, rep):
    Holiday.objects.all().delete()
    customer = CustomerFactory(owner=rep, value_class="A")
    client.force_login(administrator)
    client.post(ADD, form_data(date="2026-12-12", value_classes="A", active=""))

    assert care_tasks_create(today=datetime.date(2026, 12, 11)) == 0
    Holiday.objects.filter(name="元宵节").update(active=True)
    assert care_tasks_create(today=datetime.date(2026, 12, 11)) == 1
    assert FollowUpTask.objects.get(kind="care").customer == customer


def test_a_holiday_for_class_c_only_skips_a_and_b(rep):
    Holiday.objects.all().delete()
    CustomerFactory(owner=rep, value_class="A")
    class_c = CustomerFactory(owner=rep, value_class="C")
    HolidayFactory(date=datetime.date(2026, 12, 12), value_classes="C")

    assert care_tasks_create(today=datetime.date(2026, 12, 12)) == 1
    assert FollowUpTask.objects.get(kind="care").customer == class_c
