import importlib

from django.apps import apps as global_apps
from django.contrib.auth.models import Group

from accounts import roles
from accounts.access import Scope, scope_of
from tests.factories.accounts import UserFactory


def test_migration_created_the_five_role_groups(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert {role.group_name for role in roles.ROLES} <= names


def perms(group_name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_each_role_has_the_permissions_of_spec_section_one(db):
    assert "accounts.scope_all" in perms("Sales director")
    assert "customers.change_customer" not in perms("Sales director")  # reads everything, changes nothing
    assert "accounts.scope_team" in perms("Sales manager")
    assert {"customers.add_customer", "customers.change_customer"} <= perms("Sales rep")
    assert not {"accounts.scope_all", "accounts.scope_team"} & perms("Sales rep")
    assert {"accounts.change_user", "auth.change_group", "accounts.change_team"} <= perms("Administrator")


def test_roles_give_the_expected_scope(rep, lead, director, agent, administrator):
    assert [scope_of(u) for u in (rep, lead, director, agent, administrator)] == [
        Scope.OWN,
        Scope.TEAM,
        Scope.ALL,
        Scope.OWN,
        Scope.ALL,
    ]


def test_user_role_is_the_most_powerful_group(rep, db):
    assert rep.role == roles.SALES_REP
    rep.groups.add(Group.objects.get(name=roles.SALES_MANAGER.group_name))
    assert rep.role == roles.SALES_MANAGER
    assert UserFactory(username="nobody").role is None


def test_running_the_roles_migration_again_keeps_admin_edits_and_adds_nothing_twice(db):
    migration = importlib.import_module("accounts.migrations.0002_roles")
    rep_group = Group.objects.get(name="Sales rep")
    extra = Group.objects.get(name="Sales director").permissions.get(codename="scope_all")
    rep_group.permissions.add(extra)  # an administrator widened the role
    before = {name: perms(name) for name in ("Sales manager", "Administrator", "Sales rep")}
    migration.create_roles(global_apps, None)
    assert {name: perms(name) for name in before} == before
    assert Group.objects.filter(name="Sales manager").count() == 1
