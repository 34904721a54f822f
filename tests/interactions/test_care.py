"""Care tasks (关怀): birthdays of individual customers and contacts, holidays by value class; the
hourly sweep is idempotent, catches up after downtime and keeps next_follow_up_at correct."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interactions.models import FollowUpTask, Holiday
from interactions.services.care import birthday_occurrences, care_tasks_create
from interactions.tasks.care import create_care_tasks
from tests.factories.accounts import UserFactory
from tests.factories.care import BirthdayContactFactory, HolidayFactory, IndividualCustomerFactory
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 2)


@pytest.fixture(autouse=True)
def no_default_holidays(db):
    """The data migration's holidays would add tasks to every test; each test adds its own."""
    Holiday.objects.all().delete()


def care_tasks():
    return FollowUpTask.objects.filter(kind=FollowUpTask.Kind.CARE).order_by("care_key")


def local(task: FollowUpTask) -> datetime.datetime:
    return timezone.localtime(task.due_at)


def test_birthday_of_an_individual_customer_makes_a_care_task_for_the_owner(rep):
    customer = IndividualCustomerFactory(owner=rep, name="张三", birthday=datetime.date(1990, 12, 5))

    assert care_tasks_create(today=TODAY) == 1

    task = care_tasks().get()
    assert (task.customer, task.owner, task.status) == (customer, rep, FollowUpTask.Status.OPEN)
    assert task.priority == FollowUpTask.Priority.NORMAL
    assert task.content == "生日关怀：张三"
    assert local(task) == datetime.datetime(2026, 12, 5, 9, tzinfo=local(task).tzinfo)
    assert task.care_key == f"birthday:customer:{customer.pk}:2026"
    customer.refresh_from_db()
    assert customer.next_follow_up_at == task.due_at


def test_birthday_of_a_contact_names_the_company_in_the_owners_language(rep):
    rep.language = "en"
    rep.save(update_fields=["language"])
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    contact = BirthdayContactFactory(customer=customer, name="李四", birthday=datetime.date(1979, 12, 3))

    care_tasks_create(today=TODAY)

    task = care_tasks().get()
    assert (task.customer, task.contact, task.owner) == (customer, contact, rep)
    assert task.content == "Birthday care: 李四 (杭州云帆科技有限公司)"


def test_birthdays_outside_the_window_enterprises_and_deleted_customers_get_nothing(rep, settings):
    settings.CARE_BIRTHDAY_DAYS_BEFORE = 3
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 6))  # 4 days ahead
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 1))  # yesterday
    CustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 3))  # an enterprise
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 3), deleted_at=timezone.now())
    deleted = CustomerFactory(owner=rep, deleted_at=timezone.now())
    BirthdayContactFactory(customer=deleted, birthday=datetime.date(1990, 12, 3))
    inactive = UserFactory(is_active=False)
    IndividualCustomerFactory(owner=inactive, birthday=datetime.date(1990, 12, 3))

    assert care_tasks_create(today=TODAY) == 0
    assert not care_tasks().exists()


def test_lead_time_comes_from_the_setting(rep, settings):
    settings.CARE_BIRTHDAY_DAYS_BEFORE = 5
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 7))

    assert care_tasks_create(today=TODAY) == 1


def test_running_twice_or_every_day_of_the_window_creates_each_task_once(rep, lead):
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 4))
    CustomerFactory(owner=lead, value_class="A")
    HolidayFactory(date=datetime.date(2026, 12, 4), value_classes="A")

    assert care_tasks_create(today=TODAY) == 2
    assert care_tasks_create(today=TODAY) == 0
    assert care_tasks_create(today=TODAY + datetime.timedelta(days=1)) == 0
    assert care_tasks().count() == 2


def test_a_done_or_cancelled_care_task_is_not_created_again(rep):
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 4))
    care_tasks_create(today=TODAY)
    care_tasks().update(status=FollowUpTask.Status.CANCELLED)

    assert care_tasks_create(today=TODAY) == 0


def test_a_run_after_downtime_catches_up_until_the_date_has_passed(rep):
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 4))

    # The sweep was down from the start of the window (1 December) until the birthday itself.
    assert care_tasks_create(today=datetime.date(2026, 12, 5)) == 0
    assert care_tasks_create(today=datetime.date(2026, 12, 4)) == 1


def test_next_year_is_a_new_occasion(rep):
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 1, 1))

    assert care_tasks_create(today=datetime.date(2026, 12, 30)) == 1
    assert care_tasks_create(today=datetime.date(2027, 12, 30)) == 1
    keys = list(care_tasks().values_list("care_key", flat=True))
    assert [key.rsplit(":", 1)[1] for key in keys] == ["2027", "2028"]


