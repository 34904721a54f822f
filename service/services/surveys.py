"""Satisfaction surveys (满意度): after a ticket closes, and once a quarter for deal customers.

The link carries a random token (``secrets.token_urlsafe(32)``: 256 bits); only its SHA-256 is
stored, so the raw link exists only when it is made. That is why an invitation's e-mail is sent by
whoever makes the token: ``survey_send`` (a Celery task after commit, or the delivery sweep)
draws a fresh token, stores its hash and mails the link in one transaction; an invitation without
an e-mail address shows its link once to the agent who made it (``SurveyLink.url``), and "resend"
(``survey_resend``) draws a new one, which makes the previous link worthless.

Answers (``survey_answer``) are single-use under a row lock; a score of ``SURVEY_LOW_SCORE`` or
less opens an improvement task for the service manager (a follow-up task of the interactions app,
once per invitation by its ``care_key``) and notifies them.

The quarterly survey (``quarterly_surveys_plan``) inserts one invitation per deal customer and
period ("2026Q4") in batches under the unique (customer, period) constraint, so the daily run
does nothing twice and an interrupted run resumes; ``surveys_deliver`` then mails the pending ones.
"""

import datetime
import hashlib
import logging
import re
import secrets
import time
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import notifications
from accounts.errors import DomainError
from accounts.models import Team, User
from accounts.roles import SERVICE_MANAGER
from customers.models import Contact, Customer
from interactions.models import FollowUpTask
from interactions.services.follow_up import task_create
from interactions.services.workdays import working_day_at
from service.models import SurveyInvitation, Ticket, TicketEvent

logger = logging.getLogger(__name__)

KIND_LOW_SCORE = "survey_low_score"
IMPROVEMENT_HOUR = 10
COMMENT_MAX = 2000
PLAN_BATCH = 1000
DELIVER_BATCH = 200
# A well-formed token: what secrets.token_urlsafe(32) makes (43 characters), with some slack.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,100}")


class SurveyClosed(DomainError):
    """The invitation was answered already or has expired (the public page says which)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "answered" or "expired"


@dataclass(frozen=True)
class SurveyLink:
    invitation: SurveyInvitation
    # The absolute link, when the caller must show it (no e-mail address, or a resend); None when
    # the e-mail carries it (the token is drawn again when it is sent).
    url: str | None


def register_notification_kinds() -> None:
    """Called from ServiceConfig.ready() (idempotent)."""
    notifications.register(
        notifications.Kind(
            key=KIND_LOW_SCORE,
            label=gettext_lazy("A customer gave a low satisfaction score (service managers)"),
        )
    )


# --- Tokens and links -----------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def survey_url(token: str) -> str:
    """The absolute link of the public survey page (SITE_URL + /s/<token>/)."""
    return notifications.absolute_url(reverse("service:survey-answer", args=[token]))


def expiry_after(moment: datetime.datetime) -> datetime.datetime:
    return moment + datetime.timedelta(days=settings.SURVEY_EXPIRY_DAYS)


def company_name() -> str:
    """Who asks: the company (letterhead setting), else the site's name, else the default."""
    return settings.COMPANY_NAME or settings.SITE_NAME or _("CRM")


def survey_by_token(token: str) -> SurveyInvitation | None:
    """The invitation of a link's token, or None. The lookup is by hash through the unique index,
    so it takes the same time whether or not a guess is close to a real token."""
    digest = hash_token(token[:200])
    if not TOKEN_PATTERN.fullmatch(token):
        digest = hash_token("")  # still one lookup, so a malformed guess costs the same
    return SurveyInvitation.objects.select_related("ticket", "customer").filter(token_hash=digest).first()


def survey_state(invitation: SurveyInvitation, now: datetime.datetime) -> str:
    """ "open", "answered" or "expired"."""
    if invitation.answered_at is not None:
        return "answered"
    if invitation.expires_at <= now:
        return "expired"
    return "open"


# --- Creating and sending invitations --------------------------------------------------------


def _ticket_email(ticket: Ticket) -> tuple[Contact | None, str]:
    contact = ticket.contact if ticket.contact_id else None
    if contact is not None and contact.email:
        return contact, contact.email
    return contact, ticket.customer.email


