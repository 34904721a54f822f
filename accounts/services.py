from collections.abc import Iterable

from django.db import transaction

from accounts import notifications
from accounts.models import NotificationEmailChoice, Team, User

_PREFERENCE_FIELDS = {"display_name", "email", "phone", "language", "time_zone"}


@transaction.atomic
def user_update_preferences(*, user: User, email_kinds: Iterable[str] | None = None, **changes: str) -> User:
    """Save the user's preferences; ``email_kinds`` (when given) are the notification kinds they
    want by e-mail, the other registered kinds are not e-mailed."""
    unknown = set(changes) - _PREFERENCE_FIELDS
    if unknown:
        raise TypeError(f"Not a preference: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))
    if email_kinds is not None:
        user_set_email_kinds(user=user, email_kinds=email_kinds)
    return user


@transaction.atomic
def user_set_email_kinds(*, user: User, email_kinds: Iterable[str]) -> None:
    """Record the user's choice for every registered kind: e-mail for ``email_kinds``, not for
    the others."""
    wanted = set(email_kinds)
    registered = {kind.key for kind in notifications.kinds()}
    unknown = wanted - registered
    if unknown:
        raise TypeError(f"Not a notification kind: {', '.join(sorted(unknown))}")
    NotificationEmailChoice.objects.bulk_create(
        [NotificationEmailChoice(user=user, kind=key, email=key in wanted) for key in sorted(registered)],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["email"],
    )


@transaction.atomic
def team_set_members(*, team: Team, members: Iterable[User]) -> None:
    """Make ``members`` exactly the team's members; users taken out are left without a team."""
    member_ids = {user.pk for user in members}
    User.objects.filter(team=team).exclude(pk__in=member_ids).update(team=None)
    User.objects.filter(pk__in=member_ids).update(team=team)
