"""The after-sales call on a win (SPEC 5): planned once per opportunity, a week later at 10:00 on a
working day, for the owner, shown with a link to reschedule it."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact
from interactions.models import FollowUpTask, Holiday
from opportunities.models import StageChange
from opportunities.services import opportunity_move_stage
from opportunities.services.aftersales import aftersales_due, aftersales_task_plan
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def shanghai(day: datetime.date, hour: int = 15) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def win(opportunity, actor):
    return opportunity_move_stage(actor=actor, opportunity=opportunity, stage=stage("赢单"))


def test_winning_plans_the_after_sales_call_for_the_owner(rep, lead):
    customer = CustomerFactory(owner=rep, value_class="A")
    contact = Contact.objects.create(customer=customer, name="王经理", is_primary=True)
    opportunity = OpportunityFactory(customer=customer, name="数据平台建设")

    win(opportunity, lead)  # the lead closes it; the owner makes the call

    task = FollowUpTask.objects.get(customer=customer)
    won_at = StageChange.objects.get(opportunity=opportunity, to_stage=stage("赢单")).changed_at
    assert task.owner == rep and task.created_by == lead and task.contact == contact
    assert task.status == FollowUpTask.Status.OPEN and task.kind == FollowUpTask.Kind.FOLLOW_UP
    assert "数据平台建设" in task.content and task.care_key == f"aftersales:{opportunity.pk}"
    assert task.due_at == aftersales_due(won_at)
    local = timezone.localtime(task.due_at, SHANGHAI)
    assert local.time() == datetime.time(10) and local.weekday() < 5
    assert 7 <= (local.date() - timezone.localtime(won_at, SHANGHAI).date()).days <= 9
    customer.refresh_from_db()
    assert customer.next_follow_up_at == task.due_at  # the interactions service keeps it


def test_the_call_is_in_the_owners_language(rep):
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep), name="数据平台建设")

    win(opportunity, rep)

    # Until the translation is compiled the English text shows; the name is there either way.
    assert FollowUpTask.objects.get().content.endswith("数据平台建设")


def test_winning_again_after_a_reopen_plans_no_second_call(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    win(opportunity, rep)
    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("商务谈判"))
    win(opportunity, rep)

    assert FollowUpTask.objects.filter(care_key=f"aftersales:{opportunity.pk}").count() == 1


def test_losing_plans_no_call(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))

    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("输单"), lost_reason=lost_reason())

    assert not FollowUpTask.objects.exists()


def test_every_value_class_gets_the_call_but_a_deleted_customer_does_not(rep):
    for value_class in "ABC":
        win(OpportunityFactory(customer=CustomerFactory(owner=rep, value_class=value_class)), rep)
    gone = OpportunityFactory(customer=CustomerFactory(owner=rep))
    gone.customer.deleted_at = timezone.now()

    assert aftersales_task_plan(actor=rep, opportunity=gone, won_at=timezone.now()) is None
    assert FollowUpTask.objects.count() == 3


def test_an_inactive_owners_call_goes_to_who_closed_it(rep, lead):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    rep.is_active = False
    rep.save()

    win(opportunity, lead)

    assert FollowUpTask.objects.get().owner == lead


@pytest.mark.parametrize(
    ("won", "due"),
    [
        (datetime.date(2026, 3, 4), datetime.date(2026, 3, 11)),  # Wednesday → Wednesday
        (datetime.date(2026, 3, 7), datetime.date(2026, 3, 16)),  # Saturday → Saturday → Monday
        (datetime.date(2026, 3, 8), datetime.date(2026, 3, 16)),  # Sunday → Sunday → Monday
    ],
)
def test_the_call_falls_on_the_next_working_day_at_ten(won, due):
    assert aftersales_due(shanghai(won)) == shanghai(due, 10)


def test_holidays_of_the_holiday_table_are_skipped(db):
    Holiday.objects.create(name="测试假日", date=datetime.date(2026, 3, 16))
    Holiday.objects.create(name="停用假日", date=datetime.date(2026, 3, 17), active=False)

    assert aftersales_due(shanghai(datetime.date(2026, 3, 7))) == shanghai(datetime.date(2026, 3, 17), 10)


def test_the_day_is_the_owners_local_day(db):
    # 23:30 on Tuesday 3 March in Shanghai is still Tuesday afternoon in Berlin: both give Tuesday 10.
    late = shanghai(datetime.date(2026, 3, 3), 23).replace(minute=30)
    berlin = aftersales_due(late, "Europe/Berlin")
    assert berlin.tzinfo == zoneinfo.ZoneInfo("Europe/Berlin")
    assert (berlin.date(), berlin.hour) == (datetime.date(2026, 3, 10), 10)
    # 00:30 on Wednesday in Shanghai: a Wednesday call there.
    assert aftersales_due(late + datetime.timedelta(hours=1)).date() == datetime.date(2026, 3, 11)


def test_the_move_page_says_when_the_call_is_and_links_to_reschedule_it(client, rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    detail = opportunity.get_absolute_url()
    client.force_login(rep)

    response = client.post(
        reverse("opportunities:opportunity-move", args=[opportunity.pk]),
        {"stage": stage("赢单").pk, "next": detail},
        follow=True,
        headers={"Accept-Language": "en"},
    )

    task = FollowUpTask.objects.get()
    page = response.content.decode()
    assert response.redirect_chain == [(detail, 302)]
    assert "An after-sales call is planned for" in page
    assert f'href="{reverse("interactions:task-edit", args=[task.pk])}?next=' in page
    assert client.get(reverse("interactions:task-edit", args=[task.pk])).status_code == 200


def test_other_team_rep_cannot_win_and_no_call_is_planned(client, other_team_rep, rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    client.force_login(other_team_rep)

    response = client.post(
        reverse("opportunities:opportunity-move", args=[opportunity.pk]), {"stage": stage("赢单").pk}
    )

    assert response.status_code == 404 and not FollowUpTask.objects.exists()
