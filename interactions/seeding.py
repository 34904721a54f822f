"""Demo history for ``seed_demo``: interactions (跟进记录) and follow-up tasks (跟进任务).

The 60 hand-shaped demo customers get a year of history (they were created within the past
year), the ``--customers N`` ones up to three years. 100,000 customers bring about a million
interactions and 300,000 tasks, so rows are built as plain tuples and loaded with ``COPY`` on
PostgreSQL (``bulk_create`` elsewhere), and this module keeps by hand what the services keep
one row at a time:

- numbers ``G`` + local date + daily sequence come from the daily counters of
  ``accounts.numbering`` (all days reserved in one statement), in time order within each day;
- an interaction happens after its customer was created and never in the future, in working
  hours, mostly on weekdays; its contact is one of the customer's own; its owner is the
  customer's owner, sometimes a collaborator, or the team lead on a visit;
- a done task points at the interaction that completed it and the one that proposed it; open
  tasks fall due by the cadence rules, some overdue (待跟进) by 1–20 days;
- ``Customer.last_contacted_at`` / ``next_follow_up_at`` are recomputed from the rows at the end;
- a few demo customers and contacts have their birthday in the coming days, and the care sweep
  (``interactions.services.care``) runs last, so the demo shows care tasks (关怀).

Everything random comes from ``context.rng``: the same seed gives the same history.
"""

import calendar
import datetime
import io
import itertools
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone

from accounts.numbering import reserve_numbers_by_key
from accounts.seeding import SeedContext
from customers.models import Contact, Customer
from interactions.models import CadenceRule, FollowUpTask, Interaction
from interactions.services.care import care_tasks_create
from interactions.services.follow_up import customers_refresh_follow_up

DEMO_CUSTOMERS = 60
# Demo customers (individuals) and contacts whose birthday is moved into the coming days.
DEMO_BIRTHDAYS = 3
BATCH = 5000  # interactions per insert; the tasks of the same customers follow in one insert
DAY = 86_400
METHODS = ["phone", "wechat", "visit", "email", "meeting", "other"]
METHOD_CUMULATIVE = list(itertools.accumulate([38, 26, 14, 11, 8, 3]))
# Interactions per customer before the age and stage factors: about ten on average.
BASE_COUNT = {"A": 17.0, "B": 11.0, "C": 6.5}
LOST_FACTOR = 0.55
DONE_SHARE = 0.22  # of interactions after the first: they completed the task the previous one set
CANCELLED_SHARE = 0.02
OVERDUE_SHARE = 0.2
SUBTASK_SHARE = 0.05
DUE_HOURS = [9, 10, 10, 10, 14, 15, 16]
PRIORITIES = [2, 2, 2, 2, 2, 3, 3, 1, 4]

