"""``seed_demo`` history: interactions and follow-up tasks for the demo and generated customers."""

import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from accounts.models import NumberSequence
from customers.models import Customer
from interactions import seeding
from interactions.models import CadenceRule, FollowUpTask, Interaction

pytestmark = pytest.mark.django_db
SALES = ["rep1", "rep2", "rep3", "manager1", "manager2"]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", *args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, int, int]:
    return Interaction.objects.count(), FollowUpTask.objects.count(), Customer.objects.count()


def assert_follow_up_fields_are_true() -> None:
    """Every customer's denormalised fields equal an aggregate over the rows themselves."""
    last = dict(
        Interaction.objects.values("customer").annotate(at=Max("occurred_at")).values_list("customer", "at")
    )
    following = dict(
        FollowUpTask.objects.filter(status="open")
        .values("customer")
        .annotate(at=Min("due_at"))
        .values_list("customer", "at")
    )
    stored = Customer.objects.values_list("pk", "last_contacted_at", "next_follow_up_at")
    wrong = [row for row in stored if (row[1], row[2]) != (last.get(row[0]), following.get(row[0]))]
    assert wrong == []
    assert last and following


def assert_invariants() -> None:
    now = timezone.now()
    assert not Interaction.objects.filter(occurred_at__gt=now).exists()
    assert not Interaction.objects.filter(occurred_at__lt=F("customer__created_at")).exists()
    assert not Interaction.objects.exclude(contact=None).exclude(contact__customer=F("customer")).exists()
    assert not FollowUpTask.objects.exclude(contact=None).exclude(contact__customer=F("customer")).exists()
    done = FollowUpTask.objects.filter(status="done")
    assert not done.filter(Q(completed_by_interaction=None) | Q(completed_at=None)).exists()
    assert not done.exclude(completed_by_interaction__customer=F("customer")).exists()
    assert not FollowUpTask.objects.exclude(parent=None).exclude(parent__customer=F("customer")).exists()
    assert not FollowUpTask.objects.filter(created_at__gt=now).exists()
    numbers = list(Interaction.objects.values_list("number", "occurred_at"))
    assert len({number for number, _ in numbers}) == len(numbers)
    for number, occurred_at in numbers:
        assert number.startswith(f"G{timezone.localdate(occurred_at):%Y%m%d}"), number
    assert_follow_up_fields_are_true()


def test_seed_demo_gives_the_demo_customers_a_year_of_history():
    seed()
    assert_invariants()
    demo = Customer.objects.annotate(n=Count("interactions"))
    assert Interaction.objects.count() >= 5 * demo.count()
    year_ago = timezone.now() - datetime.timedelta(days=366)
    assert not Interaction.objects.filter(occurred_at__lt=year_ago).exists()
    assert Interaction.objects.filter(occurred_at__lt=timezone.now() - datetime.timedelta(days=180)).exists()
    # Realistic text, a contact for enterprises, and a cadence rule behind the open tasks.
    interaction = Interaction.objects.filter(customer__kind="enterprise").first()
    assert interaction.topic and interaction.summary and interaction.contact is not None
    assert FollowUpTask.objects.filter(status="open", cadence_rule__isnull=False).exists()
    assert FollowUpTask.objects.filter(status="cancelled").exists()
    assert FollowUpTask.objects.filter(parent__isnull=False).exists()
    # Most customers not lost have a next step; numbers continue the shared daily counter.
    active = Customer.objects.exclude(stage="lost")
    assert active.filter(next_follow_up_at__isnull=False).count() >= active.count() * 0.7
    latest = Interaction.objects.order_by("-occurred_at").first()
    key = latest.number[:9]
    assert (
        NumberSequence.objects.get(key=key).last_value
        == Interaction.objects.filter(number__startswith=key).count()
    )


def test_every_demo_rep_and_manager_has_open_done_and_overdue_tasks():
    seed()
    now = timezone.now()
    for username in SALES:
        mine = FollowUpTask.objects.filter(owner__username=username)
        assert mine.filter(status="open", due_at__gt=now).exists(), username
        assert mine.overdue(now).exists(), username
        assert mine.filter(status="done", completed_by_interaction__isnull=False).exists(), username
    overdue_days = [(now - task.due_at).days for task in FollowUpTask.objects.overdue(now)]
    assert overdue_days and max(overdue_days) <= 21


