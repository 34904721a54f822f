import datetime

import factory
from django.utils import timezone

from accounts.models import Notification
from interactions.models import EscalationStep, TaskReminder
from tests.factories.accounts import UserFactory
from tests.factories.interactions import TaskFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = "task_due_soon"
    title = factory.Sequence(lambda n: f"跟进任务明天到期 {n}")
    body = "客户：杭州云帆科技有限公司"
    url = "/tasks/1/"
    created_at = factory.LazyFunction(timezone.now)


class EscalationStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationStep
        django_get_or_create = ["days_overdue"]

    days_overdue = 3
    notify_owner = True


class TaskReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskReminder

    task = factory.SubFactory(TaskFactory)
    step = TaskReminder.OVERDUE
    recipient = factory.LazyAttribute(lambda reminder: reminder.task.owner)
    task_due_at = factory.LazyAttribute(lambda reminder: reminder.task.due_at)


def in_days(days: float, now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) + datetime.timedelta(days=days)