# (topic, summary, feedback, next step, proposal sent) by phase of the relationship:
# 0 finding the need, 1 proposal and negotiation, 2 after the deal, 3 revisiting a lost customer.
ENTRIES = [
    [
        ("初次沟通", "介绍公司和主要产品，了解客户业务规模和采购计划", "", "发送产品资料和案例", False),
        ("需求调研", "了解现有系统，客户提到数据分散、统计靠手工", "想先看同行案例", "整理需求清单", False),
        ("资料跟进", "客户已收到资料，解答了部署方式和数据安全问题", "需要内部讨论", "一周后确认意向", False),
        ("产品演示", "演示核心功能，客户对移动端和报表比较感兴趣", "担心员工上手难度", "开通试用账号", False),
        ("展会后回访", "展会上留下联系方式，回访确认需求，计划下半年采购", "", "下月再次联系", False),
        ("联系决策人", "经采购经理约到分管副总，介绍了合作模式", "决策要等年度预算", "预算确定后详谈", False),
    ],
    [
        ("需求确认", "确认需求范围和预算区间，客户计划本季度内决策", "预算还要走审批", "编写初步方案", False),
        ("方案讲解", "讲解实施方案，客户技术负责人问了接口对接", "对实施周期有顾虑", "补充接口说明", False),
        ("发送报价方案", "已发送正式报价单和实施方案，请客户内部评审", "", "两天内确认报价反馈", True),
        ("价格谈判", "客户希望价格再优惠5%，并延长免费维保期", "竞品报价更低", "申请特价审批", False),
        ("商务条款沟通", "沟通付款方式和交付时间，客户法务在审合同", "要求分三期付款", "跟进合同审批", False),
        ("试用反馈", "试用两周评价不错，客户提出三条改进建议", "部分报表不合习惯", "反馈给产品部门", False),
        ("技术交流", "售前工程师与客户IT部门交流部署和迁移方案", "关心历史数据迁移", "提供迁移方案", False),
    ],
    [
        ("合同签订", "合同已签署，确认首付款时间和项目启动会安排", "", "安排项目启动会", False),
        ("实施进度沟通", "第一阶段上线完成，客户对进度满意", "希望加快培训节奏", "安排第二次培训", False),
        ("售后回访", "回访使用情况，系统稳定，用户反馈良好", "个别页面打开较慢", "提交技术支持工单", False),
        ("续约沟通", "沟通明年续约和增购账号事宜", "希望续约价格不变", "准备续约报价", False),
        ("满意度回访", "了解服务满意度，客户给出九分评价", "", "", False),
        ("高层拜访", "陪同经理拜访客户总经理，沟通年度合作计划", "对新模块有兴趣", "提交新模块方案", False),
        ("节日问候", "节日问候，顺便了解近期业务情况", "", "", False),
    ],
    [
        ("流失回访", "了解流失原因：客户选择了价格更低的竞品", "对售后响应不满意", "三个月后再次回访", False),
        ("重新激活沟通", "客户有新项目，愿意重新了解我们的方案", "", "发送最新产品资料", False),
    ],
]
EXTRA_FEEDBACK = ["价格偏高", "需要和老板商量", "目前没有预算", "对服务很满意", "希望尽快上线", ""]
FIRST_CONTACT = "首次联系，了解客户需求"
SUBTASKS = ["准备技术方案", "申请特价审批", "安排工程师现场勘察", "整理报价清单", "准备合同草稿"]

# Row layouts (tuples, not model instances: a million of those would take minutes to build).
INTERACTION_COLUMNS = [
    ("number", "str"), ("customer_id", "int"), ("contact_id", "int"), ("method", "str"),
    ("occurred_at", "time"), ("owner_id", "int"), ("topic", "text"), ("summary", "text"),
    ("feedback", "text"), ("next_step", "text"), ("next_step_due", "date"), ("proposal_sent", "bool"),
    ("created_by_id", "int"), ("created_at", "time"),
]  # fmt: skip
I_CONTACT, I_AT, I_OWNER, I_NEXT_STEP, I_PROPOSAL, I_CREATED = 2, 4, 5, 9, 11, 13
TASK_COLUMNS = [
    ("customer_id", "int"), ("contact_id", "int"), ("parent_id", "int"), ("kind", "str"), ("owner_id", "int"),
    ("due_at", "time"), ("content", "text"), ("priority", "int"), ("status", "str"),
    ("cadence_rule_id", "int"), ("completed_by_interaction_id", "int"), ("source_interaction_id", "int"),
    ("completed_at", "time"), ("created_by_id", "int"), ("created_at", "time"), ("version", "int"),
]  # fmt: skip
T_CUSTOMER, T_CONTACT, T_PARENT, T_OWNER, T_DUE, T_STATUS, T_CREATED = 0, 1, 2, 4, 5, 8, 14
OPEN, DONE, CANCELLED = FollowUpTask.Status.OPEN.value, FollowUpTask.Status.DONE.value, "cancelled"
FOLLOW_UP = FollowUpTask.Kind.FOLLOW_UP.value


@dataclass
class Row:
    """A customer as its history needs it."""

    pk: int
    owner_id: int
    lead_id: int | None
    created: int  # epoch seconds
    stage: str
    stage_changed: int | None
    value_class: str
    contacts: list[int] = field(default_factory=list)  # the primary first
    collaborators: list[int] = field(default_factory=list)


