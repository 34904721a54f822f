"""Interactions (跟进记录), follow-up tasks (跟进任务) and the cadence rules that propose them.

Both interactions and tasks are seen through their customer: whoever sees a customer (its owner,
collaborators, the team lead, all-scope roles) sees and adds to its follow-up records (SPEC 3:
collaborators share them). A task's owner also always sees their own task.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer


def _customer_scope(user) -> Q:
    return Customer.objects.scope_q(user, prefix="customer__") & Q(customer__deleted_at__isnull=True)


class InteractionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "InteractionQuerySet":
        return self.filter(_customer_scope(user))


class Interaction(models.Model):
    class Method(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", pgettext_lazy("interaction method", "E-mail")
        MEETING = "meeting", _("Meeting")
        OTHER = "other", _("Other")

    number = models.CharField(_("record number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.PHONE)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    # 跟进人: who followed up (usually the one logging it).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("followed up by"), on_delete=models.PROTECT, related_name="+"
    )
    topic = models.CharField(_("topic"), max_length=200)
    summary = models.TextField(_("summary"))
    feedback = models.TextField(_("customer feedback / objections"), blank=True)
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    next_step_due = models.DateField(_("next step expected by"), null=True, blank=True)
    # Cadence (跟进周期): a proposal sent asks for feedback within 2 days.
    proposal_sent = models.BooleanField(_("a proposal or quote was sent"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("logged"), default=timezone.now, editable=False)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            # The customer's timeline and last-contacted time.
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_at"),
            # Lists by who followed up, and everything in a period (newest first).
            models.Index(fields=["owner", "-occurred_at"], name="interaction_owner_at"),
            models.Index(fields=["-occurred_at"], name="interaction_at"),
            models.Index(fields=["method", "-occurred_at"], name="interaction_method_at"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.topic}"

    def get_absolute_url(self) -> str:
        return reverse("interactions:interaction-detail", args=[self.pk])


class TaskQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TaskQuerySet":
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(_customer_scope(user) | Q(owner=user, customer__deleted_at__isnull=True))

    def open(self) -> "TaskQuerySet":
        return self.filter(status=FollowUpTask.Status.OPEN)

    def overdue(self, now=None) -> "TaskQuerySet":
        """Open and past due (待跟进): derived from time, never stored."""
        return self.open().filter(due_at__lt=now or timezone.now())


class FollowUpTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("task status", "Open")
        DONE = "done", pgettext_lazy("task status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("task status", "Cancelled")

    class Priority(models.IntegerChoices):
        LOW = 1, pgettext_lazy("priority", "Low")
        NORMAL = 2, pgettext_lazy("priority", "Normal")
        HIGH = 3, pgettext_lazy("priority", "High")
        URGENT = 4, pgettext_lazy("priority", "Urgent")

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", _("Follow-up")
        CARE = "care", _("Care (birthday or holiday)")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tasks"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    # Sub-tasks (new needs or problems found on the way), each with its own owner and deadline.
    parent = models.ForeignKey(
        "self",
        verbose_name=_("main task"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subtasks",
    )
    kind = models.CharField(
        pgettext_lazy("follow-up task", "kind"), max_length=10, choices=Kind.choices, default=Kind.FOLLOW_UP
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="follow_up_tasks",
    )
    due_at = models.DateTimeField(_("due"))
    content = models.CharField(_("what to do"), max_length=255)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # Which cadence rule proposed it, if any (for reports on cadence keeping).
    cadence_rule = models.ForeignKey(
        "interactions.CadenceRule",
        verbose_name=_("cadence rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The interaction that completed it (SPEC 3: marking done asks for it).
    completed_by_interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("completed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="completed_tasks",
    )
    # The interaction whose logging proposed this task.
    source_interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("proposed after"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposed_tasks",
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # A care task's occasion, e.g. "birthday:contact:42:2026" or "holiday:7:customer:42": unique, so
    # the daily care sweep can run twice (or late) and never create the same care task again.
    care_key = models.CharField(
        _("care occasion"), max_length=80, blank=True, default="", db_default="", editable=False
    )
    # Set by the overdue escalation step that asks the team lead to reassign it (e.g. day 7); the
    # manager page lists flagged tasks first. Cleared when the task is reassigned or closed.
    reassign_flagged_at = models.DateTimeField(_("flagged for reassignment"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Optimistic locking for edits and reschedules from two places at once.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["due_at", "pk"]
        indexes = [
            # A user's open tasks by due time: workbench (today, overdue, next 7 days), calendar.
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_status_due"),
            # A customer's next open task (next_follow_up_at) and its task list.
            models.Index(fields=["customer", "status", "due_at"], name="task_customer_status_due"),
            # Sweeps and team lists: open tasks by due time.
            models.Index(fields=["due_at"], condition=Q(status="open"), name="task_open_due"),
            models.Index(fields=["status", "-due_at"], name="task_status_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["care_key"], condition=~Q(care_key=""), name="task_care_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.content

    def get_absolute_url(self) -> str:
        return reverse("interactions:task-detail", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()


class CadenceRule(models.Model):
    """How soon the next follow-up is due after an interaction (跟进周期), editable in admin.

    The most specific active rule wins: an event (a proposal was sent), then the customer's stage
    (intent, lost), then its value class (A, B, C). Extra touches such as "monthly executive
    contact" for class A are described in ``note`` and shown with the proposal.
    """

    class Trigger(models.TextChoices):
        EVENT = "event", _("Event")
        STAGE = "stage", _("Customer stage")
        VALUE_CLASS = "value_class", _("Value class")

    trigger = models.CharField(_("applies when"), max_length=12, choices=Trigger.choices)
    # "proposal_sent" for events; a Customer.Stage value; a Customer.ValueClass value.
    value = models.CharField(_("value"), max_length=20)
    days = models.PositiveSmallIntegerField(_("follow up after (days)"))
    task_content = models.CharField(_("task to propose"), max_length=255)
    note = models.CharField(_("also"), max_length=255, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("cadence rule")
        verbose_name_plural = _("cadence rules")
        ordering = ["trigger", "value"]
        constraints = [models.UniqueConstraint(fields=["trigger", "value"], name="cadence_rule_unique")]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.value}: {self.days}"


class Holiday(models.Model):
    """A holiday that produces care tasks (节日关怀), one row per year's date, editable in admin.

    Lunar holidays (春节, 端午, 中秋) move every year, so each year's date is a row of its own. Care
    tasks are created ``days_before`` the date for the customers of the value classes listed.
    """

    name = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    date = models.DateField(_("date"))
    days_before = models.PositiveSmallIntegerField(_("create care tasks this many days before"), default=3)
    # Value classes (A, B, C) whose customers get a care task, e.g. "AB".
    value_classes = models.CharField(_("for value classes"), max_length=3, default="AB")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["name", "date"], name="holiday_name_date_unique")]

    def __str__(self) -> str:
        if self.name_en and not (get_language() or "").startswith("zh"):
            return f"{self.name_en} {self.date}"
        return f"{self.name} {self.date}"


class EscalationStep(models.Model):
    """What happens when a follow-up task stays overdue (待跟进) this many days, editable in admin.

    Read by the reminder sweep (interactions.services.reminders): each active step is told once
    per task and due time. When a task is already past a later step, the earlier ones are skipped.
    """

    days_overdue = models.PositiveSmallIntegerField(_("days overdue"), unique=True)
    notify_owner = models.BooleanField(_("remind the owner"), default=True)
    notify_lead = models.BooleanField(_("tell the team lead"), default=False)
    flag_for_reassignment = models.BooleanField(_("flag for reassignment"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["days_overdue"]

    def __str__(self) -> str:
        return f"+{self.days_overdue}"


class OutboxRow(models.Model):
    """What the reminder outboxes share: the delivery state, and the claim and lease that let a
    sweep in one worker deliver a row exactly once (interactions.services.reminders)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("reminder status", "Waiting")
        SENDING = "sending", pgettext_lazy("reminder status", "Sending")
        SENT = "sent", pgettext_lazy("reminder status", "Sent")
        SKIPPED = "skipped", pgettext_lazy("reminder status", "Skipped")
        FAILED = "failed", pgettext_lazy("reminder status", "Failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # Who claimed it and until when: a row left "sending" past its lease belonged to a dead worker.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("planned"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        abstract = True


class TaskReminder(OutboxRow):
    """The outbox of task reminders: one row per task, step, recipient and due time.

    The unique constraint makes a second reminder impossible (a rerun or a second worker inserts
    nothing); delivery claims rows with ``FOR UPDATE SKIP LOCKED`` and a lease, and marks a row
    sent in the transaction that creates the notification. Rescheduling a task (a new ``due_at``)
    earns new reminders; rows of the old due time are skipped.
    """

    # "due_soon", "overdue", or "day:<n>" for the escalation step of n days overdue.
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"

    task = models.ForeignKey(
        FollowUpTask, verbose_name=_("follow-up task"), on_delete=models.CASCADE, related_name="reminders"
    )
    step = models.CharField(_("step"), max_length=20)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    task_due_at = models.DateTimeField(_("task due"))

    class Meta:
        verbose_name = _("task reminder")
        verbose_name_plural = _("task reminders")
        constraints = [
            # Exactly once; its index also serves the planner's "already planned?" check.
            models.UniqueConstraint(
                fields=["task", "step", "task_due_at", "recipient"], name="task_reminder_once"
            ),
        ]
        indexes = [
            # The sweep's claim: rows still to deliver, oldest first.
            models.Index(
                fields=["lease_until", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="task_reminder_to_deliver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.step} → {self.recipient_id} ({self.status})"


class LeadDigest(OutboxRow):
    """One daily digest of the team's overdue tasks per team lead and local day (Asia/Shanghai
    by default); unique, claimed and leased like ``TaskReminder``."""

    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("team lead"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    task_count = models.PositiveIntegerField(_("overdue tasks"), default=0)

    class Meta:
        verbose_name = _("lead digest")
        verbose_name_plural = _("lead digests")
        ordering = ["-day", "lead"]
        constraints = [models.UniqueConstraint(fields=["lead", "day"], name="lead_digest_once")]
        indexes = [
            # The digest sweep's claim.
            models.Index(
                fields=["lease_until", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="lead_digest_to_deliver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.day} ({self.status})"
