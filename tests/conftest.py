"""Personas shared by every test: two sales teams, a director, a service agent, an admin.

team A: ``lead`` (sales manager) with ``rep`` and ``teammate``;
team B: ``other_lead`` with ``other_team_rep``.
"""

import pytest
from pytest_django.plugin import blocking_manager_key

from accounts import roles
from tests.factories.accounts import TeamFactory, UserFactory
from tests.migration_data import migration_data, restore_migration_data  # noqa: F401  (fixture)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test (threads, a worker, a browser) ends by emptying every table; put the
    data migrations' rows (roles, stages, cadence rules…) back for the tests that follow it: pytest
    may run plain database tests after it (parametrized browser fixtures reorder items). After all
    of the test's fixtures are torn down, since pytest-django's own flush comes last."""
    yield
    from django.db import connection

    # After the session's last test the test database may already be torn down, and the
    # connection points at the development database again: leave that one alone.
    if not connection.settings_dict["NAME"].startswith("test_"):
        return
    if {"transactional_db", "live_server"} & set(item.fixturenames):
        with item.config.stash[blocking_manager_key].unblock():
            restore_migration_data()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """PBKDF2 takes ~0.3 s a password by design; tests only need passwords to round-trip."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team_a(db):
    return TeamFactory(name="华东销售一组")


@pytest.fixture
def team_b(db):
    return TeamFactory(name="华南销售组")


def make_lead(team, username: str):
    user = UserFactory(username=username, team=team, role=roles.SALES_MANAGER)
    team.lead = user
    team.save(update_fields=["lead"])
    return user


@pytest.fixture
def lead(team_a):
    return make_lead(team_a, "lead")


@pytest.fixture
def rep(team_a, lead):
    return UserFactory(username="rep", team=team_a, role=roles.SALES_REP)


@pytest.fixture
def teammate(team_a, lead):
    return UserFactory(username="teammate", team=team_a, role=roles.SALES_REP)


@pytest.fixture
def other_lead(team_b):
    return make_lead(team_b, "other_lead")


@pytest.fixture
def other_team_rep(team_b, other_lead):
    return UserFactory(username="other_team_rep", team=team_b, role=roles.SALES_REP)


@pytest.fixture
def director(db):
    return UserFactory(username="director", role=roles.SALES_DIRECTOR)


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role=roles.SERVICE_AGENT)


@pytest.fixture
def administrator(db):
    return UserFactory(username="administrator", is_staff=True, role=roles.ADMINISTRATOR)


@pytest.fixture
def service_team(db):
    return TeamFactory(name="客户服务部")


@pytest.fixture
def service_manager(service_team):
    """Service manager (scope_team): lead of 客户服务部, sees the tickets of its agents."""
    user = UserFactory(username="service_manager", team=service_team, role=roles.SERVICE_MANAGER)
    service_team.lead = user
    service_team.save(update_fields=["lead"])
    return user


@pytest.fixture
def service_agent(service_team, service_manager):
    """A service agent of 客户服务部 (``agent`` has no team)."""
    return UserFactory(username="service_agent", team=service_team, role=roles.SERVICE_AGENT)
