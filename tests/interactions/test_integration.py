"""Interactions and tasks in the customers app's workflows: merge, transfer, erasure."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import hooks
from customers.models import Customer, CustomerChange
from customers.services import merge as merge_services
from customers.services.privacy import customer_erase
from customers.services.transfer import customers_transfer
from interactions.models import FollowUpTask, Interaction
from interactions.services.follow_up import interaction_log, task_cancel, task_complete, task_create
from tests.factories.customers import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def log(actor, customer, days_ago: float, **fields) -> Interaction:
    return interaction_log(
        actor=actor,
        customer=customer,
        method="phone",
        topic="价格谈判",
        summary="张总希望再优惠5%，手机13812345678",
        feedback="竞品报价更低",
        next_step="申请特价审批",
        occurred_at=timezone.now() - days_ago * DAY,
        **fields,
    )


def task(actor, customer, due_in_days: float, **fields) -> FollowUpTask:
    return task_create(
        actor=actor,
        customer=customer,
        due_at=timezone.now() + due_in_days * DAY,
        content="跟进报价反馈",
        **fields,
    )


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


@pytest.fixture
def pair(rep):
    """Two profiles of one company, each with its own history."""
    older = CustomerFactory(owner=rep, name="杭州云帆科技有限公司", created_at=timezone.now() - 30 * DAY)
    newer = CustomerFactory(owner=rep, name="杭州云帆科技公司")
    return older, newer


# Merge -----------------------------------------------------------------------------------------


def test_merging_moves_interactions_and_tasks_and_the_survivor_follow_up_fields_are_right(
    client, lead, rep, pair
):
    older, newer = pair
    old_call = log(rep, older, days_ago=5)
    later_task = task(rep, older, due_in_days=6)
    done = task(rep, older, due_in_days=-4)
    task_complete(actor=rep, task=done, interaction=old_call)
    new_call = log(rep, newer, days_ago=1)  # the latest contact of the two
    sooner_task = task(rep, newer, due_in_days=2)
    sub = task(rep, newer, due_in_days=1.5, parent=sooner_task)  # the earliest open task of the two
    task_cancel(actor=rep, task=task(rep, newer, due_in_days=3))

    client.force_login(lead)
    url = reverse("customers:customer-merge-compare", args=[older.pk, newer.pk])
    screen = client.get(url, {"survivor": older.pk})
    counts = dict(
        zip(
            [name for name, _label, _count in merge_services.related_counts(older)],
            [(kept, moving) for _label, kept, moving in screen.context["counts"]],
            strict=True,
        )
    )
    assert counts["interactions"] == (1, 1) and counts["tasks"] == (2, 3)
    older, newer = fresh(older), fresh(newer)
    response = client.post(
        url, {"survivor": older.pk, "survivor_version": older.version, "other_version": newer.version}
    )
    assert response.status_code == 302

    assert set(Interaction.objects.filter(customer=older)) == {old_call, new_call}
    assert FollowUpTask.objects.filter(customer=older).count() == 5
    assert not Interaction.objects.filter(customer=newer).exists()
    assert not FollowUpTask.objects.filter(customer=newer).exists()
    sub.refresh_from_db()
    done.refresh_from_db()
    assert sub.parent == sooner_task and sub.customer_id == older.pk
    assert done.completed_by_interaction == old_call
    survivor, merged = fresh(older), fresh(newer)
    assert survivor.last_contacted_at == new_call.occurred_at
    assert survivor.next_follow_up_at == sub.due_at
    assert merged.last_contacted_at is None and merged.next_follow_up_at is None
    assert later_task.due_at > survivor.next_follow_up_at
    note = CustomerChange.objects.get(customer=older, action="merged").note
    assert "1" in note and "3" in note  # the counts moved, shown in the survivor's history
    kinds = [entry.kind for entry in hooks.timeline_for(survivor, lead)]
    assert kinds.count("interaction") == 2


def test_a_merge_that_gives_the_survivor_the_other_owner_moves_the_open_tasks_to_them(lead, rep, teammate):
    survivor = CustomerFactory(owner=rep)
    other = CustomerFactory(owner=teammate)
    mine = task(rep, survivor, due_in_days=3)
    theirs = task(teammate, other, due_in_days=4)
    finished = task(rep, survivor, due_in_days=-1)
    task_complete(actor=rep, task=finished)
    merge_services.customer_merge(
        actor=lead,
        survivor=fresh(survivor),
        merged=fresh(other),
        choices={"owner": "other"},
        expected_versions={c.pk: fresh(c).version for c in (survivor, other)},
    )
    for open_task in (mine, theirs):
        open_task.refresh_from_db()
        assert open_task.owner == teammate and open_task.customer_id == survivor.pk
    finished.refresh_from_db()
    assert finished.owner == rep  # who did the work stays


# Transfer --------------------------------------------------------------------------------------


def test_a_lead_transfers_one_customer_and_its_open_tasks_go_along(client, lead, rep, teammate):
    customer = CustomerFactory(owner=rep)
    call = log(rep, customer, days_ago=2)
    overdue = task(rep, customer, due_in_days=-2)
    upcoming = task(rep, customer, due_in_days=5)
    finished = task(rep, customer, due_in_days=-3)
    task_complete(actor=rep, task=finished, interaction=call)
    client.force_login(lead)
    response = client.post(
        reverse("customers:customer-transfer", args=[customer.pk]), {"owner": teammate.pk, "note": "调岗"}
    )
    assert response.status_code == 302
    for open_task in (overdue, upcoming):
        open_task.refresh_from_db()
        assert open_task.owner == teammate
    finished.refresh_from_db()
    call.refresh_from_db()
    assert finished.owner == rep and call.owner == rep  # history keeps who followed up
    assert list(FollowUpTask.objects.filter(owner=teammate).overdue()) == [overdue]
    assert not FollowUpTask.objects.visible_to(rep).filter(status="open").exists()
    customer.refresh_from_db()
    assert customer.next_follow_up_at == overdue.due_at and customer.last_contacted_at == call.occurred_at


def test_a_bulk_transfer_moves_the_open_tasks_of_the_customers_that_change_hands(lead, rep, teammate):
    moving = CustomerFactory.create_batch(3, owner=rep)
    staying = CustomerFactory(owner=teammate)  # already the new owner's: not transferred
    moved = [task(rep, customer, due_in_days=index + 1) for index, customer in enumerate(moving)]
    helper = task(rep, staying, due_in_days=2)  # rep's own task on teammate's customer
    changed = customers_transfer(actor=lead, customers=[*moving, staying], new_owner=teammate)
    assert changed == 3
    assert set(FollowUpTask.objects.filter(owner=teammate)) == set(moved)
    helper.refresh_from_db()
    assert helper.owner == rep


def with_owner(customers: list[Customer]) -> list[Customer]:
    """As the list's bulk action passes them: the owner is named in each history entry."""
    return list(Customer.objects.filter(pk__in=[c.pk for c in customers]).select_related("owner"))


