import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone, translation

from accounts.errors import ConcurrentEditError, DomainError
from customers.models import Customer
from customers.models import StageChange as CustomerStageChange
from opportunities.models import Opportunity, StageChange, cny_amount
from opportunities.services import opportunity_create, opportunity_move_stage, opportunity_update
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage

pytestmark = pytest.mark.django_db


def _fields(**overrides):
    fields = {
        "name": "门店管理系统",
        "amount": Decimal("120000"),
        "expected_close_date": timezone.localdate() + datetime.timedelta(days=30),
        "next_step": "安排产品演示",
        "next_step_date": timezone.localdate() + datetime.timedelta(days=2),
    }
    fields.update(overrides)
    return fields


def test_rep_creates_opportunity_with_number_team_default_probability_and_history(rep):
    customer = CustomerFactory(owner=rep)
    opportunity = opportunity_create(actor=rep, customer=customer, stage=stage("方案报价"), **_fields())
    assert opportunity.number.startswith(f"O{timezone.localdate():%Y%m%d}")
    assert opportunity.team == rep.team and opportunity.owner == rep
    assert opportunity.probability == 50
    assert opportunity.amount_cny == Decimal("120000.00") and opportunity.rate_to_cny == 1
    change = StageChange.objects.get(opportunity=opportunity)
    assert change.from_stage is None and change.to_stage.name == "方案报价" and change.changed_by == rep
    assert change.amount_cny == Decimal("120000.00")


def test_an_inactive_user_cannot_be_made_the_owner(rep, teammate):
    teammate.is_active = False
    teammate.save()
    with pytest.raises(DomainError) as error:
        opportunity_create(actor=rep, customer=CustomerFactory(owner=rep), owner=teammate, **_fields())
    assert error.value.field == "owner" and not Opportunity.objects.exists()


def test_amount_cny_is_rounded_once_half_up():
    assert cny_amount(Decimal("0.05"), Decimal("0.1")) == Decimal("0.01")  # 0.005 → 0.01, not banker's 0.00
    assert cny_amount(Decimal("1234.57"), Decimal("7.123456")) == Decimal("8794.41")  # 8794.405…
    assert cny_amount(Decimal("100"), Decimal("0.045")) == Decimal("4.50")
    assert cny_amount(Decimal("0.25"), Decimal("0.5")) == Decimal("0.13")  # 0.125 → 0.13 (half up)


def test_foreign_currency_needs_a_rate_and_stores_the_cny_amount(rep):
    customer = CustomerFactory(owner=rep)
    with pytest.raises(DomainError) as error:
        opportunity_create(actor=rep, customer=customer, currency="USD", rate_to_cny=None, **_fields())
    assert error.value.field == "rate_to_cny"
    assert not Opportunity.objects.exists()
    opportunity = opportunity_create(
        actor=rep,
        customer=customer,
        currency="USD",
        rate_to_cny=Decimal("7.1234"),
        **_fields(amount=Decimal("333.33")),
    )
    assert opportunity.amount_cny == Decimal("2374.44")  # 2374.4429… rounded once


def test_totals_over_currencies_add_the_stored_cny_amounts(rep):
    from django.db.models import Sum

    OpportunityFactory(customer=CustomerFactory(owner=rep), amount=Decimal("1000"))
    OpportunityFactory(
        customer=CustomerFactory(owner=rep), amount=Decimal("100"), currency="USD", rate_to_cny=Decimal("7.1")
    )
    OpportunityFactory(
        customer=CustomerFactory(owner=rep),
        amount=Decimal("10000"),
        currency="JPY",
        rate_to_cny=Decimal("0.0475"),
    )
    total = Opportunity.objects.aggregate(total=Sum("amount_cny"))["total"]
    assert total == Decimal("1000.00") + Decimal("710.00") + Decimal("475.00")


