import io

import pytest
from django.core.management import CommandError, call_command

from accounts import roles
from accounts.models import User
from customers.models import Customer


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_one_account_per_role_with_the_readme_password(db):
    seed()
    expected = {
        "admin": roles.ADMINISTRATOR,
        "director": roles.SALES_DIRECTOR,
        "manager1": roles.SALES_MANAGER,
        "rep1": roles.SALES_REP,
        "rep2": roles.SALES_REP,
        "manager2": roles.SALES_MANAGER,
        "rep3": roles.SALES_REP,
        "agent1": roles.SERVICE_AGENT,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password("demo12345")
    assert User.objects.get(username="rep1").team.lead.username == "manager1"
    assert User.objects.get(username="rep3").team.lead.username == "manager2"


def test_seed_demo_makes_customers_of_every_kind_class_and_stage(db):
    seed()
    customers = Customer.objects.all()
    assert {c.kind for c in customers} == set(Customer.Kind.values)
    assert {c.value_class for c in customers} == set(Customer.ValueClass.values)
    assert {c.stage for c in customers} == set(Customer.Stage.values)
    assert len({c.number for c in customers}) == customers.count()
    assert all(c.team_id == c.owner.team_id for c in customers.select_related("owner"))


def test_seed_demo_twice_creates_nothing_twice(db):
    seed()
    counts = (User.objects.count(), Customer.objects.count())
    seed()
    assert (User.objects.count(), Customer.objects.count()) == counts


def test_seed_demo_if_empty_leaves_an_existing_database_alone(rep):
    assert "not loaded" in seed("--if-empty")
    assert not User.objects.filter(username="rep1").exists()


def test_seed_demo_refuses_known_passwords_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="demo12345"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists()


def test_seed_demo_generates_extra_customers_in_bulk(db, django_assert_max_num_queries):
    seed()
    before = Customer.objects.count()
    # One number reservation per creation day (three years at most) and one insert per 2,000 rows:
    # bounded by the calendar, not by the number of customers (the price list's dozen products,
    # each sales-document table's batches and the demo tickets add a constant).
    with django_assert_max_num_queries(3 * 366 + 120):
        seed("--customers", "3000")
    assert Customer.objects.count() == before + 3000


def test_seed_demo_customers_have_contacts_tags_stage_history_and_search_keys(db):
    from customers.models import Contact, StageChange

    seed()
    enterprise = Customer.objects.filter(kind="enterprise").first()
    primary = Contact.objects.get(customer=enterprise, is_primary=True)
    assert primary.name.lower() in enterprise.search_text
    assert enterprise.phone_key and enterprise.name_key
    assert Customer.objects.filter(tags__isnull=False).distinct().count() == Customer.objects.count()
    deal = Customer.objects.filter(stage="deal").first()
    path = list(
        StageChange.objects.filter(customer=deal).order_by("changed_at").values_list("to_stage", flat=True)
    )
    assert path == ["potential", "intent", "deal"]
    assert Customer.objects.filter(review_status="pending").exists()