def seed_interactions(context: SeedContext) -> None:
    generated: list[Row] = []
    if context.extra_customers:
        # The customers seeder just created them: the newest N. Seeded once, never twice.
        first = Customer.objects.order_by("-pk").values_list("pk", flat=True)[
            context.extra_customers - 1 : context.extra_customers
        ]
        if first and not Interaction.objects.filter(customer_id__gte=first[0]).exists():
            generated = _rows(pk__gte=first[0])
    if not Interaction.objects.exists():
        candidates = Customer.objects.filter(deleted_at__isnull=True)
        if generated:
            candidates = candidates.filter(pk__lt=generated[0].pk)
        demo_ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:DEMO_CUSTOMERS])
        if demo_ids:
            with transaction.atomic():
                counts = _History(context, _rows(pk__in=demo_ids), demo=True).run()
                customers_refresh_follow_up(demo_ids)
                _birthdays_soon(context, demo_ids)
            context.log(f"{counts[0]} demo interactions and {counts[1]} follow-up tasks")
    if generated:
        started = time.monotonic()
        with transaction.atomic():
            counts = _History(context, generated, demo=False).run()
            _refresh_range(generated[0].pk)
        _analyze()
        context.log(
            f"{counts[0]} interactions and {counts[1]} follow-up tasks for generated customers "
            f"in {time.monotonic() - started:.1f} s"
        )
    # Idempotent (one care_key per occasion): a second seed run creates nothing twice.
    if created := care_tasks_create():
        context.log(f"{created} care tasks (birthdays and holidays)")


def _birthdays_soon(context: SeedContext, demo_ids: list[int]) -> None:
    """Move a few demo birthdays into the next days (the year of birth stays), so the care sweep
    has something to show; contacts get a birthday too (the customers seeder gives them none)."""
    rng, today = context.rng, timezone.localdate()

    def soon(birthday: datetime.date | None, index: int) -> datetime.date:
        day = today + datetime.timedelta(days=1 + index % 3)
        year = birthday.year if birthday else today.year - rng.randint(25, 55)
        if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
            year -= year % 4  # a leap year, close to the real one
        return day.replace(year=year)

    people = Customer.objects.filter(pk__in=demo_ids, kind=Customer.Kind.INDIVIDUAL).order_by("pk")
    for index, (pk, birthday) in enumerate(people.values_list("pk", "birthday")[:DEMO_BIRTHDAYS]):
        Customer.objects.filter(pk=pk).update(birthday=soon(birthday, index))
    contacts = Contact.objects.filter(customer_id__in=demo_ids).order_by("customer_id", "-is_primary", "pk")
    picked = rng.sample(list(contacts.values_list("pk", "birthday")), k=min(DEMO_BIRTHDAYS, contacts.count()))
    for index, (pk, birthday) in enumerate(picked):
        Contact.objects.filter(pk=pk).update(birthday=soon(birthday, index))


def _rows(**lookup: object) -> list[Row]:
    rows = {}
    for pk, owner, lead, created, stage, changed, value_class in (
        Customer.objects.filter(**lookup)
        .order_by("pk")
        .values_list(
            "pk", "owner_id", "owner__team__lead_id", "created_at", "stage", "stage_changed_at", "value_class"
        )
    ):
        changed_at = int(changed.timestamp()) if changed else None
        rows[pk] = Row(pk, owner, lead, int(created.timestamp()), stage, changed_at, value_class)
    # By pk range, not a list of 100,000 ids; the few outside the set are skipped below.
    span = {"customer_id__gte": min(rows, default=0), "customer_id__lte": max(rows, default=0)}
    contacts = Contact.objects.filter(**span).order_by("customer_id", "-is_primary", "pk")
    for customer_id, contact_id in contacts.values_list("customer_id", "pk"):
        if customer_id in rows:
            rows[customer_id].contacts.append(contact_id)
    through = Customer.collaborators.through
    for customer_id, user_id in through.objects.filter(**span).values_list("customer_id", "user_id"):
        if customer_id in rows:
            rows[customer_id].collaborators.append(user_id)
    return list(rows.values())


