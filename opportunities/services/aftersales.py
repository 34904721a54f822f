"""The after-sales follow-up on a win (SPEC 5: "a call one week after a purchase is scheduled
automatically"; issue 5: winning an opportunity with an A/B/C customer proposes it).

An explicit, documented edge from opportunities to interactions: the call is an ordinary open
follow-up task of the opportunity's owner on its customer, made by interactions' own
``task_create`` (so it counts for the customer's next follow-up, gets reminders and escalations,
and appears on the workbench and calendar). Its ``care_key`` ``aftersales:<opportunity pk>``
(unique when not empty) makes it once per opportunity: winning again after a reopen plans nothing.

It falls due seven days after the win at 10:00 in the owner's time zone, moved to the next working
day (interactions.services.workdays: not a weekend nor a day of the holiday table).
"""

import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from customers import hooks
from customers.models import Contact, Customer
from interactions.models import FollowUpTask
from interactions.services.follow_up import task_create
from interactions.services.workdays import working_day_at
from opportunities.models import Opportunity

AFTERSALES_DAYS = 7
AFTERSALES_HOUR = 10
# Translators: content of the follow-up task created when an opportunity is won, e.g. "售后回访：CRM系统采购".
AFTERSALES_CONTENT = _("After-sales call: %(name)s")
# Customers whose wins get the call: every value class there is (default C).
VALUE_CLASSES = {Customer.ValueClass.A, Customer.ValueClass.B, Customer.ValueClass.C}


def aftersales_key(opportunity: Opportunity) -> str:
    return f"aftersales:{opportunity.pk}"


def aftersales_due(won_at: datetime.datetime, time_zone: str = "") -> datetime.datetime:
    """10:00 (the owner's time) on the first working day a week after ``won_at``."""
    return working_day_at(won_at, days=AFTERSALES_DAYS, hour=AFTERSALES_HOUR, time_zone=time_zone)


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
    # The service app's after-sales agent when it names one (customers.hooks), else the seller.
    owner = hooks.aftersales_owner(customer) or (opportunity.owner if opportunity.owner.is_active else actor)
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