def test_a_bulk_transfer_takes_the_same_queries_for_one_customer_and_thirty(
    lead, rep, teammate, django_assert_max_num_queries
):
    one = CustomerFactory(owner=rep)
    task(rep, one, due_in_days=1)
    with django_assert_max_num_queries(10) as few:
        customers_transfer(actor=lead, customers=with_owner([one]), new_owner=teammate)
    many = CustomerFactory.create_batch(30, owner=rep)
    for customer in many:
        task(rep, customer, due_in_days=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        customers_transfer(actor=lead, customers=with_owner(many), new_owner=teammate)
    assert FollowUpTask.objects.filter(owner=teammate).count() == 31


# Erasure (PIPL) --------------------------------------------------------------------------------


def test_erasure_keeps_the_business_records_and_drops_the_contact_links(lead, rep):
    """The customer's interactions and tasks stay (number, time, method, who followed up): they
    are the company's records of its own work. The contacts are deleted, so the links go."""
    customer = CustomerFactory(owner=rep, kind="enterprise")
    contact = ContactFactory(customer=customer, name="张伟")
    call = log(rep, customer, days_ago=1, contact=contact)
    open_task = task(rep, customer, due_in_days=3, contact=contact)
    customer_erase(actor=lead, customer=fresh(customer))
    call.refresh_from_db()
    open_task.refresh_from_db()
    assert call.number and call.method == "phone" and call.owner == rep and call.contact is None
    assert open_task.contact is None and open_task.status == "open"
    erased = fresh(customer)
    assert erased.last_contacted_at == call.occurred_at and erased.next_follow_up_at == open_task.due_at


def test_erasure_blanks_the_free_texts_of_the_customers_interactions(lead, rep):
    """What was said in a call can name people and numbers: the summary, feedback and next step
    of an erased customer's interactions are cleared with the profile; other customers' stay."""
    customer, other = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    call, kept = log(rep, customer, days_ago=1), log(rep, other, days_ago=1)
    customer_erase(actor=lead, customer=fresh(customer))
    call.refresh_from_db()
    kept.refresh_from_db()
    assert "13812345678" not in call.summary and call.feedback == "" and call.next_step == ""
    assert call.topic == "价格谈判" and call.number  # the record itself stays
    assert "13812345678" in kept.summary
    entry = CustomerChange.objects.get(customer=customer, action="erased")
    assert "1" in entry.note  # the history says how many records were cleared


def test_erasure_also_clears_the_texts_of_the_customers_tasks(lead, rep):
    from interactions.models import FollowUpTask
    from tests.factories.interactions import TaskFactory

    customer = CustomerFactory(owner=rep)
    task = TaskFactory(customer=customer, owner=rep, content="给张总寄样品，电话13812345678")
    customer_erase(actor=lead, customer=fresh(customer))
    task.refresh_from_db()
    assert "张总" not in task.content and "13812345678" not in task.content
    assert FollowUpTask.objects.filter(pk=task.pk, due_at=task.due_at).exists()  # the task stays


def test_personal_data_export_includes_the_customers_interactions_and_tasks(client, lead, rep):
    """A PIPL access request covers what was said in calls and planned in tasks, not only the
    profile; another customer's records are not in the file."""
    from tests.factories.interactions import TaskFactory

    customer, other = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    call, _kept = log(rep, customer, days_ago=1), log(rep, other, days_ago=1)
    TaskFactory(customer=customer, owner=rep, content="给张总寄样品")
    TaskFactory(customer=other, owner=rep, content="别人的任务")
    client.force_login(lead)
    response = client.post(
        reverse("customers:customer-personal-data", args=[customer.pk]), {"action": "export"}
    )
    data = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)
    assert [entry["number"] for entry in data["interactions"]] == [call.number]
    assert data["interactions"][0]["summary"] == call.summary and data["interactions"][0]["owner"] == str(rep)
    assert [task["content"] for task in data["follow_up_tasks"]] == ["给张总寄样品"]
