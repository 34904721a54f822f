"""Demo customers for ``seed_demo``: a hand-shaped set for every role, and ``--customers N``.

Rows are bulk-inserted (a benchmark fixture of 100,000 customers must load in seconds), so this
module keeps by hand the invariants the services keep: unique numbers from the daily sequence,
normalised keys and search text, one primary contact, a stage change per stage reached, the
team of the owner.
"""

import datetime
from collections import Counter
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from accounts.numbering import reserve_numbers
from accounts.seeding import SeedContext
from customers import normalize
from customers.models import (
    Contact,
    Customer,
    CustomerChange,
    Industry,
    Source,
    StageChange,
    Tag,
    value_class_for,
)

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
TITLES = ["总经理", "采购经理", "IT总监", "财务总监", "运营经理", "行政主管", "技术负责人", "董事长助理"]
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
# Company names: city + brand + trade + legal form gives tens of millions of combinations, so a
# generated base has about as few accidental namesakes as a real one.
BRAND_SYLLABLES = list(
    "华瑞鑫恒泰达兴源盛嘉宏益博通安康晟睿德信腾飞龙凯旭伟宇新力辰锦航诚昌隆中天海星远东方明光正金银美佳和润丰永"
)
TRADES = [
    "科技", "精密机械", "智能装备", "新材料", "物流", "贸易", "医疗器械", "电子", "软件", "信息技术",
    "食品", "化工", "包装", "建材", "环保", "能源", "汽车配件", "纺织", "家居", "教育咨询",
    "餐饮管理", "文化传媒", "生物医药", "供应链", "实业", "电气", "光电", "数据服务", "农业", "印务",
]  # fmt: skip
LEGAL_FORMS = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司"]
# Share of generated customers that repeat an earlier one with small differences (suffix dropped,
# full-width letters, +86 before the phone): what the duplicate warnings and the scan must find.
NEAR_DUPLICATE_SHARE = 0.005
ANNUAL_VALUES = [Decimal(v) for v in (20_000, 60_000, 90_000, 150_000, 280_000, 450_000, 650_000, 1_200_000)]
STAGE_PATH = [Customer.Stage.POTENTIAL, Customer.Stage.INTENT, Customer.Stage.DEAL]
BATCH = 2000


def seed_customers(context: SeedContext) -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(context.rng.randint(0, 2**31))
    if not Customer.objects.exists():
        _create(context, fake, count=60, days_back=365, demo=True)
        context.log("60 demo customers with contacts, tags and stage histories")
    if context.extra_customers:
        _create(context, fake, count=context.extra_customers, days_back=3 * 365, demo=False)
        context.log(f"{context.extra_customers} generated customers")


def _create(context: SeedContext, fake: Faker, *, count: int, days_back: int, demo: bool) -> None:
    rng = context.rng
    industries = list(Industry.objects.all())
    sources = list(Source.objects.all())
    tags_by_dimension: dict[int, list[Tag]] = {}
    for tag in Tag.objects.filter(active=True):
        tags_by_dimension.setdefault(tag.dimension_id, []).append(tag)
    owners = context.sales_users
    now = timezone.now()
    # Each customer gets a creation day; its number comes from that day's sequence.
    days = sorted((rng.randrange(days_back) for _ in range(count)), reverse=True)
    if demo:
        # The newest few were created in the last three days, so reviews wait on the lead's page.
        days[-8:] = sorted((rng.randrange(4) for _ in range(8)), reverse=True)
    per_day = Counter(days)
    with transaction.atomic():
        numbers: list[str] = []
        for days_ago in sorted(per_day, reverse=True):
            day = timezone.localdate() - datetime.timedelta(days=days_ago)
            numbers.extend(reserve_numbers("C", per_day[days_ago], day=day))
        for start in range(0, count, BATCH):
            batch = [
                _customer(rng, fake, numbers[index], days[index], now, owners, industries, sources, demo)
                for index in range(start, min(start + BATCH, count))
            ]
            _insert(rng, fake, batch, tags_by_dimension, demo)
        if demo:
            _share_some(context)
    if connection.vendor == "postgresql":
        # Fresh statistics after a bulk load; without them the planner guesses from the old ones.
        with connection.cursor() as cursor:
            for model in (Customer, Contact, StageChange, Customer.tags.through):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _insert(rng, fake, batch: list[Customer], tags_by_dimension: dict[int, list[Tag]], demo: bool) -> None:
    contacts_by_number: dict[str, list[Contact]] = {}
    for index, customer in enumerate(batch):
        if index and rng.random() < NEAR_DUPLICATE_SHARE:
            _near_duplicate(rng, batch[rng.randrange(index)], customer)
        contacts = _contacts(rng, fake, customer)
        contacts_by_number[customer.number] = contacts
        normalize.set_keys(customer, [(c.name, c.phone, c.email) for c in contacts])
    Customer.objects.bulk_create(batch)  # PostgreSQL and SQLite return the primary keys
    contacts, stage_changes, tag_links, history = [], [], [], []
    through = Customer.tags.through
    for customer in batch:
        for contact in contacts_by_number[customer.number]:
            contact.customer = customer
            contacts.append(contact)
        stage_changes.extend(_stage_history(rng, customer))
        dimensions = list(tags_by_dimension.values())
        for dimension_tags in rng.sample(dimensions, k=rng.randint(1, len(dimensions))) if dimensions else []:
            tag_links.append(through(customer_id=customer.pk, tag_id=rng.choice(dimension_tags).pk))
        if demo:
            history.append(
                CustomerChange(
                    customer=customer, action="created", actor=customer.owner, at=customer.created_at
                )
            )
    Contact.objects.bulk_create(contacts)
    StageChange.objects.bulk_create(stage_changes)
    through.objects.bulk_create(tag_links, ignore_conflicts=True)
    CustomerChange.objects.bulk_create(history)


