"""The one scoping mechanism (accounts.access), exercised on customers for every role."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.access import Scope, scope_of
from customers.models import Customer
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory


@pytest.fixture
def book(rep, teammate, other_team_rep, lead, other_lead):
    """One customer per owner, plus one of the teammate's shared with the rep."""
    return {
        "rep": CustomerFactory(owner=rep),
        "teammate": CustomerFactory(owner=teammate),
        "shared_with_rep": CustomerFactory(owner=teammate, collaborators=[rep]),
        "lead": CustomerFactory(owner=lead),
        "other_team_rep": CustomerFactory(owner=other_team_rep),
        "other_lead": CustomerFactory(owner=other_lead),
    }


def visible(user, book) -> set[str]:
    ids = set(Customer.objects.visible_to(user).values_list("pk", flat=True))
    return {key for key, customer in book.items() if customer.pk in ids}


def test_rep_sees_own_customers_and_those_shared_with_them(rep, book):
    assert visible(rep, book) == {"rep", "shared_with_rep"}


def test_teammate_does_not_see_other_reps_customers(teammate, book):
    assert visible(teammate, book) == {"teammate", "shared_with_rep"}


def test_lead_sees_every_customer_of_the_team_they_lead(lead, book):
    assert visible(lead, book) == {"rep", "teammate", "shared_with_rep", "lead"}


def test_lead_of_other_team_sees_only_that_team(other_lead, book):
    assert visible(other_lead, book) == {"other_team_rep", "other_lead"}


def test_director_sees_every_team(director, book):
    assert visible(director, book) == set(book)


def test_administrator_sees_every_team(administrator, book):
    assert visible(administrator, book) == set(book)


def test_superuser_without_groups_sees_everything(book):
    root = UserFactory(username="root", is_superuser=True)
    assert visible(root, book) == set(book)


def test_service_agent_sees_only_what_they_own(agent, book):
    assert visible(agent, book) == set()
    CustomerFactory(owner=agent)
    assert Customer.objects.visible_to(agent).count() == 1


def test_user_without_role_sees_only_own(book, team_a):
    newcomer = UserFactory(username="newcomer", team=team_a)
    assert scope_of(newcomer) is Scope.OWN
    assert visible(newcomer, book) == set()


def test_inactive_and_anonymous_users_see_nothing(rep, book):
    rep.is_active = False
    assert visible(rep, book) == set()
    assert visible(AnonymousUser(), book) == set()


def test_lead_who_lost_manager_role_falls_back_to_own(lead, book):
    lead.groups.clear()
    lead = type(lead).objects.get(pk=lead.pk)  # fresh permission cache
    assert scope_of(lead) is Scope.OWN
    assert visible(lead, book) == {"lead"}


def test_manager_role_without_a_led_team_sees_own_and_shared(book, team_a, rep):
    from accounts import roles

    deputy = UserFactory(username="deputy", team=team_a, role=roles.SALES_MANAGER)
    shared = CustomerFactory(owner=rep, collaborators=[deputy])
    ids = set(Customer.objects.visible_to(deputy).values_list("pk", flat=True))
    assert ids == {shared.pk}


def test_shared_customer_appears_once_even_with_several_collaborators(rep, teammate, lead):
    customer = CustomerFactory(owner=lead, collaborators=[rep, teammate])
    assert list(Customer.objects.visible_to(rep)) == [customer]


def test_scope_follows_role_changes_made_in_admin(rep, book):
    from django.contrib.auth.models import Group

    Group.objects.get(name="Sales rep").permissions.add(
        *Group.objects.get(name="Sales director").permissions.filter(codename="scope_all")
    )
    rep = type(rep).objects.get(pk=rep.pk)
    assert visible(rep, book) == set(book)


def test_visible_to_costs_one_query(rep, book, django_assert_num_queries):
    rep = type(rep).objects.get(pk=rep.pk)
    rep.has_perm("accounts.scope_all")  # warm the permission cache, as the request would
    with django_assert_num_queries(1):
        list(Customer.objects.visible_to(rep))


def test_scope_q_with_a_prefix_filters_through_a_relation(rep, book):
    """How a child record (e.g. a follow-up of a customer) reuses the customer's rules."""
    from accounts.models import User

    prefixed = Customer.objects.all().scope_q(rep, prefix="owned_customers__")
    owners = set(User.objects.filter(prefixed).values_list("username", flat=True).distinct())
    assert owners == {"rep", "teammate"}  # owner of the rep's own and of the shared customer


def test_require_is_403_for_a_permission_the_role_lacks(rep, director):
    from django.core.exceptions import PermissionDenied

    from accounts.access import require

    require(rep, "customers.change_customer")
    with pytest.raises(PermissionDenied):
        require(director, "customers.change_customer")
