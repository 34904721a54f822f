"""The five roles of SPEC section 1, as Django groups.

A role is a group with permissions. What a user may *see* is decided by two permissions of ours
(``accounts.scope_all`` and ``accounts.scope_team``, read by ``accounts.access``); what they may
*do* by ordinary model permissions. Both are editable in Django admin, so an administrator can
shape a role without code. The group names below are how migrations find the groups again.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    group_name: str
    label: Promise


SALES_REP = Role("Sales rep", _("Sales rep"))
SALES_MANAGER = Role("Sales manager", _("Sales manager"))
SALES_DIRECTOR = Role("Sales director", _("Sales director"))
SERVICE_MANAGER = Role("Service manager", _("Service manager"))
SERVICE_AGENT = Role("Service agent", _("Service agent"))
ADMINISTRATOR = Role("Administrator", _("Administrator"))

# Most powerful first: a user in several groups is shown with the first one that matches.
ROLES: tuple[Role, ...] = (
    ADMINISTRATOR,
    SALES_DIRECTOR,
    SALES_MANAGER,
    SERVICE_MANAGER,
    SALES_REP,
    SERVICE_AGENT,
)
ROLE_BY_GROUP = {role.group_name: role for role in ROLES}


def grant_permissions(apps, grants: Mapping[str, Iterable[str]]) -> None:
    """Give each role group (created if missing) the permissions named ``app_label.codename``.

    For data migrations: the accounts migration uses it for the first roles, and each later app's
    migration grants its own model permissions the same way. Permissions are normally created
    after all migrations have run, so the ones of the apps named here are created first.
    """
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    labels = {name.split(".", 1)[0] for names in grants.values() for name in names}
    for label in labels:
        app_config = apps.get_app_config(label)
        # Historical app configs have no models module; create_permissions skips them without one.
        app_config.models_module = getattr(app_config, "models_module", None) or True
        create_permissions(app_config, verbosity=0, apps=apps)
    for group_name, names in grants.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        for name in names:
            app_label, codename = name.split(".", 1)
            permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            group.permissions.add(permission)
