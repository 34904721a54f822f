"""Demo tickets, satisfaction surveys and purchases for ``seed_demo`` (order 40, after customers,
interactions and opportunities).

agent1 and agent2 join every queue. The demo customers get zero to three tickets each over the
past six months, covering every type and every status; the ``--customers N`` ones about one in
five. Timings follow the service levels: a first response after minutes or hours (some late),
resolution after hours or days (some late), closing a day or two later, a few reopened; waiting
tickets have their clock paused. Each ticket gets its timeline (opened, assigned, replies, notes,
status changes, rating). Closed tickets get their satisfaction survey, most answered, a few with
low scores (the last month's with the improvement task the demo service manager finds in the
task list); deal customers get the quarterly survey of this and the last quarter, and a few a
purchase with its after-sales call.

Rows are built in memory and written with ``bulk_create`` in batches (three statements a batch);
numbers ``S`` + day come from ``accounts.numbering.reserve_numbers``, one statement per day, so
the statement count grows with the days covered (about 180), not with the number of tickets.
Business-hour targets are approximated (a working week of 37.5 hours stretched over the calendar)
instead of walking the opening hours ticket by ticket. Everything random comes from ``context.rng``.
"""

import datetime
import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.numbering import assign_numbers
from accounts.seeding import SeedContext
from customers.models import Contact, Customer
from interactions.models import FollowUpTask
from service.models import (
    Purchase,
    Queue,
    ResolutionCategory,
    ServiceLevel,
    SurveyInvitation,
    Ticket,
    TicketEvent,
)
from service.models.setup import TicketType

DEMO_CUSTOMERS = 60
GENERATED_SHARE = 0.2
HISTORY_DAYS = 180
RECENT_LOW_SCORE_DAYS = 30
BATCH = 5000
# Calendar time per business minute: 7.5 hours on 5 of 7 days.
BUSINESS_STRETCH = (24 * 7) / (7.5 * 5)

TYPES = [
    (TicketType.REQUEST, 40),
    (TicketType.COMPLAINT, 20),
    (TicketType.AFTER_SALES, 25),
    (TicketType.CONSULTATION, 15),
]
PRIORITIES = [(Ticket.Priority.LOW, 15), (Ticket.Priority.NORMAL, 55), (Ticket.Priority.HIGH, 22), (4, 8)]
CHANNELS = [
    (Ticket.Channel.PHONE, 45),
    (Ticket.Channel.WECHAT, 25),
    (Ticket.Channel.EMAIL, 15),
    (Ticket.Channel.WEB, 10),
    (Ticket.Channel.IN_PERSON, 5),
]
SUBJECTS = {
    TicketType.REQUEST: [
        ("开通新员工账号", "新入职三名员工，需要开通系统账号并分配销售角色。"),
        ("导出去年全年订单数据", "财务审计需要去年全年的订单明细，请协助导出 Excel。"),
        ("修改发票抬头", "公司名称已变更，后续发票请使用新的抬头和税号。"),
        ("申请上门培训", "新系统上线，希望安排一次针对门店店长的上门培训。"),
        ("增加打印模板", "需要一个带公司logo的送货单打印模板。"),
    ],
    TicketType.COMPLAINT: [
        ("送货延误三天", "承诺周一送达的货物周四才到，影响了我们的生产安排，请给出说明。"),
        ("客服电话长时间无人接听", "连续两天拨打服务热线都在排队，等待超过二十分钟。"),
        ("安装人员态度差", "上门安装的师傅迟到一小时且没有道歉，安装后现场也没有清理。"),
        ("发票金额与合同不符", "收到的发票金额比合同金额多了 1200 元，请尽快核实更正。"),
        ("同一问题反复出现", "上个月报修的故障又出现了，希望彻底解决而不是临时处理。"),
    ],
    TicketType.AFTER_SALES: [
        ("打印机无法联网", "设备重启后无法连接公司无线网络，指示灯一直闪烁。"),
        ("系统登录报错", "部分员工登录时提示“会话已过期”，清除缓存后仍然出现。"),
        ("设备异响需要检修", "空压机运行时有明显异响，担心影响使用寿命，请安排检修。"),
        ("更换损坏配件", "运输过程中外壳有破损，申请更换外壳配件。"),
        ("数据同步失败", "门店收银数据昨晚开始无法同步到总部，报表缺少当天数据。"),
        ("保修期内维修", "购买半年的设备电源模块故障，属于保修范围，请安排维修。"),
    ],
    TicketType.CONSULTATION: [
        ("咨询年度维保价格", "想了解明年续签维保服务的价格和服务内容有无调整。"),
        ("询问新版本功能", "听说新版本支持移动审批，想了解升级方式和费用。"),
        ("咨询批量采购折扣", "计划采购二十台设备，请问是否有批量折扣。"),
        ("如何设置审批流程", "想把报销审批改成两级审批，请问在哪里设置。"),
    ],
}
REPLIES = [
    "您好，已收到您的反馈，我们正在核实情况，稍后给您回电。",
    "您好，工程师已安排，预计明天上午上门处理。",
    "已为您查询，问题原因已定位，正在处理中。",
    "感谢您的耐心等待，我们已与相关部门确认处理方案。",
]
NOTES = [
    "已联系仓库确认发货记录。",
    "客户情绪较激动，注意沟通方式。",
    "需要研发协助排查日志。",
    "已申请备件，等待到货。",
    "与客户约定周三下午电话回访。",
]
WAITING_REPLIES = [
    "请您提供一下设备序列号和故障照片，方便我们进一步排查。",
    "麻烦您确认一下方便上门的时间。",
]
RESOLUTIONS = [
    "已远程协助客户完成设置，客户确认问题解决。",
    "工程师上门更换故障部件，设备恢复正常。",
    "已补发货物并给予运费补偿，客户接受处理方案。",
    "已向客户详细说明费用构成并发送资料。",
    "已更正发票并重新邮寄。",
]
COMMENTS_GOOD = ["处理很及时，谢谢！", "工程师很专业。", "响应快，问题解决了。", "服务态度很好。", ""]
COMMENTS_BAD = ["等了太久才有人处理。", "问题还没有彻底解决。", "沟通不顺畅，需要反复说明。"]
QUARTERLY_COMMENTS = ["整体满意，希望培训更多一些。", "产品稳定，服务及时。", "价格可以再优惠一些。", ""]
PURCHASES = ["办公打印机 3 台", "年度维保服务", "门店收银终端 10 套", "服务器扩容", "员工培训服务包"]
RATINGS = [1, 2, 3, 4, 5]
RATING_WEIGHTS = [3, 5, 12, 35, 45]


