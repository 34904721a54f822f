"""After-sales follow-up (SPEC 5): the after-sales call of a won order or of a purchase entered by
hand goes to the least-loaded agent of the after-sales queue, a week later at 10:00 on a working
day; the customer page lists purchases and records new ones."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from customers.models import Contact
from interactions.models import FollowUpTask, Holiday
from interactions.services.workdays import next_working_day
from opportunities.services import opportunity_move_stage
from service.models import Purchase, Queue
from service.services.aftersales import aftersales_agent, purchase_call_due, purchase_record
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, stage
from tests.factories.service import TicketFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def aftersales_queue(service_team):
    first = UserFactory(username="shouhou1", team=service_team, role=roles.SERVICE_AGENT)
    second = UserFactory(username="shouhou2", team=service_team, role=roles.SERVICE_AGENT)
    queue = Queue.objects.get(ticket_type="after_sales")
    queue.agents.set([first, second])
    return queue, first, second


def test_the_least_loaded_active_agent_of_the_after_sales_queue_calls(aftersales_queue, rep):
    _queue, first, second = aftersales_queue
    customer = CustomerFactory(owner=rep)
    # first holds an open after-sales call, second holds none.
    FollowUpTask.objects.create(
        customer=customer, owner=first, due_at=timezone.now(), content="售后回访", care_key="aftersales:99"
    )
    assert aftersales_agent(customer) == second

    TicketFactory(assignee=second, status="in_progress")
    TicketFactory(assignee=second, status="assigned")
    assert aftersales_agent(customer) == first  # 1 call against 2 open tickets

    first.is_active = False
    first.save(update_fields=["is_active"])
    assert aftersales_agent(customer) == second


def test_no_agent_without_an_active_queue_or_members(aftersales_queue, rep):
    queue, _first, _second = aftersales_queue
    queue.active = False
    queue.save(update_fields=["active"])
    assert aftersales_agent(CustomerFactory(owner=rep)) is None
    queue.active = True
    queue.save(update_fields=["active"])
    queue.agents.clear()
    assert aftersales_agent(CustomerFactory(owner=rep)) is None


def test_a_won_opportunity_gives_the_call_to_the_after_sales_agent(aftersales_queue, rep):
    _queue, first, _second = aftersales_queue
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep), name="数据平台建设")

    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("赢单"))

    task = FollowUpTask.objects.get(care_key=f"aftersales:{opportunity.pk}")
    assert task.owner == first and task.created_by == rep


def test_recording_a_purchase_plans_the_call_a_week_later_on_a_working_day(aftersales_queue, rep):
    _queue, first, _second = aftersales_queue
    customer = CustomerFactory(owner=rep)
    contact = Contact.objects.create(customer=customer, name="王经理", is_primary=True)
    # Bought on Tuesday 3 March 2026: a week later is Tuesday 10 March, 10:00.
    now = at(datetime.date(2026, 3, 4), 9)

    purchase = purchase_record(
        actor=rep,
        customer=customer,
        purchased_on=datetime.date(2026, 3, 3),
        description=" 打印机  3 台 ",
        now=now,
    )

    assert purchase.description == "打印机 3 台" and purchase.created_by == rep
    task = FollowUpTask.objects.get(care_key=f"aftersales:purchase:{purchase.pk}")
    assert task.owner == first and task.contact == contact and task.status == "open"
    assert task.due_at == at(datetime.date(2026, 3, 10))
    assert "打印机 3 台" in task.content
    customer.refresh_from_db()
    assert customer.next_follow_up_at == task.due_at


def test_without_an_after_sales_agent_the_customers_owner_calls(rep, agent):
    customer = CustomerFactory(owner=rep)
    purchase = purchase_record(
        actor=agent, customer=customer, purchased_on=timezone.localdate(), description="耗材"
    )
    assert FollowUpTask.objects.get(care_key=f"aftersales:purchase:{purchase.pk}").owner == rep


def test_the_call_skips_weekends_and_holidays():
    now = at(datetime.date(2026, 3, 1), 8)
    # Saturday + 7 = Saturday → Monday.
    assert purchase_call_due(datetime.date(2026, 2, 28), now=now) == at(datetime.date(2026, 3, 9))
    Holiday.objects.create(name="清明节", date=datetime.date(2026, 4, 6))
    assert next_working_day(datetime.date(2026, 4, 4)) == datetime.date(2026, 4, 7)
    assert purchase_call_due(datetime.date(2026, 3, 30), now=now) == at(datetime.date(2026, 4, 7))


def test_a_purchase_entered_late_gets_the_call_on_the_next_working_day_not_in_the_past():
    friday_noon = at(datetime.date(2026, 3, 13), 12)
    assert purchase_call_due(datetime.date(2026, 2, 2), now=friday_noon) == at(datetime.date(2026, 3, 16))
    friday_early = at(datetime.date(2026, 3, 13), 8)
    assert purchase_call_due(datetime.date(2026, 2, 2), now=friday_early) == at(datetime.date(2026, 3, 13))


def test_a_future_purchase_date_is_refused(rep):
    from accounts.errors import DomainError

    with pytest.raises(DomainError):
        purchase_record(
            actor=rep,
            customer=CustomerFactory(owner=rep),
            purchased_on=timezone.localdate() + datetime.timedelta(days=1),
            description="耗材",
        )
    assert not Purchase.objects.exists() and not FollowUpTask.objects.exists()


# --- Pages ----------------------------------------------------------------------------------


@pytest.fixture
def shared_customer(rep, service_agent):
    """A customer the service agent sees (shared with them)."""
    return CustomerFactory(owner=rep, collaborators=[service_agent], name="苏州精工机械有限公司")


def test_agent_records_a_purchase_from_the_customer_page(client, service_agent, shared_customer):
    client.force_login(service_agent)
    detail = client.get(shared_customer.get_absolute_url()).content.decode()
    create = reverse("service:purchase-create", args=[shared_customer.pk])
    assert 'id="customer-purchases"' in detail and create in detail

    assert client.get(create).status_code == 200
    response = client.post(
        create, {"purchased_on": timezone.localdate().isoformat(), "description": "年度维保服务"}
    )

    assert response.status_code == 302 and response.url == shared_customer.get_absolute_url()
    purchase = Purchase.objects.get()
    assert purchase.customer == shared_customer and purchase.created_by == service_agent
    assert FollowUpTask.objects.filter(care_key=f"aftersales:purchase:{purchase.pk}").exists()
    detail = client.get(shared_customer.get_absolute_url()).content.decode()
    assert "年度维保服务" in detail


def test_the_purchase_form_keeps_what_was_typed_and_shows_errors(client, service_agent, shared_customer):
    client.force_login(service_agent)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    response = client.post(
        reverse("service:purchase-create", args=[shared_customer.pk]),
        {"purchased_on": tomorrow, "description": "服务器扩容"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["purchased_on"]
    assert "服务器扩容" in response.content.decode()
    assert not Purchase.objects.exists()


def test_other_team_rep_gets_404_for_the_purchase_form(client, other_team_rep, shared_customer):
    client.force_login(other_team_rep)
    url = reverse("service:purchase-create", args=[shared_customer.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"purchased_on": "2026-03-01", "description": "x"}).status_code == 404


def test_a_rep_who_sees_the_customer_but_may_not_record_purchases_gets_403(client, rep, shared_customer):
    client.force_login(rep)
    assert client.get(reverse("service:purchase-create", args=[shared_customer.pk])).status_code == 403
    detail = client.get(shared_customer.get_absolute_url()).content.decode()
    assert 'id="customer-purchases"' not in detail  # no view_purchase: no panel


def test_the_purchases_panel_costs_the_same_queries_for_one_or_many(
    client, service_agent, shared_customer, django_assert_max_num_queries
):
    client.force_login(service_agent)
    purchase_record(
        actor=service_agent, customer=shared_customer, purchased_on=timezone.localdate(), description="一"
    )
    with django_assert_max_num_queries(200) as one:
        client.get(shared_customer.get_absolute_url())
    for index in range(8):
        purchase_record(
            actor=service_agent,
            customer=shared_customer,
            purchased_on=timezone.localdate(),
            description=f"件{index}",
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(shared_customer.get_absolute_url())
    assert "件7" in response.content.decode()