@transaction.atomic
def survey_for_closed_ticket(
    ticket: Ticket, *, actor, now: datetime.datetime | None = None
) -> SurveyLink | None:
    """The satisfaction survey of a ticket that was just closed (called by the close service in
    its transaction). One per ticket: None when the ticket had one already (closed again after a
    reopen). With an e-mail address (the contact's, else the customer's) the link is mailed after
    commit; without one ``url`` holds the link for the agent to pass on."""
    now = now or timezone.now()
    if SurveyInvitation.objects.filter(ticket=ticket, kind=SurveyInvitation.Kind.TICKET).exists():
        return None
    contact, email = _ticket_email(ticket)
    token, digest = _new_token()
    try:
        with transaction.atomic():  # a savepoint: a racing close made it first
            invitation = SurveyInvitation.objects.create(
                kind=SurveyInvitation.Kind.TICKET,
                token_hash=digest,
                ticket=ticket,
                customer_id=ticket.customer_id,
                contact=contact,
                email=email,
                created_at=now,
                expires_at=expiry_after(now),
                created_by=actor,
            )
    except IntegrityError:
        return None
    if email:
        _enqueue_send(invitation.pk)
        return SurveyLink(invitation, None)
    return SurveyLink(invitation, survey_url(token))


def _enqueue_send(invitation_id: int) -> None:
    from accounts.tasks import enqueue
    from service.tasks.surveys import send_survey_invitation

    enqueue(send_survey_invitation, invitation_id)


def _mail(invitation: SurveyInvitation, token: str) -> None:
    """The invitation e-mail, in the site's language (Chinese by default) and time zone."""
    context = {
        "invitation": invitation,
        "ticket": invitation.ticket,
        "company": company_name(),
        "greeting_name": invitation.contact.name if invitation.contact_id else invitation.customer.name,
        "link": survey_url(token),
        "expires_at": invitation.expires_at,
    }
    with (
        translation.override(settings.LANGUAGE_CODE),
        timezone.override(zoneinfo.ZoneInfo(settings.TIME_ZONE)),
    ):
        subject = " ".join(render_to_string("emails/survey_invitation_subject.txt", context).split())
        text = render_to_string("emails/survey_invitation_body.txt", context)
        html = render_to_string("emails/survey_invitation_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()


def survey_send(invitation_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Mail a pending invitation: a fresh token, its hash stored and the link sent in one
    transaction (a failing e-mail rolls back and leaves it pending for the sweep). False when it
    was sent, answered, has no address, or another worker holds it."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            SurveyInvitation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("ticket", "customer", "contact")
            .filter(pk=invitation_id, sent_at__isnull=True, answered_at__isnull=True)
            .exclude(email="")
            .first()
        )
        if invitation is None:
            return False
        token, invitation.token_hash = _new_token()
        invitation.sent_at, invitation.expires_at = now, expiry_after(now)
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        _mail(invitation, token)
    return True


def surveys_deliver(*, now: datetime.datetime | None = None, time_budget: float = 240.0) -> int:
    """Mail the pending invitations (planned quarterly ones, ticket ones whose task was lost) in
    batches; those not sent within SURVEY_EXPIRY_DAYS of their creation are given up. Returns how
    many were sent. A failing address is logged and retried on the next run."""
    now = now or timezone.now()
    deadline = time.monotonic() + time_budget
    sent, failed = 0, set()
    while time.monotonic() < deadline:
        ids = list(
            SurveyInvitation.objects.filter(
                sent_at__isnull=True,
                answered_at__isnull=True,
                created_at__gte=now - datetime.timedelta(days=settings.SURVEY_EXPIRY_DAYS),
            )
            .exclude(email="")
            .exclude(pk__in=failed)
            .order_by("pk")
            .values_list("pk", flat=True)[:DELIVER_BATCH]
        )
        if not ids:
            break
        for pk in ids:
            try:
                if survey_send(pk, now=now):
                    sent += 1
                else:
                    failed.add(pk)  # held by another worker, or no longer pending
            except Exception:
                logger.exception("Could not send satisfaction survey %s", pk)
                failed.add(pk)
    return sent


@transaction.atomic
def survey_resend(invitation: SurveyInvitation, *, actor, now: datetime.datetime | None = None) -> SurveyLink:
    """A new link for an unanswered invitation (the old one stops working), valid for another
    SURVEY_EXPIRY_DAYS, mailed when there is an address and always returned to be shown."""
    now = now or timezone.now()
    locked = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer", "contact")
        .get(pk=invitation.pk)
    )
    if locked.answered_at is not None:
        raise DomainError(_("The customer has already answered this survey."))
    token, locked.token_hash = _new_token()
    locked.expires_at = expiry_after(now)
    if locked.email:
        locked.sent_at = now
    locked.save(update_fields=["token_hash", "expires_at", "sent_at"])
    if locked.email:
        try:
            _mail(locked, token)
        except Exception as error:
            logger.exception("Could not resend satisfaction survey %s", locked.pk)
            raise DomainError(
                _("The e-mail could not be sent. Try again later, or pass the link on another way.")
            ) from error
    return SurveyLink(locked, survey_url(token))