class _History:
    def __init__(self, context: SeedContext, rows: list[Row], *, demo: bool) -> None:
        self.rng, self.rows, self.demo = context.rng, rows, demo
        self.sales_ids = [user.pk for user in context.sales_users]
        now = timezone.now()
        self.now = int(now.timestamp())
        # Local days in epoch arithmetic; Asia/Shanghai has no daylight saving time.
        self.offset = int(timezone.localtime(now).utcoffset().total_seconds())
        self.today = (self.now + self.offset) // DAY
        rules = {(rule.trigger, rule.value): rule for rule in CadenceRule.objects.filter(active=True)}
        self.class_rules = {value: rules.get(("value_class", value)) for value in "ABC"}
        self.lost_rule = rules.get(("stage", "lost"))
        self.intent_rule = rules.get(("stage", "intent"))
        self.proposal_rule = rules.get(("event", "proposal_sent"))
        self.day_text: dict[int, str] = {}
        self.interaction_table = _Table(Interaction, INTERACTION_COLUMNS)
        self.task_table = _Table(FollowUpTask, TASK_COLUMNS)
        self.interactions = self.tasks = 0

    def _due(self, day: int) -> int:
        return day * DAY + DUE_HOURS[int(self.rng.random() * len(DUE_HOURS))] * 3600 - self.offset

    def _times(self, row: Row) -> list[int]:
        """When the customer was contacted: working hours, mostly on weekdays, sorted."""
        rng, now, offset = self.rng, self.now, self.offset
        rand = rng.random  # randrange() and choice() cost ten times more per call
        start, end = row.created + 600, now - 60
        age = (now - row.created) / DAY
        if row.stage == "lost" and row.stage_changed and row.stage_changed > start + DAY:
            end = min(end, row.stage_changed)  # lost customers went quiet when they were lost
        if age < 3:
            count = rng.choice([0, 1, 1, 2])
        else:
            count = BASE_COUNT[row.value_class] * min(1.0, 0.15 + age / 100) * rng.uniform(0.5, 1.5)
            count = max(1, int(count * (LOST_FACTOR if row.stage == "lost" else 1) + 0.5))
        if end <= start:
            return []
        times = []
        for _ in range(count):
            moment = start + int(rand() * (end - start))
            day = (moment + offset) // DAY
            weekday = (day + 3) % 7  # 1 January 1970 was a Thursday
            if weekday >= 5 and rand() < 0.85:
                day += int(rand() * 5) - weekday  # a weekday of the same week
            snapped = day * DAY + 9 * 3600 + int(rand() * 9 * 3600) - offset
            if snapped > end:  # later today than now: the same hour the day before
                snapped -= DAY
            times.append(snapped if start <= snapped <= end else moment)
        if row.stage == "lost" and end < now - 3600 and rng.random() < 0.4:
            times.append(rng.randrange(end, now - 60))  # the revisit after losing them
        times.sort()
        return times

    def run(self) -> tuple[int, int]:
        plans = [self._times(row) for row in self.rows]
        flat = array("q", itertools.chain.from_iterable(plans))
        sequences = self._sequences(flat)
        batch: list[tuple[Row, list[int], int]] = []
        position = size = 0
        for row, times in zip(self.rows, plans, strict=True):
            batch.append((row, times, position))
            position += len(times)
            size += len(times)
            if size >= BATCH:
                self._insert(batch, sequences)
                batch, size = [], 0
        if batch:
            self._insert(batch, sequences)
        return self.interactions, self.tasks

    def _sequences(self, flat: array) -> array:
        """Each interaction's sequence within its local day, in time order; the numbers of all the
        days are reserved in one statement."""
        offset = self.offset
        days = [(moment + offset) // DAY for moment in flat]
        counts = Counter(days)
        self.day_text.update((day, f"{_date(day):%Y%m%d}") for day in counts)
        keys = {f"G{self.day_text[day]}": day for day in counts}
        firsts = reserve_numbers_by_key({key: counts[day] for key, day in keys.items()})
        next_value = {keys[key]: first for key, first in firsts.items()}
        sequences = array("q", bytes(8 * len(flat)))
        for index in sorted(range(len(flat)), key=flat.__getitem__):
            day = days[index]
            sequences[index] = next_value[day]
            next_value[day] += 1
        return sequences

    def _insert(self, batch: list[tuple[Row, list[int], int]], sequences: array) -> None:
        rng, now, offset, day_text = self.rng, self.now, self.offset, self.day_text
        rand = rng.random
        rows: list[tuple] = []
        for row, times, position in batch:
            methods = rng.choices(METHODS, cum_weights=METHOD_CUMULATIVE, k=len(times))
            contacts, total = row.contacts, len(times)
            for k, moment in enumerate(times):
                entries = ENTRIES[_phase(row, k / total, moment)]
                topic, summary, feedback, next_step, proposal = entries[int(rand() * len(entries))]
                if not feedback and rand() < 0.3:
                    feedback = EXTRA_FEEDBACK[int(rand() * len(EXTRA_FEEDBACK))]
                method, owner, chance = methods[k], row.owner_id, rand()
                if chance < 0.1 and row.collaborators:
                    owner = rng.choice(row.collaborators)
                elif chance < 0.25 and row.lead_id and method in ("visit", "meeting"):
                    owner = row.lead_id  # the team lead came along
                day = (moment + offset) // DAY
                contact = None
                if contacts:
                    contact = contacts[0] if rand() < 0.6 else contacts[int(rand() * len(contacts))]
                rows.append(
                    (
                        f"G{day_text[day]}{sequences[position + k]:03d}",
                        row.pk,
                        contact,
                        method,
                        moment,
                        owner,
                        topic,
                        summary,
                        feedback,
                        next_step,
                        day + 2 + int(rand() * 13) if next_step else None,
                        proposal,
                        owner,
                        min(moment + 300 + int(rand() * 5100), now),  # logged a little later
                    )
                )
        ids = self.interaction_table.insert(rows)
        self.interactions += len(rows)
        tasks: list[list] = []
        mains: list[list] = []
        start = 0
        for row, times, _position in batch:
            history = [(ids[index], rows[index]) for index in range(start, start + len(times))]
            start += len(times)
            tasks.extend(self._history_tasks(row, history))
            task = self._open_task(row, history)
            if task is not None:
                tasks.append(task)
                if rng.random() < (0.3 if self.demo else SUBTASK_SHARE):
                    mains.append(task)
        if self.demo:  # the demo customers' history is a single batch
            self._ensure_every_rep_has_work(tasks)
        task_ids = self.task_table.insert(tasks)
        parent_ids = {id(task): pk for task, pk in zip(tasks, task_ids, strict=True)}
        subtasks = [self._subtask(task, parent_ids[id(task)]) for task in mains]
        self.task_table.insert(subtasks)
        self.tasks += len(tasks) + len(subtasks)

    def _rule(self, row: Row, interaction: tuple | None) -> CadenceRule | None:
        """As ``cadence.cadence_rule_for``: a proposal sent, a need confirmed, lost, the class."""
        if interaction is not None and interaction[I_PROPOSAL] and self.proposal_rule:
            return self.proposal_rule
        if row.stage == "intent" and self.intent_rule and self.rng.random() < 0.3:
            return self.intent_rule
        if row.stage == "lost" and self.lost_rule:
            return self.lost_rule
        return self.class_rules.get(row.value_class)

    def _history_tasks(self, row: Row, interactions: list[tuple[int, tuple]]) -> list[list]:
        """Tasks an earlier interaction set: done by the next interaction, or cancelled."""
        tasks, rng = [], self.rng
        for (previous_id, previous), (current_id, current) in itertools.pairwise(interactions):
            chance = rng.random()
            if chance >= DONE_SHARE + CANCELLED_SHARE:
                continue
            rule = self._rule(row, previous)
            day = (previous[I_AT] + self.offset) // DAY + (rule.days if rule else 14)
            done = chance < DONE_SHARE
            step = previous[I_NEXT_STEP]
            tasks.append(
                [
                    row.pk,
                    previous[I_CONTACT],
                    None,
                    FOLLOW_UP,
                    current[I_OWNER] if done else previous[I_OWNER],
                    self._due(day),
                    step or (rule.task_content if rule else FIRST_CONTACT),
                    rng.choice(PRIORITIES),
                    DONE if done else CANCELLED,
                    None if step or rule is None else rule.pk,
                    current_id if done else None,
                    previous_id,
                    current[I_CREATED] if done else None,
                    previous[I_OWNER],
                    previous[I_CREATED],
                    2,
                ]
            )
        return tasks

    def _open_task(
        self, row: Row, interactions: list[tuple[int, tuple]], *, always: bool = False
    ) -> list | None:
        """The next follow-up by the cadence rules: most customers have one, lost ones seldom."""
        rng = self.rng
        if not always and rng.random() >= (0.3 if row.stage == "lost" else 0.9):
            return None
        last_id, last = interactions[-1] if interactions else (None, None)
        rule = self._rule(row, last)
        days = rule.days if rule else 14
        since_day = ((last[I_AT] if last else row.created) + self.offset) // DAY
        if rng.random() < OVERDUE_SHARE and self.today - since_day >= 2:
            day = max(self.today - rng.randint(1, 20), since_day + 1)  # overdue (待跟进) by 1–20 days
        elif since_day + days > self.today:
            day = since_day + days
        else:
            day = self.today + rng.randint(1, days)  # rescheduled after the cadence slipped
        content = FIRST_CONTACT
        if last is not None:
            content = last[I_NEXT_STEP] if last[I_NEXT_STEP] and rng.random() < 0.5 else None
            content = content or (rule.task_content if rule else FIRST_CONTACT)
        return [
            row.pk,
            last[I_CONTACT] if last else (row.contacts[0] if row.contacts else None),
            None,
            FOLLOW_UP,
            row.owner_id,
            self._due(day),
            content,
            rng.choice(PRIORITIES),
            OPEN,
            rule.pk if rule and last else None,
            None,
            last_id,
            None,
            row.owner_id,
            last[I_CREATED] if last else row.created,
            1,
        ]

    def _subtask(self, main: list, parent_id: int) -> list:
        """A need or problem found on the way, with its own owner and deadline (SPEC 3)."""
        rng = self.rng
        owner = main[T_OWNER]
        if self.demo and rng.random() < 0.4:
            owner = rng.choice(self.sales_ids)
        due = max(main[T_DUE] - rng.randint(1, 3) * DAY, main[T_CREATED] + 3600)
        created = main[T_CREATED]
        return [
            *main[:2], parent_id, FOLLOW_UP, owner, due, rng.choice(SUBTASKS), rng.choice(PRIORITIES), OPEN,
            None, None, None, None, main[T_OWNER], created, 1,
        ]  # fmt: skip

    def _ensure_every_rep_has_work(self, tasks: list[list]) -> None:
        """Every demo rep and manager gets an open, a done and an overdue task to show."""
        now, today = self.now, self.today
        mine: dict[int, list[list]] = defaultdict(list)
        for task in tasks:
            mine[task[T_OWNER]].append(task)
        for user_id in self.sales_ids:
            owned = mine[user_id]
            customers = [row for row in self.rows if row.owner_id == user_id and row.created < now - 3 * DAY]
            if not customers:
                continue
            future = [t for t in owned if t[T_STATUS] == OPEN and t[T_DUE] > now]
            if not any(t[T_STATUS] == OPEN and t[T_DUE] <= now for t in owned):
                # One whose last contact was a while ago slips into overdue (after that contact).
                stale = [t for t in future if t[T_CREATED] < now - 3 * DAY and len(future) > 1]
                task = stale[0] if stale else self._open_task(customers[0], [], always=True)
                since = (task[T_CREATED] + self.offset) // DAY
                task[T_DUE] = self._due(max(today - self.rng.randint(1, 5), since + 1))
                if stale:
                    future.remove(task)
                else:
                    tasks.append(task)
            if not future:
                task = self._open_task(customers[-1], [], always=True)
                task[T_DUE] = self._due(today + self.rng.randint(1, 5))
                tasks.append(task)
            if not any(t[T_STATUS] == DONE for t in owned):
                ids = {row.pk for row in customers}
                for task in tasks:
                    if task[T_STATUS] == DONE and task[T_CUSTOMER] in ids:
                        task[T_OWNER] = user_id
                        break


class _Memo(dict):
    """A dict that computes a missing value once: converting repeated values costs a lookup."""

    def __init__(self, compute: Callable) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: object) -> object:
        value = self[key] = self.compute(key)
        return value


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _can_copy() -> bool:
    """COPY on PostgreSQL; tests switch it off to check the ``bulk_create`` path."""
    return connection.vendor == "postgresql"


