"""After-sales follow-up (SPEC 5: "a call one week after a purchase is scheduled automatically").

Two roads lead to the call: an order won in the opportunities app (which asks
``customers.hooks.aftersales_owner`` who calls, answered here by ``aftersales_agent``), and a
purchase entered by hand on the customer page (``purchase_record``). Either way the call is an
ordinary follow-up task of the interactions app (an explicit, documented edge: it appears in the
agent's task list, workbench and calendar, and gets reminders), due at 10:00 on the first working
day a week after the purchase (interactions.services.workdays), once per purchase by its
``care_key`` ``aftersales:purchase:<pk>``.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import DomainError
from accounts.models import User
from customers.models import Contact, Customer
from interactions.models import FollowUpTask
from interactions.services.follow_up import task_create
from interactions.services.workdays import next_working_day, working_day_on
from service.models import Purchase
from service.models.setup import TicketType
from service.services import dispatch

AFTERSALES_DAYS = 7
AFTERSALES_HOUR = 10
DESCRIPTION_MAX = 200
# Translators: the follow-up task of a purchase entered by hand, e.g. "售后回访：打印机 3 台".
CALL_CONTENT = gettext_lazy("After-sales call: %(name)s")


def aftersales_agent(customer: Customer | None = None) -> User | None:
    """Who makes an after-sales call (registered with customers.hooks.register_aftersales_owner):
    the agent of the active after-sales queue with the least work, counting open tickets (as
    dispatch does) plus open after-sales calls, so calls spread over the agents too; None without
    a queue or an active agent. Two queries."""
    queue = dispatch.queue_for(TicketType.AFTER_SALES)
    if queue is None:
        return None
    open_calls = (
        FollowUpTask.objects.filter(
            owner=OuterRef("pk"), status=FollowUpTask.Status.OPEN, care_key__startswith="aftersales:"
        )
        .order_by()
        .values("owner")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        dispatch.agents_by_load(queue)
        .annotate(open_calls=Coalesce(Subquery(open_calls, output_field=IntegerField()), Value(0)))
        .order_by(F("open_tickets") + F("open_calls"), F("last_assigned_at").asc(nulls_first=True), "pk")
        .first()
    )


def purchase_key(purchase: Purchase) -> str:
    return f"aftersales:purchase:{purchase.pk}"


def purchase_call_due(
    purchased_on: datetime.date, *, time_zone: str = "", now: datetime.datetime
) -> datetime.datetime:
    """10:00 (the caller's time) on the first working day a week after the purchase; a purchase
    entered late (the week is over) gets the call on the next working day instead of one already
    overdue."""
    due = working_day_on(purchased_on, days=AFTERSALES_DAYS, hour=AFTERSALES_HOUR, time_zone=time_zone)
    if due > now:
        return due
    local_now = timezone.localtime(now, due.tzinfo)
    day = local_now.date() + datetime.timedelta(days=1 if local_now.hour >= AFTERSALES_HOUR else 0)
    day = next_working_day(day)
    return datetime.datetime.combine(day, datetime.time(AFTERSALES_HOUR), tzinfo=due.tzinfo)


@transaction.atomic
def purchase_record(
    *,
    actor,
    customer: Customer,
    purchased_on: datetime.date,
    description: str,
    now: datetime.datetime | None = None,
) -> Purchase:
    """Record a purchase and plan its after-sales call for the after-sales agent (else the
    customer's owner, else the actor)."""
    now = now or timezone.now()
    description = " ".join(description.split())
    if not description:
        raise DomainError(_("Say what was bought."), field="description")
    if len(description) > DESCRIPTION_MAX:
        raise DomainError(
            _("Keep it under %(count)s characters.") % {"count": DESCRIPTION_MAX}, field="description"
        )
    if purchased_on > timezone.localdate(now):
        raise DomainError(_("A purchase date cannot be in the future."), field="purchased_on")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.deleted_at is not None:
        raise DomainError(_("This customer has been deleted."))
    purchase = Purchase.objects.create(
        customer=locked, purchased_on=purchased_on, description=description, created_by=actor, created_at=now
    )
    owner = aftersales_agent(locked)
    if owner is None:
        owner = locked.owner if locked.owner.is_active else actor
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        content = str(CALL_CONTENT) % {"name": description}
    task_create(
        actor=actor,
        customer=locked,
        owner=owner,
        contact=Contact.objects.filter(customer=locked, is_primary=True).first(),
        due_at=purchase_call_due(purchased_on, time_zone=owner.time_zone, now=now),
        content=content[:255],
        care_key=purchase_key(purchase),
    )
    return purchase
