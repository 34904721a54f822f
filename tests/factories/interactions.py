import datetime

import factory
from django.utils import timezone

from interactions.models import FollowUpTask, Interaction
from tests.factories.customers import CustomerFactory


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    number = factory.Sequence(lambda n: f"G20260101{n:03d}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda interaction: interaction.customer.owner)
    method = Interaction.Method.PHONE
    occurred_at = factory.LazyFunction(timezone.now)
    topic = "电话回访"
    summary = "确认了采购需求和预算"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpTask

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda task: task.customer.owner)
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))
    content = "跟进方案反馈"


def overdue_task(owner, *, days: int, flagged: bool = False, **fields) -> FollowUpTask:
    """An open task of one of ``owner``'s customers, ``days`` past due (flagged for reassignment
    when ``flagged``, as the overdue escalation does)."""
    now = timezone.now()
    fields.setdefault("customer", CustomerFactory(owner=owner))
    return TaskFactory(
        owner=owner,
        due_at=now - datetime.timedelta(days=days, hours=1),
        reassign_flagged_at=now if flagged else None,
        **fields,
    )
