"""Tickets (工单): service requests, complaints, after-sales and consultations.

Status flow: new → assigned → in progress → waiting on customer → resolved → closed; a resolved or
closed ticket can be reopened (back to assigned, or new when nobody holds it). The service-level
clock (service.services.sla) sets ``first_response_due`` and ``resolution_due`` from the ticket's
service level; while the ticket waits on the customer the clock is paused (``paused_at``), and the
pause is added to the due times when it resumes. Every change and comment is a ``TicketEvent``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import Scope, ScopedQuerySet, led_team_ids, scope_of
from customers.models import Contact, Customer
from service.models.setup import Priority, Queue, ResolutionCategory, TicketType


class TicketQuerySet(ScopedQuerySet):
    """Who sees a ticket: its assignee and creator, the owner of its customer, the members of its
    queue while nobody holds it, the leads of the assignee's team and of the customer's team, and
    all-scope roles."""

    scope_owner = "assignee"
    scope_team = "team"
    scope_shared = None

    def scope_q(self, user, prefix: str = "") -> Q:
        condition = super().scope_q(user, prefix)
        scope = scope_of(user)
        if scope is Scope.TEAM and (team_ids := led_team_ids(user)):
            # A sales lead follows the tickets of the team's customers.
            condition |= Q(**{f"{prefix}customer__team_id__in": team_ids})
        if scope in (Scope.OWN, Scope.TEAM):
            queues = Queue.agents.through.objects.filter(user=user).values("queue_id")
            condition |= (
                Q(**{f"{prefix}created_by": user})
                | Q(**{f"{prefix}customer__owner": user})
                | Q(**{f"{prefix}assignee__isnull": True, f"{prefix}queue_id__in": queues})
            )
        return condition

    def open(self) -> "TicketQuerySet":
        return self.exclude(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])


class Ticket(models.Model):
    Type = TicketType
    Priority = Priority

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("ticket status", "New")
        ASSIGNED = "assigned", pgettext_lazy("ticket status", "Assigned")
        IN_PROGRESS = "in_progress", pgettext_lazy("ticket status", "In progress")
        WAITING = "waiting", pgettext_lazy("ticket status", "Waiting on customer")
        RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
        CLOSED = "closed", pgettext_lazy("ticket status", "Closed")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        WEB = "web", _("Website / online form")
        IN_PERSON = "in_person", _("In person")
        OTHER = "other", _("Other")

    number = models.CharField(_("ticket number"), max_length=20, unique=True, editable=False)
    ticket_type = models.CharField(_("type"), max_length=20, choices=TicketType.choices)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The assignee's team, kept in step by the services (scope of team leads, escalation).
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The service-level clock.
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    paused_at = models.DateTimeField(_("waiting on customer since"), null=True, blank=True)
    response_breached_at = models.DateTimeField(_("first response target missed"), null=True, blank=True)
    resolution_breached_at = models.DateTimeField(_("resolution target missed"), null=True, blank=True)
    # Resolution.
    resolution = models.TextField(_("resolution"), blank=True)
    resolution_category = models.ForeignKey(
        ResolutionCategory,
        verbose_name=_("resolution category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # "My tickets" and the least-loaded dispatch count (open tickets per assignee).
            models.Index(fields=["assignee", "status", "-created_at"], name="ticket_assignee_status"),
            # "Unassigned" per queue, oldest first.
            models.Index(
                fields=["queue", "created_at"], condition=Q(assignee__isnull=True), name="ticket_unassigned"
            ),
            # The managers' views by team and status; the all-tickets list.
            models.Index(fields=["team", "-created_at"], name="ticket_team_created"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created"),
            models.Index(fields=["-created_at"], name="ticket_created"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_created"),
            models.Index(fields=["ticket_type", "-created_at"], name="ticket_type_created"),
            models.Index(fields=["priority", "-created_at"], name="ticket_priority_created"),
            # "Breaching soon" and the breach sweep: open tickets by due time.
            models.Index(
                fields=["first_response_due"],
                condition=Q(
                    first_responded_at__isnull=True, paused_at__isnull=True, resolved_at__isnull=True
                ),
                name="ticket_response_due",
            ),
            models.Index(
                fields=["resolution_due"],
                condition=Q(resolved_at__isnull=True, paused_at__isnull=True),
                name="ticket_resolution_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("service:ticket-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.RESOLVED, self.Status.CLOSED)


class TicketEvent(models.Model):
    """One entry of a ticket's timeline: created, a status change, an assignment, a comment."""

    class Kind(models.TextChoices):
        CREATED = "created", pgettext_lazy("ticket event", "Opened")
        STATUS = "status", pgettext_lazy("ticket event", "Status changed")
        ASSIGNED = "assigned", pgettext_lazy("ticket event", "Assigned")
        NOTE = "note", pgettext_lazy("ticket event", "Internal note")
        REPLY = "reply", pgettext_lazy("ticket event", "Reply to the customer")
        BREACH = "breach", pgettext_lazy("ticket event", "Service level missed")
        RATING = "rating", pgettext_lazy("ticket event", "Satisfaction rating")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(pgettext_lazy("ticket event", "kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(pgettext_lazy("ticket event", "time"), default=timezone.now)
    from_status = models.CharField(_("from status"), max_length=20, choices=Ticket.Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=Ticket.Status.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "pk"]
        indexes = [
            # The ticket's timeline.
            models.Index(fields=["ticket", "at"], name="ticket_event_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


def ticket_attachment_path(instance: "TicketAttachment", filename: str) -> str:
    import uuid

    return f"tickets/{instance.ticket_id}/{uuid.uuid4().hex}"


class TicketAttachment(models.Model):
    """A file on a ticket; typed by content and stored outside the web root like customer files."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=ticket_attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name
