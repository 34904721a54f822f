"""Demo customers for ``seed_demo``: a hand-shaped set for every role, and ``--customers N``."""

import datetime
from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from faker import Faker

from accounts.numbering import reserve_numbers
from accounts.seeding import SeedContext
from customers.models import Customer, Industry, Source, value_class_for

REGIONS = [
    ("上海市", ["上海"]),
    ("北京市", ["北京"]),
    ("天津市", ["天津"]),
    ("广东省", ["广州", "深圳", "东莞", "佛山"]),
    ("浙江省", ["杭州", "宁波", "温州"]),
    ("江苏省", ["南京", "苏州", "无锡"]),
    ("四川省", ["成都", "绵阳"]),
    ("湖北省", ["武汉", "宜昌"]),
    ("山东省", ["青岛", "济南", "烟台"]),
    ("福建省", ["厦门", "福州"]),
]
OCCUPATIONS = ["教师", "医生", "律师", "工程师", "设计师", "会计", "企业主", "公务员", "自由职业", "销售经理"]
NEEDS = [
    "需要一套覆盖全国门店的会员管理系统",
    "计划明年更换现有ERP，关注实施周期和价格",
    "希望提升售后响应速度，需要工单系统",
    "采购办公设备，预算约二十万",
    "寻找长期物流合作伙伴，重点是华东仓配",
    "了解私有化部署方案与数据安全保障",
    "个人理财咨询，关注稳健型产品",
    "为新工厂采购自动化生产线设备",
]
ANNUAL_VALUES = [Decimal(v) for v in (20_000, 60_000, 90_000, 150_000, 280_000, 450_000, 650_000, 1_200_000)]


def seed_customers(context: SeedContext) -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(context.rng.randint(0, 2**31))
    if not Customer.objects.exists():
        _create(context, fake, count=60, days_back=365, demo=True)
        context.log("60 demo customers")
    if context.extra_customers:
        _create(context, fake, count=context.extra_customers, days_back=3 * 365, demo=False)
        context.log(f"{context.extra_customers} generated customers")


def _create(context: SeedContext, fake: Faker, *, count: int, days_back: int, demo: bool) -> None:
    rng = context.rng
    industries = list(Industry.objects.all())
    sources = list(Source.objects.all())
    owners = context.sales_users
    now = timezone.now()
    # Each customer gets a creation day; its number comes from that day's sequence.
    days = sorted(rng.randrange(days_back) for _ in range(count))
    per_day = Counter(days)
    numbers: list[str] = []
    with transaction.atomic():
        for days_ago in sorted(per_day, reverse=True):
            day = timezone.localdate() - datetime.timedelta(days=days_ago)
            numbers.extend(reserve_numbers("C", per_day[days_ago], day=day))
        batch: list[Customer] = []
        for index, days_ago in enumerate(sorted(days, reverse=True)):
            batch.append(
                _customer(rng, fake, numbers[index], days_ago, now, owners, industries, sources, demo)
            )
            if len(batch) == 2000:
                Customer.objects.bulk_create(batch)
                batch.clear()
        Customer.objects.bulk_create(batch)
        if demo:
            _share_some(context)


def _customer(rng, fake, number, days_ago, now, owners, industries, sources, demo) -> Customer:
    owner = owners[rng.randrange(len(owners))]
    province, cities = REGIONS[rng.randrange(len(REGIONS))]
    created_at = now - datetime.timedelta(days=days_ago, minutes=rng.randrange(600))
    value = ANNUAL_VALUES[rng.randrange(len(ANNUAL_VALUES))]
    stage = rng.choices(
        [Customer.Stage.POTENTIAL, Customer.Stage.INTENT, Customer.Stage.DEAL, Customer.Stage.LOST],
        weights=[4, 3, 2, 1],
    )[0]
    individual = rng.random() < 0.3
    common = {
        "number": number,
        "phone": fake.phone_number(),
        "needs": NEEDS[rng.randrange(len(NEEDS))],
        "source": sources[rng.randrange(len(sources))],
        "first_contact_date": (created_at - datetime.timedelta(days=rng.randrange(30))).date(),
        "province": province,
        "city": cities[rng.randrange(len(cities))],
        "address": fake.street_address(),
        "expected_annual_value": value,
        "value_class": value_class_for(value),
        "stage": stage,
        "stage_changed_at": created_at + datetime.timedelta(days=rng.randrange(max(days_ago, 1))),
        "owner": owner,
        "team_id": owner.team_id,
        "created_by": owner,
        "created_at": created_at,
    }
    if individual:
        birthday = fake.date_of_birth(minimum_age=22, maximum_age=70)
        return Customer(
            kind=Customer.Kind.INDIVIDUAL,
            name=fake.name(),
            gender=rng.choice([Customer.Gender.FEMALE, Customer.Gender.MALE]),
            birthday=birthday,
            occupation=OCCUPATIONS[rng.randrange(len(OCCUPATIONS))],
            email=fake.free_email(),
            **common,
        )
    return Customer(
        kind=Customer.Kind.ENTERPRISE,
        name=fake.company(),
        industry=industries[rng.randrange(len(industries))],
        employee_band=rng.choice(Customer.EmployeeBand.values),
        revenue_band=rng.choice(Customer.RevenueBand.values),
        email=fake.company_email(),
        website=f"https://www.{fake.domain_word()}.cn",
        **common,
    )


def _share_some(context: SeedContext) -> None:
    """rep2 collaborates on a few of rep1's customers, so sharing shows in the demo."""
    rep1, rep2 = context.users["rep1"], context.users["rep2"]
    for customer in Customer.objects.filter(owner=rep1).order_by("pk")[:3]:
        customer.collaborators.add(rep2)