def test_open_opportunity_needs_a_next_step_and_its_date(rep):
    customer = CustomerFactory(owner=rep)
    with pytest.raises(DomainError) as error:
        opportunity_create(actor=rep, customer=customer, **_fields(next_step=" "))
    assert error.value.field == "next_step"
    with pytest.raises(DomainError) as error:
        opportunity_create(actor=rep, customer=customer, **_fields(next_step_date=None))
    assert error.value.field == "next_step_date"
    assert not Opportunity.objects.exists()


def test_move_records_history_and_probability_follows_the_stage(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep), probability=30)
    moved = opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("商务谈判"))
    assert moved.probability == 75 and moved.stage.name == "商务谈判" and moved.closed_at is None
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage.name, change.to_stage.name, change.changed_by) == ("需求分析", "商务谈判", rep)
    assert change.amount == opportunity.amount
    again = opportunity_move_stage(actor=rep, opportunity=moved, stage=stage("方案报价"), probability=60)
    assert again.probability == 60


def test_winning_closes_and_makes_the_customer_a_deal(rep):
    customer = CustomerFactory(owner=rep, stage=Customer.Stage.INTENT)
    opportunity = OpportunityFactory(customer=customer)
    won = opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("赢单"))
    assert won.closed_at is not None and won.probability == 100
    customer.refresh_from_db()
    assert customer.stage == Customer.Stage.DEAL
    assert CustomerStageChange.objects.filter(customer=customer, to_stage="deal", changed_by=rep).exists()


def test_losing_requires_a_reason_and_nothing_changes_without_one(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    with pytest.raises(DomainError) as error:
        opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("输单"))
    assert error.value.field == "lost_reason"
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "需求分析" and not StageChange.objects.exists()
    lost = opportunity_move_stage(
        actor=rep, opportunity=opportunity, stage=stage("输单"), lost_reason=lost_reason(), lost_note="太贵"
    )
    assert lost.closed_at is not None and lost.lost_reason.name == "价格过高" and lost.probability == 0


def test_a_lost_opportunity_can_be_reopened(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("输单"), lost_reason=lost_reason())
    reopened = opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("商务谈判"))
    assert reopened.closed_at is None and reopened.lost_reason is None
    assert StageChange.objects.filter(opportunity=opportunity).count() == 2


def test_second_save_of_a_stale_form_names_the_changed_fields(rep, teammate):
    from customers.services.history import snapshot
    from opportunities.services import EDITABLE_FIELDS

    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    seen = snapshot(opportunity, [*EDITABLE_FIELDS, "stage"])
    opportunity_update(
        actor=teammate, opportunity=opportunity, version=1, seen=seen, amount=Decimal("150000")
    )
    with translation.override("en"), pytest.raises(ConcurrentEditError) as error:
        opportunity_update(actor=rep, opportunity=opportunity, version=1, seen=seen, name="新名字")
    message = error.value.message
    assert "Amount" in message and "100000.00" in message and "150000.00" in message
    assert "Name" not in message
    opportunity.refresh_from_db()
    assert (
        opportunity.name != "新名字" and opportunity.amount == Decimal("150000") and opportunity.version == 2
    )


def test_update_recomputes_cny_amount_and_bumps_version(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    updated = opportunity_update(
        actor=rep,
        opportunity=opportunity,
        version=1,
        currency="EUR",
        rate_to_cny=Decimal("7.75"),
        amount=Decimal("10"),
    )
    assert updated.amount_cny == Decimal("77.50") and updated.version == 2


@pytest.mark.django_db(transaction=True)
def test_two_reps_creating_at_once_get_different_numbers(migration_data):
    first = stage("线索")
    reps = [UserFactory(username="opp_a"), UserFactory(username="opp_b")]
    customers = {user.pk: CustomerFactory(owner=user) for user in reps}
    numbers, errors = [], []

    def save(user):
        try:
            numbers.append(
                opportunity_create(actor=user, customer=customers[user.pk], stage=first, **_fields()).number
            )
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(user,)) for user in reps * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(numbers)) == 8
