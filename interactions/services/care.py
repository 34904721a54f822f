"""Care tasks (关怀): birthday and holiday reminders, created by an hourly sweep.

SPEC 3: birthdays and holidays produce non-marketing care reminders for the customer's owner.
``care_tasks_create`` is idempotent: every care task carries a ``care_key`` naming its occasion
(unique in the database), so a second run, a late run or two runs at once create nothing twice.
A run after downtime still creates the tasks whose window it missed, as long as the date has not
passed: the window is "from today to ``days_before`` days ahead", not "exactly ``days_before``".

Set-based and batched so 100,000 customers cost a few queries: birthdays match on (month, day)
pairs of the window (``EXTRACT`` on the birthday, see the expression indexes requested for
Customer and Contact), holidays on the value class; existing occasions are skipped by the unique
``care_key`` index before anything is built.
"""

import calendar
import datetime
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer
from interactions.models import FollowUpTask, Holiday
from interactions.services.follow_up import customers_refresh_follow_up

# Care tasks fall due the morning of the occasion, in the owner's time zone.
CARE_HOUR = 9
BATCH = 1000
# Translators: content of a birthday care task (生日关怀) for an individual customer.
BIRTHDAY_CUSTOMER = _("Birthday care: %(name)s")
# Translators: content of a birthday care task for a contact, with the contact's company.
BIRTHDAY_CONTACT = _("Birthday care: %(name)s (%(customer)s)")
# Translators: content of a holiday care task, e.g. "春节关怀：某某公司".
HOLIDAY_CARE = _("%(holiday)s care: %(name)s")


@dataclass
class _Care:
    customer_id: int
    contact_id: int | None
    owner_id: int
    language: str
    time_zone: str
    day: datetime.date
    key: str
    message: object  # one of the lazy texts above
    values: dict[str, object]


def care_tasks_create(*, today: datetime.date | None = None) -> int:
    """Create the birthday and holiday care tasks due from ``today`` (a local date) to their
    lead time ahead; returns how many were created. Safe to run any number of times."""
    today = today or timezone.localdate()
    created = _create(_birthdays(today))
    for holiday in _holidays(today):
        created += _create(_holiday_cares(holiday))
    return created


def birthday_occurrences(today: datetime.date, days_before: int) -> dict[tuple[int, int], datetime.date]:
    """(month, day) of a birthday → the date it is celebrated on, for the window from ``today``
    to ``days_before`` days ahead. A 29 February birthday is kept on the 28th in other years."""
    pairs: dict[tuple[int, int], datetime.date] = {}
    for offset in range(days_before + 1):
        day = today + datetime.timedelta(days=offset)
        pairs[(day.month, day.day)] = day
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            pairs[(2, 29)] = day
    return pairs


def _birthday_q(pairs: Iterable[tuple[int, int]]) -> Q:
    """Served by the partial expression indexes on (month, day) of the birthday: a bitmap OR of a
    few index scans instead of reading every customer or contact."""
    condition = Q(pk__in=[])
    for month, day in pairs:
        condition |= Q(birthday__month=month, birthday__day=day)
    return Q(birthday__isnull=False) & condition


def _birthdays(today: datetime.date) -> Iterator[_Care]:
    occurrences = birthday_occurrences(today, settings.CARE_BIRTHDAY_DAYS_BEFORE)
    customers = (
        Customer.objects.filter(
            _birthday_q(occurrences),
            kind=Customer.Kind.INDIVIDUAL,
            deleted_at__isnull=True,
            owner__is_active=True,
        )
        .order_by("pk")
        .values_list("pk", "name", "birthday", "owner_id", "owner__language", "owner__time_zone")
    )
    for pk, name, birthday, owner_id, language, time_zone in customers.iterator(chunk_size=BATCH):
        day = occurrences[(birthday.month, birthday.day)]
        yield _Care(
            pk, None, owner_id, language, time_zone, day,
            f"birthday:customer:{pk}:{day.year}", BIRTHDAY_CUSTOMER, {"name": name},
        )  # fmt: skip
    # Contacts of live customers (a merged customer is deleted too, its contacts moved over).
    contacts = (
        Contact.objects.filter(
            _birthday_q(occurrences),
            customer__deleted_at__isnull=True,
            customer__owner__is_active=True,
        )
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "birthday",
            "customer_id",
            "customer__name",
            "customer__owner_id",
            "customer__owner__language",
            "customer__owner__time_zone",
        )
    )
    for pk, name, birthday, customer_id, customer_name, owner_id, language, time_zone in contacts.iterator(
        chunk_size=BATCH
    ):
        day = occurrences[(birthday.month, birthday.day)]
        yield _Care(
            customer_id, pk, owner_id, language, time_zone, day,
            f"birthday:contact:{pk}:{day.year}", BIRTHDAY_CONTACT, {"name": name, "customer": customer_name},
        )  # fmt: skip


