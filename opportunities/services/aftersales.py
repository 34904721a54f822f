"""The after-sales follow-up on a win (SPEC 5: "a call one week after a purchase is scheduled
automatically"; issue 5: winning an opportunity with an A/B/C customer proposes it).

An explicit, documented edge from opportunities to interactions: the call is an ordinary open
follow-up task of the opportunity's owner on its customer, made by interactions' own
``task_create`` (so it counts for the customer's next follow-up, gets reminders and escalations,
and appears on the workbench and calendar). Its ``care_key`` ``aftersales:<opportunity pk>``
(unique when not empty) makes it once per opportunity: winning again after a reopen plans nothing.

It falls due seven days after the win at 10:00 in the owner's time zone, moved to the next working
day: not a Saturday or Sunday, nor a day of the holiday table (interactions.Holiday, kept by the
administrators). Make-up working days (调休) are not known, so they count as weekends.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer
from interactions.models import FollowUpTask, Holiday
from interactions.services.follow_up import task_create
from opportunities.models import Opportunity

AFTERSALES_DAYS = 7
AFTERSALES_HOUR = 10
LOOKAHEAD = 30  # holidays looked up past the target day (a week-long 春节 break fits easily)
# Translators: content of the follow-up task created when an opportunity is won, e.g. "售后回访：CRM系统采购".
AFTERSALES_CONTENT = _("After-sales call: %(name)s")
# Customers whose wins get the call: every value class there is (default C).
VALUE_CLASSES = {Customer.ValueClass.A, Customer.ValueClass.B, Customer.ValueClass.C}


def aftersales_key(opportunity: Opportunity) -> str:
    return f"aftersales:{opportunity.pk}"


def next_working_day(day: datetime.date) -> datetime.date:
    """``day`` or the first day after it that is neither a weekend nor in the holiday table."""
    holidays = set(
        Holiday.objects.filter(
            active=True, date__gte=day, date__lte=day + datetime.timedelta(days=LOOKAHEAD)
        ).values_list("date", flat=True)
    )
    while day.weekday() >= 5 or day in holidays:
        day += datetime.timedelta(days=1)
    return day


def aftersales_due(won_at: datetime.datetime, time_zone: str = "") -> datetime.datetime:
    """10:00 (the owner's time) on the first working day a week after ``won_at``."""
    zone = zoneinfo.ZoneInfo(time_zone or settings.TIME_ZONE)
    day = next_working_day(timezone.localtime(won_at, zone).date() + datetime.timedelta(days=AFTERSALES_DAYS))
    return datetime.datetime.combine(day, datetime.time(AFTERSALES_HOUR), tzinfo=zone)


def aftersales_task_plan(
    *, actor, opportunity: Opportunity, won_at: datetime.datetime
) -> FollowUpTask | None:
    """The after-sales call of a just-won ``opportunity`` (locked by the caller, in its
    transaction); None when there is one already or the customer does not qualify."""
    customer = opportunity.customer
    if customer.deleted_at is not None or customer.value_class not in VALUE_CLASSES:
        return None
    key = aftersales_key(opportunity)
    if FollowUpTask.objects.filter(care_key=key).exists():
        return None
    owner = opportunity.owner if opportunity.owner.is_active else actor
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        content = str(AFTERSALES_CONTENT) % {"name": opportunity.name}
    task = task_create(
        actor=actor,
        customer=customer,
        owner=owner,
        contact=Contact.objects.filter(customer=customer, is_primary=True).first(),
        due_at=aftersales_due(won_at, owner.time_zone),
        content=content[:255],
        # The opportunity row is locked by the move, so no second win races this; the unique
        # care_key still refuses a second task should one ever try.
        care_key=key,
    )
    return task


def aftersales_task_for(opportunity: Opportunity) -> FollowUpTask | None:
    """The open after-sales call of ``opportunity`` (the move view links to it)."""
    return FollowUpTask.objects.open().filter(care_key=aftersales_key(opportunity)).first()
