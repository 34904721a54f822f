"""Logging interactions, cadence proposals, tasks, and the customers app's hooks."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.errors import ConcurrentEditError, DomainError
from customers import hooks
from customers.models import Customer
from customers.services.merge import customer_merge
from customers.services.transfer import customers_transfer
from interactions.models import CadenceRule, FollowUpTask, Interaction
from interactions.services.cadence import propose_next
from interactions.services.follow_up import interaction_log, task_complete, task_create, task_update
from tests.factories.accounts import UserFactory
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.interactions import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def log(actor, customer, **fields):
    return interaction_log(
        actor=actor, customer=customer, method="phone", topic="电话", summary="沟通需求", **fields
    )


@pytest.mark.parametrize(("value_class", "days"), [("A", 7), ("B", 14), ("C", 30)])
def test_proposal_follows_the_value_class(rep, value_class, days):
    customer = CustomerFactory(owner=rep, value_class=value_class)
    after = datetime.datetime(2026, 3, 1, 23, 50, tzinfo=SHANGHAI)
    proposal = propose_next(customer, after=after)
    assert proposal.rule.value == value_class
    assert timezone.localtime(proposal.due_at).date() == datetime.date(2026, 3, 1) + datetime.timedelta(
        days=days
    )


def test_proposal_prefers_a_sent_proposal_then_a_confirmed_need_then_a_lost_customer(rep):
    lost = CustomerFactory(owner=rep, value_class="A", stage="lost")
    assert propose_next(lost).rule.value == "lost"
    assert propose_next(lost, became_intent=True).rule.value == "intent"
    assert propose_next(lost, proposal_sent=True, became_intent=True).rule.value == "proposal_sent"


def test_a_switched_off_rule_falls_back_and_none_is_proposed_when_all_are_off(rep):
    customer = CustomerFactory(owner=rep, value_class="B", stage="lost")
    CadenceRule.objects.filter(trigger="stage", value="lost").update(active=False)
    assert propose_next(customer).rule.value == "B"
    CadenceRule.objects.update(active=False)
    assert propose_next(customer) is None


def test_logging_numbers_the_record_and_keeps_the_customer_follow_up_fields(rep):
    customer = CustomerFactory(owner=rep)
    interaction = log(
        rep, customer, next_task={"due_at": timezone.now() + datetime.timedelta(days=3), "content": "送样"}
    )
    assert interaction.number.startswith("G" + timezone.localdate().strftime("%Y%m%d"))
    customer.refresh_from_db()
    assert customer.last_contacted_at == interaction.occurred_at
    task = FollowUpTask.objects.get(customer=customer)
    assert task.source_interaction == interaction and customer.next_follow_up_at == task.due_at


def test_logging_can_confirm_the_need_and_complete_the_task_it_answers(rep):
    customer = CustomerFactory(owner=rep, stage="potential")
    task = TaskFactory(customer=customer, owner=rep)
    interaction = log(rep, customer, stage="intent", completes=[task])
    task.refresh_from_db()
    customer.refresh_from_db()
    assert customer.stage == "intent"
    assert task.status == "done" and task.completed_by_interaction == interaction
    assert customer.next_follow_up_at is None


def test_an_interaction_in_the_future_or_with_another_customers_contact_is_refused(rep):
    customer = CustomerFactory(owner=rep)
    with pytest.raises(DomainError):
        log(rep, customer, occurred_at=timezone.now() + datetime.timedelta(days=1))
    with pytest.raises(DomainError):
        log(rep, customer, contact=ContactFactory())
    assert not Interaction.objects.exists()


def test_next_follow_up_is_the_earliest_open_task(rep):
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    soon = task_create(actor=rep, customer=customer, due_at=now + datetime.timedelta(days=1), content="a")
    later = task_create(actor=rep, customer=customer, due_at=now + datetime.timedelta(days=5), content="b")
    customer.refresh_from_db()
    assert customer.next_follow_up_at == soon.due_at
    task_complete(actor=rep, task=soon)
    customer.refresh_from_db()
    assert customer.next_follow_up_at == later.due_at
    with pytest.raises(DomainError):
        task_complete(actor=rep, task=soon)


def test_a_stale_reschedule_is_refused(rep):
    task = TaskFactory(owner=rep)
    task_update(actor=rep, task=task, version=1, due_at=timezone.now() + datetime.timedelta(days=9))
    with pytest.raises(ConcurrentEditError):
        task_update(actor=rep, task=FollowUpTask.objects.get(pk=task.pk), version=1, content="x")


def test_collaborators_see_and_other_teams_do_not(rep, teammate, other_team_rep, lead):
    customer = CustomerFactory(owner=rep, collaborators=[teammate])
    interaction = InteractionFactory(customer=customer)
    task = TaskFactory(customer=customer)
    for user, sees in ((rep, True), (teammate, True), (lead, True), (other_team_rep, False)):
        assert Interaction.objects.visible_to(user).filter(pk=interaction.pk).exists() is sees
        assert FollowUpTask.objects.visible_to(user).filter(pk=task.pk).exists() is sees


def test_transfer_moves_open_tasks_to_the_new_owner(rep, teammate, lead):
    customer = CustomerFactory(owner=rep)
    open_task, done_task = (
        TaskFactory(customer=customer, owner=rep),
        TaskFactory(customer=customer, owner=rep),
    )
    FollowUpTask.objects.filter(pk=done_task.pk).update(status="done")
    customers_transfer(actor=lead, customers=[customer], new_owner=teammate)
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    assert open_task.owner == teammate and done_task.owner == rep


def test_merge_moves_interactions_and_tasks_and_refreshes_the_survivor(rep, lead):
    survivor, merged = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    interaction = log(rep, merged)
    task = task_create(
        actor=rep, customer=merged, due_at=timezone.now() + datetime.timedelta(days=2), content="c"
    )
    customer_merge(
        actor=lead,
        survivor=Customer.objects.get(pk=survivor.pk),
        merged=Customer.objects.get(pk=merged.pk),
        choices={},
        expected_versions={pk: Customer.objects.get(pk=pk).version for pk in (survivor.pk, merged.pk)},
    )
    interaction.refresh_from_db()
    task.refresh_from_db()
    survivor.refresh_from_db()
    assert interaction.customer == survivor and task.customer == survivor
    assert survivor.last_contacted_at == interaction.occurred_at and survivor.next_follow_up_at == task.due_at


def test_the_customer_timeline_shows_interactions_and_tasks(rep):
    customer = CustomerFactory(owner=rep)
    log(
        rep,
        customer,
        next_task={"due_at": timezone.now() + datetime.timedelta(days=3), "content": "寄送样品"},
    )
    kinds = [entry.kind for entry in hooks.timeline_for(customer, rep)]
    assert "interaction" in kinds and "task" in kinds


@pytest.mark.django_db(transaction=True)  # threads need committed rows; pytest-django runs it last
@pytest.mark.usefixtures("migration_data")
def test_record_numbers_stay_unique_when_reps_log_at_once():
    owner = UserFactory(username="concurrent_rep")
    customer = CustomerFactory(owner=owner)
    numbers, errors = [], []

    def work():
        try:
            numbers.append(log(owner, Customer.objects.get(pk=customer.pk)).number)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(numbers)) == 8
