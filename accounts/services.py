from collections.abc import Iterable

from django.db import transaction

from accounts.models import Team, User

_PREFERENCE_FIELDS = {"display_name", "email", "phone", "language", "time_zone"}


def user_update_preferences(*, user: User, **changes: str) -> User:
    unknown = set(changes) - _PREFERENCE_FIELDS
    if unknown:
        raise TypeError(f"Not a preference: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=list(changes))
    return user


@transaction.atomic
def team_set_members(*, team: Team, members: Iterable[User]) -> None:
    """Make ``members`` exactly the team's members; users taken out are left without a team."""
    member_ids = {user.pk for user in members}
    User.objects.filter(team=team).exclude(pk__in=member_ids).update(team=None)
    User.objects.filter(pk__in=member_ids).update(team=team)
