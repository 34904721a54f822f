import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from opportunities.models import LostReason, Opportunity, Stage, StageChange, cny_amount
from tests.factories.customers import CustomerFactory


def stage(name: str) -> Stage:
    """One of the default stages of migration 0002 (线索, 需求分析, 方案报价, 商务谈判, 赢单, 输单)."""
    return Stage.objects.get(name=name)


def lost_reason(name: str = "价格过高") -> LostReason:
    return LostReason.objects.get(name=name)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """An open opportunity as the services would leave it (amount_cny computed, team from owner)."""

    class Meta:
        model = Opportunity

    number = factory.Sequence(lambda n: f"O20260101{n:04d}")
    name = factory.Sequence(lambda n: f"CRM系统采购{n}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda opportunity: opportunity.customer.owner)
    team = factory.LazyAttribute(lambda opportunity: opportunity.owner.team)
    amount = Decimal("100000.00")
    currency = Opportunity.Currency.CNY
    rate_to_cny = Decimal(1)
    amount_cny = factory.LazyAttribute(
        lambda opportunity: cny_amount(opportunity.amount, opportunity.rate_to_cny)
    )
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    stage = factory.LazyFunction(lambda: stage("需求分析"))
    probability = factory.LazyAttribute(lambda opportunity: opportunity.stage.probability)
    next_step = "发送报价单"
    next_step_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3))


class StageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageChange

    opportunity = factory.SubFactory(OpportunityFactory)
    to_stage = factory.LazyAttribute(lambda change: change.opportunity.stage)
    changed_by = factory.LazyAttribute(lambda change: change.opportunity.owner)
    amount = factory.LazyAttribute(lambda change: change.opportunity.amount)
    currency = factory.LazyAttribute(lambda change: change.opportunity.currency)
    amount_cny = factory.LazyAttribute(lambda change: change.opportunity.amount_cny)
