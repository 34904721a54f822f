"""Who may see or do what: the one home of row-level scope (SPEC section 1).

Scope has three levels, decided by permissions so an administrator can reshape roles in admin:

- ``ALL``: superusers and holders of ``accounts.scope_all`` (directors, administrators);
- ``TEAM``: holders of ``accounts.scope_team`` (sales managers) see the records of the teams
  they lead, plus everything a rep would see;
- ``OWN``: everyone else sees records they own and records shared with them.

Models opt in by giving their manager a ``ScopedQuerySet`` that names its owner, team and
shared-with fields. Views then only ever start from ``Model.objects.visible_to(request.user)``.
"""

from enum import StrEnum
from typing import Self

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"


def scope_of(user) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope.NONE
    if user.is_superuser or user.has_perm("accounts.scope_all"):
        return Scope.ALL
    if user.has_perm("accounts.scope_team"):
        return Scope.TEAM
    return Scope.OWN


def led_team_ids(user) -> list[int]:
    """Ids of the teams this user leads; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    if not hasattr(user, "_led_team_ids"):
        user._led_team_ids = list(user.led_teams.values_list("pk", flat=True))
    return user._led_team_ids


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows how to restrict itself to what a user may see.

    Subclasses name their owner, team and shared-with fields. ``prefix`` lets a child record
    (an interaction, say) filter through its foreign key with the parent's rules.
    """

    scope_owner: str | None = "owner"  # FK to accounts.User
    scope_team: str | None = "team"  # FK to accounts.Team: the owner's team, kept in step
    scope_shared: str | None = None  # M2M to accounts.User: collaborators

    def visible_to(self, user) -> Self:
        return self.filter(self.scope_q(user))

    def scope_q(self, user, prefix: str = "") -> Q:
        """The filter for ``user``, with every path prefixed (to filter through a relation)."""
        scope = scope_of(user)
        if scope is Scope.ALL:
            return Q()
        if scope is Scope.NONE:
            return Q(pk__in=[])
        condition = Q(**{f"{prefix}{self.scope_owner}": user})
        if self.scope_shared:
            field = self.model._meta.get_field(self.scope_shared)
            through = field.remote_field.through
            shared_ids = through._default_manager.filter(**{field.m2m_reverse_field_name(): user}).values(
                field.m2m_field_name()
            )
            condition |= Q(**{f"{prefix}pk__in": shared_ids})
        if scope is Scope.TEAM and self.scope_team and (team_ids := led_team_ids(user)):
            condition |= Q(**{f"{prefix}{self.scope_team}__in": team_ids})
        return condition


def require(user, permission: str) -> None:
    """403 for a user who may see a record but lacks the permission to act on it."""
    if not user.has_perm(permission):
        raise PermissionDenied