def test_every_demo_rep_gets_an_overdue_task_even_when_chance_gives_none(monkeypatch):
    monkeypatch.setattr(seeding, "OVERDUE_SHARE", 0.0)
    seed()
    for username in SALES:
        assert FollowUpTask.objects.filter(owner__username=username).overdue().exists(), username
    assert_invariants()


def test_seed_demo_twice_creates_no_history_twice():
    seed()
    before = counts()
    seed()
    assert counts() == before


def test_generated_customers_get_about_ten_interactions_each_with_a_realistic_mix():
    seed()
    first_generated = Customer.objects.order_by("-pk").first().pk + 1
    seed("--customers", "1500")
    generated = Customer.objects.filter(pk__gte=first_generated)
    assert generated.count() == 1500
    interactions = Interaction.objects.filter(customer__in=generated)
    assert 8 <= interactions.count() / 1500 <= 12
    methods = Counter(interactions.values_list("method", flat=True))
    assert [method for method, _ in methods.most_common()] == [
        "phone",
        "wechat",
        "visit",
        "email",
        "meeting",
        "other",
    ]
    active = interactions.exclude(customer__stage="lost")
    per_class = Counter(active.values_list("customer__value_class", flat=True))
    customers_per_class = Counter(generated.exclude(stage="lost").values_list("value_class", flat=True))
    average = {value: per_class[value] / customers_per_class[value] for value in "ABC"}
    assert average["A"] > average["B"] > average["C"]
    lost = generated.filter(stage="lost")
    assert Interaction.objects.filter(customer__in=lost).count() / lost.count() < average["B"]
    # Spread over three years, within each customer's life, mostly in working hours.
    oldest = interactions.order_by("occurred_at").first().occurred_at
    assert oldest < timezone.now() - datetime.timedelta(days=2 * 365)
    hours = Counter(timezone.localtime(at).hour for at in interactions.values_list("occurred_at", flat=True))
    assert sum(hours[hour] for hour in range(9, 18)) > 0.95 * interactions.count()
    tasks = FollowUpTask.objects.filter(customer__in=generated)
    assert 0.2 <= tasks.count() / interactions.count() <= 0.45
    assert tasks.filter(status="open").overdue().exists() and tasks.filter(status="done").exists()
    assert_invariants()


def test_the_bulk_path_takes_a_bounded_number_of_queries(django_assert_max_num_queries):
    seed()
    # The customers seeder reserves numbers once per creation day (three years at most); the
    # history adds a handful of statements per 5,000 interactions — nothing per row.
    with django_assert_max_num_queries(3 * 366 + 100):
        seed("--customers", "2000")
    assert Interaction.objects.count() > 15_000


def test_a_second_run_with_more_customers_seeds_only_the_new_ones():
    seed("--customers", "200")
    before = dict(Customer.objects.annotate(n=Count("interactions")).values_list("pk", "n"))
    seed("--customers", "100")
    after = dict(Customer.objects.annotate(n=Count("interactions")).values_list("pk", "n"))
    assert {pk: after[pk] for pk in before} == before
    new = sorted(set(after) - set(before))
    assert len(new) == 100 and sum(after[pk] for pk in new) > 500
    assert_invariants()


def test_open_tasks_follow_the_cadence_rules_as_an_admin_set_them():
    CadenceRule.objects.filter(trigger="value_class", value="C").update(days=45)
    seed("--customers", "200")
    rule = CadenceRule.objects.get(trigger="value_class", value="C")
    proposed = FollowUpTask.objects.filter(cadence_rule=rule, status="open", source_interaction__isnull=False)
    on_time = [task for task in proposed.select_related("source_interaction") if task.due_at > timezone.now()]
    assert any(
        (timezone.localdate(task.due_at) - timezone.localdate(task.source_interaction.occurred_at)).days == 45
        for task in on_time
    )
    assert all(
        task.content == rule.task_content for task in proposed if not task.source_interaction.next_step
    )


def test_without_copy_the_bulk_create_path_keeps_the_same_invariants(monkeypatch):
    monkeypatch.setattr(seeding, "_can_copy", lambda: False)
    seed("--customers", "50")
    assert Interaction.objects.count() > 300
    assert_invariants()
    for username in SALES:
        assert FollowUpTask.objects.filter(owner__username=username).overdue().exists()