class _Table:
    """Inserts rows given as tuples in ``columns`` order and returns their primary keys.

    PostgreSQL: a block of keys is taken from the table's sequence first (tasks point at the
    interactions just written), then one ``COPY`` — several times faster than an INSERT of the
    same rows. Elsewhere (SQLite for a quick start): ``bulk_create``, which returns the keys.
    Call it inside a transaction (the table stays locked against other writers until its end).
    """

    def __init__(self, model: type[models.Model], columns: Sequence[tuple[str, str]]) -> None:
        self.model, self.names = model, [name for name, _kind in columns]
        self.copy = _can_copy()
        self.locked = False
        if self.copy:
            utc_days = _Memo(lambda day: f"{_date(day):%Y-%m-%d}")

            def moment(value: int) -> str:
                seconds = value % DAY
                clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
                return f"{utc_days[value // DAY]} {clock}+00"

            kinds: dict[str, Callable] = {
                "int": str,
                "str": str,
                "text": _Memo(_copy_text).__getitem__,
                "time": moment,
                "date": _Memo(lambda day: _date(day).isoformat()).__getitem__,
                "bool": {True: "t", False: "f"}.__getitem__,
            }
        else:
            kinds = {
                "time": lambda value: datetime.datetime.fromtimestamp(value, datetime.UTC),
                "date": _date,
            }
        self.converters = [kinds.get(kind) for _name, kind in columns]

    def insert(self, rows: list) -> Sequence[int]:
        if not rows:
            return []
        if not self.copy:
            objects = [self.model(**dict(zip(self.names, self._values(row), strict=True))) for row in rows]
            self.model.objects.bulk_create(objects, batch_size=BATCH)
            return [obj.pk for obj in objects]
        table = self.model._meta.db_table
        quote = connection.ops.quote_name
        converters = self.converters
        with connection.cursor() as cursor:
            if not self.locked:
                # Held to the end of the seeding transaction: nobody else inserts meanwhile, so a
                # block of keys can be taken from the sequence in one step (nextval per row costs
                # seconds for a million rows) — and two seed runs cannot interleave.
                cursor.execute(f"LOCK TABLE {quote(table)} IN SHARE ROW EXCLUSIVE MODE")
                self.locked = True
            cursor.execute(
                "WITH sequence AS (SELECT pg_get_serial_sequence(%s, 'id') AS name) "
                "SELECT setval(name, nextval(name) + %s) FROM sequence",
                [table, len(rows) - 1],
            )
            (last,) = cursor.fetchone()
            ids = range(last - len(rows) + 1, last + 1)
            lines = [
                "\t".join(
                    [str(pk)]
                    + [
                        "\\N" if value is None else convert(value)
                        for convert, value in zip(converters, row, strict=True)
                    ]
                )
                for pk, row in zip(ids, rows, strict=True)
            ]
            lines.append("")
            columns = ", ".join(quote(name) for name in ["id", *self.names])
            statement = f"COPY {quote(table)} ({columns}) FROM STDIN"
            if hasattr(cursor, "copy_expert"):  # psycopg2
                cursor.copy_expert(statement, io.StringIO("\n".join(lines)))
            else:  # psycopg 3
                with cursor.copy(statement) as copy:
                    copy.write("\n".join(lines))
        return ids

    def _values(self, row: Sequence) -> list:
        return [
            value if value is None or convert is None else convert(value)
            for convert, value in zip(self.converters, row, strict=True)
        ]


