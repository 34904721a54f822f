"""Cadence rules in the admin, and the read-only admin lists of interactions and tasks."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from interactions.admin import PRECEDENCE, PRECEDENCE_SHORT
from interactions.models import CadenceRule, FollowUpTask, Interaction
from interactions.services.cadence import propose_next
from tests.factories.customers import CustomerFactory
from tests.factories.interactions import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:interactions_cadencerule_changelist")


def edit_in_list(client, changes: dict[int, dict]):
    """POST the changelist's editable columns (days, active) as the page offers them."""
    formset = client.get(CHANGELIST).context["cl"].formset
    management = formset.management_form
    data = {management.add_prefix(name): value for name, value in management.initial.items()}
    for form in formset.forms:
        rule = form.instance
        values = {"days": rule.days, "active": rule.active, **changes.get(rule.pk, {})}
        data[form.add_prefix("id")] = rule.pk
        data[form.add_prefix("days")] = values["days"]
        if values["active"]:
            data[form.add_prefix("active")] = "on"
    return client.post(CHANGELIST, {**data, "_save": "Save"})


def test_administrator_edits_the_days_of_a_rule_and_proposals_use_them(client, administrator, rep):
    customer = CustomerFactory(owner=rep, value_class="B", stage="potential")
    rule = CadenceRule.objects.get(trigger="value_class", value="B")
    client.force_login(administrator)
    response = edit_in_list(client, {rule.pk: {"days": 10}})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.days == 10
    after = timezone.make_aware(datetime.datetime(2026, 3, 2, 15, 0))
    proposal = propose_next(customer, after=after)
    assert proposal.rule == rule
    assert timezone.localdate(proposal.due_at) == datetime.date(2026, 3, 12)


def test_a_rule_switched_off_in_the_list_falls_back_to_the_value_class(client, administrator, rep):
    lost = CustomerFactory(owner=rep, value_class="A", stage="lost")
    assert propose_next(lost).rule.value == "lost"
    rule = CadenceRule.objects.get(trigger="stage", value="lost")
    client.force_login(administrator)
    edit_in_list(client, {rule.pk: {"active": False}})
    assert propose_next(lost).rule.value == "A"


def test_the_rule_list_and_form_explain_which_rule_wins(client, administrator):
    client.force_login(administrator)
    page = client.get(CHANGELIST).content.decode()
    assert escape(str(PRECEDENCE_SHORT)) in page
    assert "A类客户每周跟进" in page and "每月安排一次高层拜访" in page
    rule = CadenceRule.objects.get(trigger="value_class", value="A")
    form = client.get(reverse("admin:interactions_cadencerule_change", args=[rule.pk])).content.decode()
    assert str(PRECEDENCE) in form  # shown as written (|safe)


def test_a_rule_for_an_unknown_value_is_refused(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:interactions_cadencerule_add"),
        {
            "trigger": "value_class",
            "value": "D",
            "days": 5,
            "task_content": "D类跟进",
            "note": "",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "value" in response.context["adminform"].form.errors
    assert not CadenceRule.objects.filter(value="D").exists()
    response = client.post(
        reverse("admin:interactions_cadencerule_add"),
        {"trigger": "stage", "value": "deal", "days": 60, "task_content": "成交客户回访", "note": ""},
    )
    assert response.status_code == 302
    assert CadenceRule.objects.get(trigger="stage", value="deal").active is False


@pytest.mark.parametrize("persona", ["rep", "lead", "director"])
def test_sales_users_cannot_open_the_cadence_rules(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "admin/login" in response["Location"]
    before = CadenceRule.objects.get(trigger="value_class", value="A").days
    client.post(CHANGELIST, {"form-TOTAL_FORMS": "0", "_save": "Save"})
    assert CadenceRule.objects.get(trigger="value_class", value="A").days == before


def test_administrator_looks_up_an_interaction_by_number_but_cannot_change_it(client, administrator, rep):
    wanted = InteractionFactory(customer=CustomerFactory(owner=rep, name="杭州鑫达科技有限公司"))
    InteractionFactory.create_batch(3)
    client.force_login(administrator)
    changelist = reverse("admin:interactions_interaction_changelist")
    found = client.get(changelist, {"q": wanted.number}).context["cl"].result_list
    assert list(found) == [wanted]
    by_name = client.get(changelist, {"q": "鑫达"}).context["cl"].result_list
    assert list(by_name) == [wanted]
    change = reverse("admin:interactions_interaction_change", args=[wanted.pk])
    page = client.get(change)
    assert page.status_code == 200 and wanted.summary in page.content.decode()
    assert client.post(change, {"topic": "改掉"}).status_code == 403
    assert client.get(reverse("admin:interactions_interaction_add")).status_code == 403
    wanted.refresh_from_db()
    assert wanted.topic == "电话回访"


def test_administrator_filters_tasks_by_status(client, administrator, rep):
    open_task = TaskFactory(owner=rep)
    done = TaskFactory(owner=rep, status=FollowUpTask.Status.DONE)
    client.force_login(administrator)
    response = client.get(reverse("admin:interactions_followuptask_changelist"), {"status__exact": "done"})
    assert list(response.context["cl"].result_list) == [done]
    assert open_task not in response.context["cl"].result_list


@pytest.mark.parametrize("model", ["interaction", "followuptask"])
def test_admin_lists_take_the_same_queries_for_one_row_and_thirty(
    client, administrator, rep, model, django_assert_max_num_queries
):
    factory = InteractionFactory if model == "interaction" else TaskFactory
    factory()
    client.force_login(administrator)
    url = reverse(f"admin:interactions_{model}_changelist")
    client.get(url)  # warm the session and content types
    with django_assert_max_num_queries(12) as one:
        assert client.get(url).status_code == 200
    factory.create_batch(30)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 31


def test_interactions_and_tasks_cannot_be_added_even_by_a_superuser(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(superuser)
    assert client.get(reverse("admin:interactions_followuptask_add")).status_code == 403
    assert client.get(reverse("admin:interactions_cadencerule_add")).status_code == 200
    assert Interaction.objects.count() == 0