# --- Answers ---------------------------------------------------------------------------------


@transaction.atomic
def survey_answer(
    invitation: SurveyInvitation, *, rating: int, comment: str = "", now: datetime.datetime | None = None
) -> SurveyInvitation:
    """Record the customer's answer once. A second answer or an expired link raises
    ``SurveyClosed``; a low score opens the improvement task."""
    now = now or timezone.now()
    if not 1 <= rating <= 5:
        raise DomainError(_("Choose a score from 1 to 5."), field="rating")
    locked = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer", "contact")
        .get(pk=invitation.pk)
    )
    state = survey_state(locked, now)
    if state == "answered":
        raise SurveyClosed(_("This survey has already been answered. Thank you!"), reason="answered")
    if state == "expired":
        raise SurveyClosed(_("This survey link has expired."), reason="expired")
    locked.answered_at, locked.rating, locked.comment = now, rating, comment.strip()[:COMMENT_MAX]
    locked.save(update_fields=["answered_at", "rating", "comment"])
    if locked.ticket_id:
        TicketEvent.objects.create(
            ticket_id=locked.ticket_id,
            kind=TicketEvent.Kind.RATING,
            at=now,
            # "4/5" then the comment: the ticket timeline shows both.
            body=f"{rating}/5" + (f"\n{locked.comment}" if locked.comment else ""),
        )
    if rating <= settings.SURVEY_LOW_SCORE:
        improvement_task_plan(locked, now=now)
    return locked


def improvement_owner(invitation: SurveyInvitation) -> User | None:
    """The service manager who follows up a low score: the lead of the ticket's team, else the
    first active service manager (one leading a team first), else the customer's owner."""
    ticket = invitation.ticket
    if ticket is not None and ticket.team_id:
        lead = User.objects.filter(led_teams__pk=ticket.team_id, is_active=True).order_by("pk").first()
        if lead is not None:
            return lead
    manager = (
        User.objects.filter(is_active=True, groups__name=SERVICE_MANAGER.group_name)
        .annotate(leads=Exists(Team.objects.filter(lead=OuterRef("pk"))))
        .order_by("-leads", "pk")
        .first()
    )
    if manager is not None:
        return manager
    owner = invitation.customer.owner
    return owner if owner.is_active else None


def improvement_key(invitation: SurveyInvitation) -> str:
    return f"survey:{invitation.pk}"