def seed_service(context: SeedContext) -> None:
    users = context.users
    agents = [users[name] for name in ("agent1", "agent2") if name in users]
    manager = users.get("svcmanager")
    for queue in Queue.objects.all():
        queue.agents.add(*agents)  # idempotent
    if not agents:
        context.log("no service agents: skipping tickets")
        return
    seeder = _Seeder(context, agents, manager)
    generated_from = None
    if context.extra_customers:
        first = Customer.objects.order_by("-pk").values_list("pk", flat=True)[
            context.extra_customers - 1 : context.extra_customers
        ]
        if first and not Ticket.objects.filter(customer_id__gte=first[0]).exists():
            generated_from = first[0]
    if not Ticket.objects.exists():
        candidates = Customer.objects.filter(deleted_at__isnull=True)
        if generated_from:
            candidates = candidates.filter(pk__lt=generated_from)
        with transaction.atomic():
            count = seeder.run(_rows(candidates.order_by("pk")[:DEMO_CUSTOMERS]), demo=True)
            seeder.quarterly(candidates.order_by("pk")[:DEMO_CUSTOMERS])
            seeder.purchases(candidates.order_by("pk")[:DEMO_CUSTOMERS])
        context.log(f"{count} demo tickets with timelines and satisfaction surveys")
    if generated_from:
        started = time.monotonic()
        with transaction.atomic():
            count = seeder.run(
                _rows(
                    Customer.objects.filter(pk__gte=generated_from, deleted_at__isnull=True).order_by("pk")
                ),
                demo=False,
            )
        context.log(f"{count} tickets for generated customers in {time.monotonic() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Ticket, TicketEvent, SurveyInvitation):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _rows(queryset) -> Iterable[tuple]:
    primary = Contact.objects.filter(customer=OuterRef("pk"), is_primary=True)
    return (
        queryset.annotate(
            contact_pk=Subquery(primary.values("pk")[:1]), contact_email=Subquery(primary.values("email")[:1])
        )
        .values_list("pk", "owner_id", "created_at", "email", "contact_pk", "contact_email", "stage")
        .iterator(chunk_size=BATCH)
    )


def _token_hash(rng) -> str:
    """A hash of a random token nobody knows: seeded surveys cannot be answered by link."""
    return hashlib.sha256(rng.randbytes(32)).hexdigest()


class _Seeder:
    def __init__(self, context: SeedContext, agents, manager) -> None:
        self.context = context
        self.rng = context.rng
        self.agents = agents
        self.handlers = [*agents, *([manager] if manager else [])]
        self.handler_weights = [45] * len(agents) + ([10] if manager else [])
        self.manager = manager
        self.now = timezone.now()
        self.levels = {(level.priority, level.ticket_type): level for level in ServiceLevel.objects.all()}
        self.queues = {queue.ticket_type: queue for queue in Queue.objects.all()}
        self.categories = list(ResolutionCategory.objects.filter(active=True).order_by("order"))
        self.low_scores: list[tuple[SurveyInvitation, str]] = []

    # --- helpers -------------------------------------------------------------------------------

    def _pick(self, weighted):
        values = [value for value, _weight in weighted]
        return self.rng.choices(values, weights=[weight for _value, weight in weighted])[0]

    def _targets(
        self, ticket_type: str, priority: int
    ) -> tuple[datetime.timedelta, datetime.timedelta] | None:
        level = self.levels.get((priority, ticket_type)) or self.levels.get((priority, ""))
        if level is None:
            return None
        stretch = BUSINESS_STRETCH if level.business_hours else 1
        return (
            datetime.timedelta(minutes=level.first_response_minutes * stretch),
            datetime.timedelta(minutes=level.resolution_minutes * stretch),
        )

    def _status(self, age: datetime.timedelta, forced: int | None) -> str:
        statuses = list(Ticket.Status.values)
        if forced is not None:
            return statuses[forced % len(statuses)]
        roll = self.rng.random()
        if age < datetime.timedelta(days=1):
            return statuses[min(int(roll * 4), 3)]  # new, assigned, in progress or waiting
        if age < datetime.timedelta(days=7):
            return self.rng.choices(
                [
                    Ticket.Status.IN_PROGRESS,
                    Ticket.Status.WAITING,
                    Ticket.Status.RESOLVED,
                    Ticket.Status.CLOSED,
                ],
                weights=[30, 15, 30, 25],
            )[0]
        return self.rng.choices(
            [Ticket.Status.CLOSED, Ticket.Status.RESOLVED, Ticket.Status.WAITING, Ticket.Status.IN_PROGRESS],
            weights=[86, 8, 3, 3],
        )[0]

    def _created(self, customer_created: datetime.datetime, forced: int | None) -> datetime.datetime:
        earliest = max(customer_created, self.now - datetime.timedelta(days=HISTORY_DAYS))
        span = max((self.now - earliest).total_seconds(), 3600)
        if forced is not None and forced % len(Ticket.Status.values) < 4:
            span = min(span, 20 * 3600)  # open demo tickets are recent
        elif self.rng.random() < 0.15:
            span = min(span, 2 * 24 * 3600)
        return self.now - datetime.timedelta(seconds=self.rng.uniform(600, span))

    # --- tickets -------------------------------------------------------------------------------

    def run(self, customers, *, demo: bool) -> int:
        built: list[tuple[Ticket, list[TicketEvent], SurveyInvitation | None]] = []
        forced = 0
        types = [value for value, _weight in TYPES]
        for pk, owner_id, created_at, email, contact_pk, contact_email, _stage in customers:
            count = self.rng.choice([0, 1, 1, 2, 3]) if demo else int(self.rng.random() < GENERATED_SHARE)
            for _index in range(count):
                slot = forced if demo else None
                ticket_type = types[(forced // len(Ticket.Status.values)) % len(types)] if demo else None
                built.append(
                    self._ticket(
                        pk, owner_id, created_at, email, contact_pk, contact_email, slot, ticket_type
                    )
                )
                forced += 1
        self._number([ticket for ticket, _events, _survey in built])
        for start in range(0, len(built), BATCH):
            chunk = built[start : start + BATCH]
            Ticket.objects.bulk_create([ticket for ticket, _events, _survey in chunk], batch_size=BATCH)
            events, surveys = [], []
            for ticket, ticket_events, survey in chunk:
                for event in ticket_events:
                    event.ticket_id = ticket.pk
                    events.append(event)
                if survey is not None:
                    survey.ticket_id = ticket.pk
                    surveys.append(survey)
            TicketEvent.objects.bulk_create(events, batch_size=BATCH)
            SurveyInvitation.objects.bulk_create(surveys, batch_size=BATCH)
        if demo:
            self._improvement_tasks()
        return len(built)

    def _ticket(
        self, customer_id, owner_id, customer_created, email, contact_pk, contact_email, forced, ticket_type
    ):
        rng = self.rng
        ticket_type = ticket_type or self._pick(TYPES)
        priority = self._pick(PRIORITIES)
        if ticket_type == TicketType.COMPLAINT and rng.random() < 0.4:
            priority = max(priority, Ticket.Priority.HIGH)
        created = self._created(customer_created, forced)
        status = self._status(self.now - created, forced)
        subject, description = rng.choice(SUBJECTS[ticket_type])
        creator = owner_id if rng.random() < 0.3 else rng.choice(self.agents).pk
        handler = rng.choices(self.handlers, weights=self.handler_weights)[0]
        targets = self._targets(ticket_type, priority)
        ticket = Ticket(
            ticket_type=ticket_type,
            customer_id=customer_id,
            contact_id=contact_pk,
            channel=self._pick(CHANNELS),
            subject=subject,
            description=description,
            priority=priority,
            status=status,
            queue=self.queues.get(ticket_type),
            created_by_id=creator,
            created_at=created,
        )
        if targets:
            ticket.first_response_due = created + targets[0]
            ticket.resolution_due = created + targets[1]
        events = [TicketEvent(kind=TicketEvent.Kind.CREATED, actor_id=creator, at=created)]
        if status == Ticket.Status.NEW:
            self._breaches(ticket)
            return ticket, events, None
        # Assigned: at once by automatic dispatch, or by the manager a little later.
        moment = self._clamp(created + datetime.timedelta(seconds=rng.randint(0, 1200)), created)
        ticket.assignee, ticket.team_id = handler, handler.team_id
        events.append(
            TicketEvent(
                kind=TicketEvent.Kind.ASSIGNED,
                actor_id=self.manager.pk if self.manager and rng.random() < 0.3 else None,
                at=moment,
                assignee=handler,
            )
        )
        events.append(self._status_event(Ticket.Status.NEW, Ticket.Status.ASSIGNED, None, moment))
        if status == Ticket.Status.ASSIGNED:
            self._breaches(ticket)
            return ticket, events, None
        # The first response: mostly within the target, some late.
        target = targets[0] if targets else datetime.timedelta(hours=4)
        moment = max(moment, created + target * rng.uniform(0.05, 1.35))
        moment = self._clamp(moment, created)
        ticket.first_responded_at = moment
        events.append(
            TicketEvent(kind=TicketEvent.Kind.REPLY, actor=handler, at=moment, body=rng.choice(REPLIES))
        )
        events.append(self._status_event(Ticket.Status.ASSIGNED, Ticket.Status.IN_PROGRESS, handler, moment))
        if rng.random() < 0.5:
            moment = self._clamp(moment + datetime.timedelta(minutes=rng.randint(10, 600)), created)
            events.append(
                TicketEvent(kind=TicketEvent.Kind.NOTE, actor=handler, at=moment, body=rng.choice(NOTES))
            )
        if status == Ticket.Status.IN_PROGRESS:
            self._breaches(ticket)
            return ticket, events, None
        if status == Ticket.Status.WAITING:
            moment = self._clamp(moment + datetime.timedelta(minutes=rng.randint(20, 1200)), created)
            ticket.paused_at = moment
            events.append(
                TicketEvent(
                    kind=TicketEvent.Kind.REPLY, actor=handler, at=moment, body=rng.choice(WAITING_REPLIES)
                )
            )
            events.append(
                self._status_event(Ticket.Status.IN_PROGRESS, Ticket.Status.WAITING, handler, moment)
            )
            self._breaches(ticket, at=moment)
            return ticket, events, None
        # Resolved, perhaps reopened once and resolved again, perhaps closed.
        target = targets[1] if targets else datetime.timedelta(days=2)
        moment = self._clamp(max(moment, created + target * rng.uniform(0.15, 1.3)), created)
        self._resolve(ticket, events, handler, moment)
        reopened = rng.random() < 0.08
        if reopened:
            reopen_at = self._clamp(moment + datetime.timedelta(hours=rng.uniform(2, 48)), created)
            if reopen_at > moment:
                ticket.reopen_count = 1
                events.append(
                    self._status_event(Ticket.Status.RESOLVED, Ticket.Status.ASSIGNED, None, reopen_at)
                )
                events.append(
                    TicketEvent(
                        kind=TicketEvent.Kind.NOTE,
                        actor=handler,
                        at=reopen_at,
                        body="客户反馈问题再次出现，重新处理。",
                    )
                )
                moment = self._clamp(reopen_at + datetime.timedelta(hours=rng.uniform(1, 30)), created)
                events.append(
                    self._status_event(Ticket.Status.ASSIGNED, Ticket.Status.IN_PROGRESS, handler, moment)
                )
                self._resolve(ticket, events, handler, moment)
        self._breaches(ticket, at=ticket.resolved_at)
        if status == Ticket.Status.RESOLVED:
            ticket.status = Ticket.Status.RESOLVED
            return ticket, events, None
        closed = self._clamp(ticket.resolved_at + datetime.timedelta(hours=rng.uniform(1, 72)), created)
        ticket.closed_at = closed
        events.append(self._status_event(Ticket.Status.RESOLVED, Ticket.Status.CLOSED, handler, closed))
        survey = self._ticket_survey(ticket, events, customer_id, email, contact_pk, contact_email, closed)
        return ticket, events, survey

    def _resolve(self, ticket: Ticket, events: list[TicketEvent], handler, moment: datetime.datetime) -> None:
        ticket.resolution = self.rng.choice(RESOLUTIONS)
        ticket.resolution_category = self.rng.choice(self.categories) if self.categories else None
        ticket.resolved_at = moment
        events.append(
            TicketEvent(
                kind=TicketEvent.Kind.STATUS,
                actor=handler,
                at=moment,
                from_status=Ticket.Status.IN_PROGRESS,
                to_status=Ticket.Status.RESOLVED,
                body=ticket.resolution,
            )
        )

    def _status_event(self, from_status: str, to_status: str, actor, at: datetime.datetime) -> TicketEvent:
        return TicketEvent(
            kind=TicketEvent.Kind.STATUS, actor=actor, at=at, from_status=from_status, to_status=to_status
        )

    def _clamp(self, moment: datetime.datetime, created: datetime.datetime) -> datetime.datetime:
        """Not in the future: a step that would be is squeezed into the time left."""
        if moment < self.now:
            return moment
        return created + (self.now - created) * self.rng.uniform(0.6, 0.95)

    def _breaches(self, ticket: Ticket, *, at: datetime.datetime | None = None) -> None:
        """Flag the targets missed, as the breach sweep would have (``at``: when the clock stopped)."""
        stop = at or self.now
        if ticket.first_response_due:
            responded = ticket.first_responded_at or stop
            if responded > ticket.first_response_due:
                ticket.response_breached_at = ticket.first_response_due
        if ticket.resolution_due:
            resolved = ticket.resolved_at or stop
            if resolved > ticket.resolution_due:
                ticket.resolution_breached_at = ticket.resolution_due
        if ticket.response_breached_at and ticket.response_breached_at < ticket.created_at:
            ticket.response_breached_at = None

    def _ticket_survey(self, ticket, events, customer_id, email, contact_pk, contact_email, closed):
        rng = self.rng
        address = contact_email or email
        if not address and rng.random() < 0.7:
            return None
        survey = SurveyInvitation(
            kind=SurveyInvitation.Kind.TICKET,
            token_hash=_token_hash(rng),
            customer_id=customer_id,
            contact_id=contact_pk,
            email=address or "",
            created_at=closed,
            sent_at=closed if address else None,
            expires_at=closed + datetime.timedelta(days=14),
            created_by=ticket.assignee,
        )
        answer_at = closed + datetime.timedelta(hours=rng.uniform(0.2, 96))
        if rng.random() < 0.6 and answer_at < self.now and answer_at < survey.expires_at:
            rating = rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
            survey.answered_at, survey.rating = answer_at, rating
            survey.comment = rng.choice(COMMENTS_BAD if rating <= 2 else COMMENTS_GOOD)
            events.append(
                TicketEvent(
                    kind=TicketEvent.Kind.RATING,
                    at=answer_at,
                    body=f"{rating}/5" + (f"\n{survey.comment}" if survey.comment else ""),
                )
            )
            if rating <= 2:
                self.low_scores.append((survey, ticket.subject))
        return survey

    def _improvement_tasks(self) -> None:
        """The open improvement tasks of the last month's low scores, for the service manager (one
        insert). Older ones are left out: a done task needs the interaction that did it."""
        if not self.manager:
            return
        since = self.now - datetime.timedelta(days=RECENT_LOW_SCORE_DAYS)
        tasks = [
            FollowUpTask(
                customer_id=survey.customer_id,
                owner=self.manager,
                due_at=survey.answered_at + datetime.timedelta(days=1),
                content=f"改进：满意度 {survey.rating} 分 – {subject}"[:255],
                priority=FollowUpTask.Priority.HIGH,
                care_key=f"survey:{survey.pk}",
                created_at=survey.answered_at,
            )
            for survey, subject in self.low_scores
            if survey.pk and survey.answered_at > since
        ]
        FollowUpTask.objects.bulk_create(tasks, ignore_conflicts=True)
        from interactions.services.follow_up import customers_refresh_follow_up

        customers_refresh_follow_up(task.customer_id for task in tasks)

    def _number(self, tickets: list[Ticket]) -> None:
        """``S`` + creation day + daily sequence, in time order within each day; every day's
        block reserved in one statement."""
        by_key: dict[str, list[Ticket]] = defaultdict(list)
        for ticket in tickets:
            by_key[f"S{timezone.localdate(ticket.created_at):%Y%m%d}"].append(ticket)
        assign_numbers(by_key, lambda ticket: ticket.created_at)

    # --- the quarterly survey and purchases (demo customers only) ------------------------------

    def quarterly(self, customers) -> None:
        from service.services.surveys import period_bounds, period_of

        rng = self.rng
        this = period_of(self.now)
        start, _end = period_bounds(this)
        last = period_of(start - datetime.timedelta(days=1))
        surveys = []
        for pk, _owner, _created, email, contact_pk, contact_email, stage in _rows(customers):
            address = contact_email or email
            if stage != Customer.Stage.DEAL or not address:
                continue
            for period in (last, this):
                begins = period_bounds(period)[0]
                sent = max(
                    begins + datetime.timedelta(days=rng.randint(0, 5), hours=10),
                    start - datetime.timedelta(days=80),
                )
                if sent >= self.now:
                    sent = self.now - datetime.timedelta(hours=rng.randint(1, 48))
                survey = SurveyInvitation(
                    kind=SurveyInvitation.Kind.QUARTERLY,
                    token_hash=_token_hash(rng),
                    customer_id=pk,
                    contact_id=contact_pk if contact_email else None,
                    email=address,
                    period=period,
                    created_at=sent,
                    sent_at=sent,
                    expires_at=sent + datetime.timedelta(days=14),
                )
                answered = sent + datetime.timedelta(hours=rng.uniform(1, 200))
                if rng.random() < 0.55 and answered < self.now and answered < survey.expires_at:
                    survey.answered_at = answered
                    survey.rating = rng.choices(RATINGS, weights=[2, 4, 14, 40, 40])[0]
                    survey.comment = rng.choice(QUARTERLY_COMMENTS)
                surveys.append(survey)
        SurveyInvitation.objects.bulk_create(surveys, ignore_conflicts=True)

    def purchases(self, customers) -> None:
        """A few purchases of deal customers entered by hand, each with its after-sales call."""
        from service.services.aftersales import purchase_record

        deals = [row for row in _rows(customers) if row[6] == Customer.Stage.DEAL][:5]
        actor = self.agents[0]
        today = timezone.localdate()
        for index, (pk, *_rest) in enumerate(deals):
            if Purchase.objects.filter(customer_id=pk).exists():
                continue
            purchase_record(
                actor=actor,
                customer=Customer.objects.get(pk=pk),
                purchased_on=today - datetime.timedelta(days=self.rng.randint(0, 6) + index),
                description=PURCHASES[index % len(PURCHASES)],
            )