def _customer(rng, fake, number, days_ago, now, owners, industries, sources, demo) -> Customer:
    owner = owners[rng.randrange(len(owners))]
    province, cities = REGIONS[rng.randrange(len(REGIONS))]
    created_at = now - datetime.timedelta(days=days_ago, minutes=rng.randrange(600))
    value = ANNUAL_VALUES[rng.randrange(len(ANNUAL_VALUES))]
    stage = rng.choices(
        [Customer.Stage.POTENTIAL, Customer.Stage.INTENT, Customer.Stage.DEAL, Customer.Stage.LOST],
        weights=[4, 3, 2, 1],
    )[0]
    # Demo data: a few fresh profiles wait for the lead's review, some already past 24 hours.
    review = Customer.ReviewStatus.APPROVED
    if demo and days_ago <= 3 and rng.random() < 0.7:
        review = Customer.ReviewStatus.PENDING
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
        "review_status": review,
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
            email=f"{fake.user_name()}{rng.randrange(100, 10_000)}@{fake.free_email_domain()}",
            **common,
        )
    incomplete = review == Customer.ReviewStatus.PENDING and rng.random() < 0.5
    domain = f"{fake.domain_word()}{rng.randrange(10, 10_000)}.com.cn"
    return Customer(
        kind=Customer.Kind.ENTERPRISE,
        name=_company_name(rng, common["city"]),
        # An incomplete demo profile lacks its industry and size, for the review queue.
        industry=None if incomplete else industries[rng.randrange(len(industries))],
        employee_band="" if incomplete else rng.choice(Customer.EmployeeBand.values),
        revenue_band=rng.choice(Customer.RevenueBand.values),
        email=f"{fake.user_name()}{rng.randrange(100, 1000)}@{domain}",
        website=f"https://www.{domain}",
        **common,
    )


def _company_name(rng, city: str) -> str:
    brand = "".join(rng.sample(BRAND_SYLLABLES, rng.choice([2, 2, 3])))
    return f"{city}{brand}{rng.choice(TRADES)}{rng.choice(LEGAL_FORMS)}"


def _near_duplicate(rng, original: Customer, copy: Customer) -> None:
    """Make ``copy`` look like a second profile of ``original``, as reps create them."""
    if original.kind == Customer.Kind.ENTERPRISE:
        for suffix in LEGAL_FORMS:  # 有限公司 dropped or changed
            if original.name.endswith(suffix):
                copy.name = original.name[: -len(suffix)] + rng.choice(["公司", "", "有限公司"])
                break
        copy.kind, copy.industry, copy.employee_band = (
            original.kind,
            original.industry,
            original.employee_band,
        )
    else:
        copy.name, copy.kind, copy.gender = original.name, original.kind, original.gender
    if rng.random() < 0.6:
        copy.phone = f"+86 {original.phone}"
    else:
        copy.email = original.email.upper()


def _contacts(rng, fake, customer: Customer) -> list[Contact]:
    """Enterprises get one to three contacts, the first primary; individuals none."""
    if customer.kind != Customer.Kind.ENTERPRISE:
        return []
    contacts = []
    for index in range(rng.choice([1, 1, 2, 2, 3])):
        phone = fake.phone_number()
        # A colleague at the customer's own domain (its website's), as business contacts are.
        domain = customer.website.removeprefix("https://www.") or fake.free_email_domain()
        email = f"{fake.user_name()}{rng.randrange(10, 1000)}@{domain}"
        contacts.append(
            Contact(
                name=fake.name(),
                title=TITLES[rng.randrange(len(TITLES))],
                phone=phone,
                phone_key=normalize.phone_key(phone),
                email=email,
                email_key=normalize.email_key(email),
                birthday=_contact_birthday(phone),
                is_primary=index == 0,
                created_at=customer.created_at,
            )
        )
    return contacts


def _contact_birthday(phone: str) -> datetime.date | None:
    """About half the contacts have a known birthday (for care tasks), derived from their phone
    number so the random streams, and so every other seeded value, stay as they were."""
    digits = [int(char) for char in phone if char.isdigit()][-6:]
    if len(digits) < 6 or digits[-1] % 2:
        return None
    year = 1965 + (digits[0] * 10 + digits[1]) % 35
    return datetime.date(year, 1 + (digits[2] * 10 + digits[3]) % 12, 1 + (digits[4] * 10 + digits[5]) % 28)


def _stage_history(rng, customer: Customer) -> list[StageChange]:
    """The stages a customer went through to reach its current one, with dates in between."""
    if customer.stage == Customer.Stage.LOST:
        path = [*STAGE_PATH[: rng.randint(1, 3)], Customer.Stage.LOST]
    else:
        path = STAGE_PATH[: STAGE_PATH.index(customer.stage) + 1]
    span = max((customer.stage_changed_at - customer.created_at).total_seconds(), 1)
    changes, previous = [], ""
    for index, stage in enumerate(path):
        at = customer.created_at + datetime.timedelta(seconds=span * index / max(len(path) - 1, 1))
        changes.append(
            StageChange(
                customer=customer,
                from_stage=previous,
                to_stage=stage,
                changed_at=at,
                changed_by=customer.owner,
            )
        )
        previous = stage
    return changes


def _share_some(context: SeedContext) -> None:
    """rep2 collaborates on a few of rep1's customers, so sharing shows in the demo."""
    rep1, rep2 = context.users["rep1"], context.users["rep2"]
    for customer in Customer.objects.filter(owner=rep1).order_by("pk")[:3]:
        customer.collaborators.add(rep2)
