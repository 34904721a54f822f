"""In-app notifications (the bell) and their e-mails, for every app.

``accounts`` sits below the apps that notify (interactions, later opportunities and service), so
they register their kinds here in ``AppConfig.ready()``; the preferences page lists the registered
kinds so users choose which ones they also get by e-mail (a kind's ``email_default`` until
they choose).

``notify`` writes the notification and sends the e-mail synchronously: callers that must deliver
exactly once (the reminder sweeps) call it inside the transaction that marks their outbox row sent.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise

from accounts.models import Notification, NotificationEmailChoice, User


@dataclass(frozen=True)
class Kind:
    key: str
    label: Promise  # shown on the preferences page
    email_default: bool = True


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Register a kind (idempotent: registering the same key again replaces it)."""
    _kinds[kind.key] = kind


def kinds() -> list[Kind]:
    """The registered kinds, in the order they were registered (the preferences page's order)."""
    return list(_kinds.values())


def kind_for(key: str) -> Kind:
    try:
        return _kinds[key]
    except KeyError:
        raise LookupError(f"No notification kind {key!r} is registered") from None


@contextmanager
def recipient_locale(user: User) -> Iterator[None]:
    """Render in the recipient's language and time zone (texts are stored already rendered)."""
    zone = ZoneInfo(user.time_zone or settings.TIME_ZONE)
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(zone):
        yield


def email_kinds_of(user: User) -> set[str]:
    """The registered kinds ``user`` gets by e-mail (their choice, else the kind's default)."""
    chosen = dict(NotificationEmailChoice.objects.filter(user=user).values_list("kind", "email"))
    return {kind.key for kind in kinds() if chosen.get(kind.key, kind.email_default)}


def wants_email(user: User, key: str) -> bool:
    if not (user.is_active and user.email):
        return False
    choice = (
        NotificationEmailChoice.objects.filter(user=user, kind=key).values_list("email", flat=True).first()
    )
    return kind_for(key).email_default if choice is None else choice


def absolute_url(path: str) -> str:
    """SITE_URL (e.g. https://crm.example.com) makes links in e-mails absolute when configured."""
    return settings.SITE_URL + path if path.startswith("/") else path


def notify(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email_template: str = "",
    email_context: dict | None = None,
) -> Notification:
    """Create ``recipient``'s notification and, when they want it, send its e-mail.

    ``title`` and ``body`` must already be rendered in the recipient's language (render them in
    ``recipient_locale(recipient)``). The e-mail is ``emails/<email_template>_{subject.txt,
    body.txt,body.html}`` rendered in the recipient's language and time zone with
    ``email_context`` plus ``recipient``, ``title``, ``body`` and the absolute ``link``. A failing
    e-mail raises, so the caller's transaction (and the notification) rolls back and is retried.
    """
    kind_for(kind)  # a typo in a kind fails loudly, not silently as a kind nobody can opt out of
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, title=title[:255], body=body, url=url
    )
    if email_template and wants_email(recipient, kind):
        context = {
            **(email_context or {}),
            "recipient": recipient,
            "title": title,
            "body": body,
            "link": absolute_url(url) if url else "",
            "preferences_link": absolute_url(reverse("accounts:preferences")),
        }
        with recipient_locale(recipient):
            subject = " ".join(render_to_string(f"emails/{email_template}_subject.txt", context).split())
            text = render_to_string(f"emails/{email_template}_body.txt", context)
            html = render_to_string(f"emails/{email_template}_body.html", context)
        message = EmailMultiAlternatives(subject, text, to=[recipient.email])
        message.attach_alternative(html, "text/html")
        message.send()
    return notification


# Reads and writes of the notifications page (only ever the user's own).


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_mark_read(*, user: User, notification: Notification) -> None:
    if notification.recipient_id != user.pk:
        raise PermissionError("Only the recipient marks a notification read")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