def improvement_task_plan(invitation: SurveyInvitation, *, now: datetime.datetime) -> FollowUpTask | None:
    """The improvement task of a low score (in the answer's transaction), due the next working
    day at 10:00 for its owner, and their notification. Once per invitation (care_key)."""
    key = improvement_key(invitation)
    if FollowUpTask.objects.filter(care_key=key).exists():
        return None
    owner = improvement_owner(invitation)
    if owner is None:
        logger.warning("No active service manager for the low score of survey %s", invitation.pk)
        return None
    ticket = invitation.ticket
    with notifications.recipient_locale(owner):
        if ticket is not None:
            # Translators: a task after a low satisfaction score, e.g. "改进：满意度 2 分 – 打印机无法联网".
            content = _("Improve: satisfaction %(rating)s – %(subject)s") % {
                "rating": invitation.rating,
                "subject": ticket.subject,
            }
        else:
            content = _("Improve: quarterly satisfaction %(rating)s – %(customer)s") % {
                "rating": invitation.rating,
                "customer": invitation.customer.name,
            }
        title = _("Low satisfaction score: %(rating)s of 5") % {"rating": invitation.rating}
    contact = invitation.contact if invitation.contact_id else None
    if contact is not None and contact.customer_id != invitation.customer_id:
        contact = None
    task = task_create(
        actor=None,
        owner=owner,
        customer=invitation.customer,
        contact=contact,
        due_at=working_day_at(now, days=1, hour=IMPROVEMENT_HOUR, time_zone=owner.time_zone),
        content=content[:255],
        priority=FollowUpTask.Priority.HIGH,
        care_key=key,
    )
    try:
        # A savepoint: a mail server that is down must not cost the customer their answer; the
        # task (with its own reminders) is what matters, the notification is a courtesy.
        with transaction.atomic():
            notifications.notify(
                recipient=owner,
                kind=KIND_LOW_SCORE,
                title=title,
                body=content,
                url=task.get_absolute_url(),
                email_template="survey_low_score",
                email_context={"invitation": invitation, "ticket": ticket, "task": task},
            )
    except Exception:
        logger.exception("Could not notify %s of the low score of survey %s", owner.pk, invitation.pk)
    return task


# --- The quarterly survey --------------------------------------------------------------------


def period_of(moment: datetime.datetime) -> str:
    """The quarter of ``moment`` in TIME_ZONE, e.g. "2026Q4"."""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def period_bounds(period: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of the quarter "2026Q4" and of the next one, in TIME_ZONE."""
    year, quarter = int(period[:4]), int(period[5])
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime(year, 3 * quarter - 2, 1, tzinfo=zone)
    end = datetime.datetime(year + quarter // 4, 3 * quarter % 12 + 1, 1, tzinfo=zone)
    return start, end


def _quarterly_candidates(period: str):
    primary = Contact.objects.filter(customer=OuterRef("pk"), is_primary=True).exclude(email="")
    invited = SurveyInvitation.objects.filter(
        customer=OuterRef("pk"), kind=SurveyInvitation.Kind.QUARTERLY, period=period
    )
    return (
        Customer.objects.filter(stage=Customer.Stage.DEAL, deleted_at__isnull=True, merged_into__isnull=True)
        .annotate(
            contact_email=Coalesce(Subquery(primary.values("email")[:1]), Value("")),
            contact_pk=Subquery(primary.values("pk")[:1]),
        )
        .filter(~Q(email="") | ~Q(contact_email=""))
        .exclude(Exists(invited))
    )


def quarterly_surveys_plan(*, now: datetime.datetime | None = None, batch: int = PLAN_BATCH) -> int:
    """Invite every deal customer with an e-mail address once for the current quarter; returns how
    many invitations were planned. Each batch commits on its own (one INSERT), so an interrupted
    run resumes where it stopped."""
    now = now or timezone.now()
    period = period_of(now)
    last_pk, created = 0, 0
    while True:
        rows = list(
            _quarterly_candidates(period)
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "email", "contact_email", "contact_pk")[:batch]
        )
        if not rows:
            return created
        invitations = [
            SurveyInvitation(
                kind=SurveyInvitation.Kind.QUARTERLY,
                # Never mailed: survey_send draws the real token when it sends.
                token_hash=_new_token()[1],
                customer_id=pk,
                contact_id=contact_pk if contact_email else None,
                email=contact_email or email,
                period=period,
                created_at=now,
                expires_at=expiry_after(now),
            )
            for pk, email, contact_email, contact_pk in rows
        ]
        # A run racing this one may have invited some of them: the unique constraint keeps one.
        SurveyInvitation.objects.bulk_create(invitations, ignore_conflicts=True)
        created += len(invitations)
        last_pk = rows[-1][0]


def quarterly_surveys_run(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """The daily beat task: plan this quarter's invitations, then mail the pending ones."""
    now = now or timezone.now()
    planned = quarterly_surveys_plan(now=now)
    return planned, surveys_deliver(now=now)
