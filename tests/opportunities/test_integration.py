"""Opportunities in the customers app's workflows: merge, transfer, timeline, erasure."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone

from customers import hooks
from customers.models import Customer
from customers.services import merge as merge_services
from customers.services.privacy import customer_erase
from customers.services.transfer import customers_transfer
from opportunities.models import Opportunity, Stage, StageChange
from opportunities.services import opportunity_move_stage
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, StageChangeFactory, lost_reason, stage

pytestmark = pytest.mark.django_db


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def test_merging_moves_opportunities_to_the_survivor(lead, rep, teammate):
    survivor, other = CustomerFactory(owner=rep), CustomerFactory(owner=teammate)
    moved = OpportunityFactory(customer=other)
    kept = OpportunityFactory(customer=survivor)
    handler = next(handler for handler in hooks.merge_handlers() if handler.name == "opportunities")
    assert handler.count(other) == 1
    merge_services.customer_merge(
        actor=lead,
        survivor=fresh(survivor),
        merged=fresh(other),
        choices={},
        expected_versions={c.pk: fresh(c).version for c in (survivor, other)},
    )
    moved.refresh_from_db()
    kept.refresh_from_db()
    assert moved.customer == survivor and kept.customer == survivor


def test_transfer_moves_open_opportunities_and_keeps_closed_ones(lead, rep, other_team_rep, teammate):
    customer = CustomerFactory(owner=rep)
    open_one = OpportunityFactory(customer=customer)
    won = OpportunityFactory(customer=customer)
    opportunity_move_stage(actor=rep, opportunity=won, stage=stage("赢单"))
    customers_transfer(actor=lead, customers=[fresh(customer)], new_owner=other_team_rep)
    open_one.refresh_from_db()
    won.refresh_from_db()
    assert open_one.owner == other_team_rep and open_one.team == other_team_rep.team
    assert won.owner == rep
    # The new owner now sees it; the old one no longer does (scope follows owner and team).
    assert Opportunity.objects.visible_to(other_team_rep).filter(pk=open_one.pk).exists()
    assert not Opportunity.objects.visible_to(rep).filter(pk=open_one.pk).exists()


def test_stage_changes_and_wins_appear_on_the_customer_timeline(client, rep):
    customer = CustomerFactory(owner=rep)
    opportunity = OpportunityFactory(customer=customer, name="年度维保续约")
    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("商务谈判"))
    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("赢单"))
    entries = [entry for entry in hooks.timeline_for(customer, rep) if entry.kind == "opportunity"]
    assert len(entries) == 2 and entries[0].icon == "trophy" and "年度维保续约" in entries[0].title
    client.force_login(rep)
    response = client.get(reverse("customers:customer-detail", args=[customer.pk]))
    assert "年度维保续约" in response.content.decode()


def test_erasure_clears_the_opportunity_texts_and_keeps_the_record(lead, rep):
    customer = CustomerFactory(owner=rep)
    opportunity = OpportunityFactory(customer=customer, notes="张总手机13812345678", next_step="给张总打电话")
    other = OpportunityFactory(customer=CustomerFactory(owner=rep), notes="张总手机13812345678")
    customer_erase(actor=lead, customer=fresh(customer))
    opportunity.refresh_from_db()
    other.refresh_from_db()
    assert "13812345678" not in opportunity.notes and "张总" not in opportunity.next_step
    assert opportunity.amount == Decimal("100000.00") and opportunity.number
    assert "13812345678" in other.notes


def test_lost_reason_history_feeds_analytics(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    StageChangeFactory(opportunity=opportunity)
    opportunity_move_stage(
        actor=rep, opportunity=opportunity, stage=stage("输单"), lost_reason=lost_reason("预算不足")
    )
    assert list(
        StageChange.objects.filter(opportunity=opportunity)
        .order_by("changed_at")
        .values_list("to_stage__name", flat=True)
    ) == ["需求分析", "输单"]


# Seeding


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_opportunities_in_every_stage_with_histories():
    seed()
    stages = set(Opportunity.objects.values_list("stage__name", flat=True))
    assert stages == set(Stage.objects.values_list("name", flat=True))
    now = timezone.now()
    assert not StageChange.objects.filter(changed_at__gt=now).exists()
    assert not Opportunity.objects.filter(created_at__gt=now).exists()
    assert not Opportunity.objects.annotate(n=Count("stage_changes")).filter(n=0).exists()
    # The last change is the current stage; closed ones are closed, open ones have a next step.
    for opportunity in Opportunity.objects.all():
        last = opportunity.stage_changes.order_by("-changed_at", "-pk").first()
        assert last.to_stage_id == opportunity.stage_id
        assert (opportunity.closed_at is None) == opportunity.stage.is_open
        if opportunity.closed_at is None:
            assert opportunity.next_step and opportunity.next_step_date
    assert (
        not Opportunity.objects.exclude(team_id=F("owner__team_id"))
        .exclude(owner__team__isnull=True)
        .exists()
    )
    numbers = list(Opportunity.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert Opportunity.objects.filter(stage__is_lost=True, lost_reason__isnull=True).count() == 0


def test_seed_demo_scales_with_generated_customers_and_runs_twice_without_duplicates():
    seed("--customers", "300")
    count = Opportunity.objects.count()
    assert count >= 60  # about one in three of 300, plus the demo ones
    seed()
    assert Opportunity.objects.count() == count


def test_personal_data_export_includes_the_customers_opportunities(client, lead, rep):
    import json

    customer, other = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    mine = OpportunityFactory(customer=customer, notes="张总的需求")
    OpportunityFactory(customer=other)
    client.force_login(lead)
    response = client.post(
        reverse("customers:customer-personal-data", args=[customer.pk]), {"action": "export"}
    )
    data = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)
    assert [entry["number"] for entry in data["opportunities"]] == [mine.number]
    assert data["opportunities"][0]["notes"] == "张总的需求"