def _holidays(today: datetime.date) -> list[Holiday]:
    """Active holidays whose care window (``days_before`` the date up to the date) holds today."""
    longest = datetime.timedelta(days=366)
    holidays = Holiday.objects.filter(active=True, date__gte=today, date__lte=today + longest)
    return [h for h in holidays if h.date - datetime.timedelta(days=h.days_before) <= today]


def _holiday_cares(holiday: Holiday) -> Iterator[_Care]:
    classes = [value for value in holiday.value_classes.upper() if value in Customer.ValueClass.values]
    if not classes:
        return
    prefix = f"holiday:{holiday.pk}:customer:"
    primary = Contact.objects.filter(customer=OuterRef("pk"), is_primary=True).values("pk")[:1]
    # The occasion's key in SQL, so the customers already cared for are skipped by the unique
    # index on care_key instead of being built again every hour of the window.
    done = FollowUpTask.objects.filter(care_key=OuterRef("care_key"))
    customers = (
        Customer.objects.filter(value_class__in=classes, deleted_at__isnull=True, owner__is_active=True)
        .annotate(care_key=Concat(Value(prefix), Cast("pk", CharField()), output_field=CharField()))
        .exclude(Exists(done))
        .annotate(primary_contact=Subquery(primary))
        .order_by("pk")
        .values_list("pk", "name", "primary_contact", "owner_id", "owner__language", "owner__time_zone")
    )
    for pk, name, contact_id, owner_id, language, time_zone in customers.iterator(chunk_size=BATCH):
        yield _Care(
            pk, contact_id, owner_id, language, time_zone, holiday.date,
            f"{prefix}{pk}", HOLIDAY_CARE, {"holiday": holiday, "name": name},
        )  # fmt: skip


def _create(cares: Iterable[_Care]) -> int:
    created = 0
    batch: list[_Care] = []
    for care in cares:
        batch.append(care)
        if len(batch) >= BATCH:
            created += _create_batch(batch)
            batch = []
    if batch:
        created += _create_batch(batch)
    return created


@transaction.atomic
def _create_batch(cares: list[_Care]) -> int:
    """One batch in one transaction: the new tasks and their customers' next follow-up time."""
    keys = {care.key for care in cares}
    existing = set(FollowUpTask.objects.filter(care_key__in=keys).values_list("care_key", flat=True))
    fresh = [care for care in cares if care.key not in existing]
    if not fresh:
        return 0
    tasks = [
        FollowUpTask(
            customer_id=care.customer_id,
            contact_id=care.contact_id,
            owner_id=care.owner_id,
            kind=FollowUpTask.Kind.CARE,
            priority=FollowUpTask.Priority.NORMAL,
            due_at=_morning(care.day, care.time_zone),
            content=_content(care)[:255],
            care_key=care.key,
        )
        for care in fresh
    ]
    # A concurrent run may have created some since the check: the unique care_key skips those.
    FollowUpTask.objects.bulk_create(tasks, ignore_conflicts=True)
    customers_refresh_follow_up(care.customer_id for care in fresh)
    return FollowUpTask.objects.filter(care_key__in=[care.key for care in fresh]).count()


def _morning(day: datetime.date, time_zone: str) -> datetime.datetime:
    zone = zoneinfo.ZoneInfo(time_zone) if time_zone else timezone.get_default_timezone()
    return datetime.datetime.combine(day, datetime.time(CARE_HOUR), tzinfo=zone)


def _content(care: _Care) -> str:
    """The task's text in its owner's language (the site's when they chose none)."""
    with translation.override(care.language or settings.LANGUAGE_CODE):
        values = dict(care.values)
        holiday = values.get("holiday")
        if isinstance(holiday, Holiday):
            english = not translation.get_language().startswith("zh")
            values["holiday"] = holiday.name_en if english and holiday.name_en else holiday.name
        return str(care.message) % values