def _phase(row: Row, share: float, moment: int) -> int:
    """Where the relationship stood: 0 need, 1 proposal, 2 after the deal, 3 revisit after loss."""
    stage = row.stage
    if stage == "lost" and row.stage_changed and moment > row.stage_changed:
        return 3
    if stage == "intent":
        return 0 if share < 0.4 else 1
    if stage == "deal":
        return 0 if share < 0.25 else 1 if share < 0.6 else 2
    if stage == "lost":
        return 0 if share < 0.5 else 1
    return 0


def _date(day: int) -> datetime.date:
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=day)


def _refresh_range(first_pk: int) -> None:
    """``customers_refresh_follow_up`` for many customers: one set-based UPDATE over a pk range
    (a list of 100,000 ids would make a slow statement)."""
    last = (
        Interaction.objects.filter(customer=OuterRef("pk")).values("customer").annotate(at=Max("occurred_at"))
    )
    following = (
        FollowUpTask.objects.filter(customer=OuterRef("pk"), status=FollowUpTask.Status.OPEN)
        .values("customer")
        .annotate(at=Min("due_at"))
    )
    Customer.objects.filter(pk__gte=first_pk).update(
        last_contacted_at=Subquery(last.values("at")), next_follow_up_at=Subquery(following.values("at"))
    )


def _analyze() -> None:
    if connection.vendor == "postgresql":
        # Fresh statistics after a bulk load; without them the planner guesses from the old ones.
        with connection.cursor() as cursor:
            for model in (Interaction, FollowUpTask, Customer):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