def test_february_29_birthdays_are_celebrated_on_the_28th_in_other_years(rep):
    customer = IndividualCustomerFactory(owner=rep, birthday=datetime.date(1996, 2, 29))

    assert birthday_occurrences(datetime.date(2027, 2, 26), 3)[(2, 29)] == datetime.date(2027, 2, 28)
    assert (2, 29) not in birthday_occurrences(datetime.date(2028, 2, 26), 2)
    assert care_tasks_create(today=datetime.date(2027, 2, 27)) == 1
    task = care_tasks().get()
    assert local(task).date() == datetime.date(2027, 2, 28)
    assert task.care_key == f"birthday:customer:{customer.pk}:2027"
    assert care_tasks_create(today=datetime.date(2028, 2, 28)) == 1  # leap year: on the 29th
    assert local(care_tasks().last()).date() == datetime.date(2028, 2, 29)


def test_holiday_care_goes_to_customers_of_its_value_classes(rep, other_team_rep):
    class_a = CustomerFactory(owner=rep, value_class="A", name="宁波海辰贸易有限公司")
    class_b = CustomerFactory(owner=other_team_rep, value_class="B")
    CustomerFactory(owner=rep, value_class="C")
    CustomerFactory(owner=rep, value_class="A", deleted_at=timezone.now())
    contact = BirthdayContactFactory(customer=class_a, is_primary=True, birthday=None)
    holiday = HolidayFactory(name="春节", name_en="Spring Festival", date=datetime.date(2027, 2, 6))

    assert care_tasks_create(today=datetime.date(2027, 2, 2)) == 0  # before the window
    assert care_tasks_create(today=datetime.date(2027, 2, 3)) == 2

    tasks = {task.customer: task for task in care_tasks()}
    assert set(tasks) == {class_a, class_b}
    assert tasks[class_a].content == "春节关怀：宁波海辰贸易有限公司"
    assert tasks[class_a].contact == contact
    assert tasks[class_b].owner == other_team_rep
    assert local(tasks[class_a]).date() == datetime.date(2027, 2, 6)
    assert tasks[class_a].care_key == f"holiday:{holiday.pk}:customer:{class_a.pk}"


def test_inactive_and_past_holidays_make_nothing(rep):
    CustomerFactory(owner=rep, value_class="A")
    HolidayFactory(date=datetime.date(2026, 12, 3), active=False)
    HolidayFactory(date=datetime.date(2026, 12, 1))

    assert care_tasks_create(today=TODAY) == 0


def test_holiday_content_uses_the_english_name_for_english_users(rep):
    rep.language = "en"
    rep.save(update_fields=["language"])
    CustomerFactory(owner=rep, value_class="A", name="Acme")
    HolidayFactory(name="国庆节", name_en="National Day", date=datetime.date(2026, 12, 3))

    care_tasks_create(today=TODAY)

    assert care_tasks().get().content == "National Day care: Acme"


def test_due_time_is_the_morning_in_the_owners_time_zone(rep):
    rep.time_zone = "Europe/Berlin"
    rep.save(update_fields=["time_zone"])
    IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 5))

    care_tasks_create(today=TODAY)

    due = care_tasks().get().due_at.astimezone(datetime.UTC)
    assert due == datetime.datetime(2026, 12, 5, 8, tzinfo=datetime.UTC)


def test_sweep_queries_do_not_grow_with_the_number_of_customers(rep):
    holiday = HolidayFactory(date=datetime.date(2026, 12, 4), value_classes="A")

    def queries(count: int) -> int:
        for _ in range(count):
            IndividualCustomerFactory(owner=rep, birthday=datetime.date(1990, 12, 4), value_class="A")
        FollowUpTask.objects.filter(kind=FollowUpTask.Kind.CARE).delete()
        with CaptureQueriesContext(connection) as captured:
            care_tasks_create(today=TODAY)
        return len(captured)

    assert queries(1) == queries(30)
    assert care_tasks().filter(care_key__startswith=f"holiday:{holiday.pk}:").count() == 31


def test_the_celery_task_runs_the_sweep_and_is_idempotent(rep):
    IndividualCustomerFactory(owner=rep, birthday=timezone.localdate() + datetime.timedelta(days=1))

    assert create_care_tasks.apply().get() == 1
    assert create_care_tasks.apply().get() == 0
    assert care_tasks().count() == 1


def test_seed_demo_shows_birthday_care_tasks_and_a_second_run_adds_none():
    import io

    from django.core.management import call_command

    def seed() -> None:
        call_command("seed_demo", "--i-know-this-is-not-production", stdout=io.StringIO())

    seed()
    birthdays = care_tasks().filter(care_key__startswith="birthday:")
    assert birthdays.filter(contact__isnull=False).count() >= 3
    assert birthdays.filter(contact__isnull=True).exists()
    assert all(task.status == FollowUpTask.Status.OPEN for task in birthdays)
    for task in birthdays.select_related("customer"):
        assert task.owner_id == task.customer.owner_id
        assert task.customer.next_follow_up_at <= task.due_at
    before = care_tasks().count()
    seed()
    assert care_tasks().count() == before
