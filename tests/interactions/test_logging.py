"""Logging interactions in place and from the quick-log page, the cadence proposal in the form,
and adding follow-up tasks from a customer (interactions.views.logging)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from customers.models import Customer
from interactions.models import CadenceRule, FollowUpTask, Interaction
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.interactions import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
HTMX = {"HTTP_HX_REQUEST": "true"}
LOCAL = "%Y-%m-%dT%H:%M"


@pytest.fixture
def customer(rep):
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司", value_class="B", stage="potential")
    ContactFactory(customer=customer, name="王经理", is_primary=True)
    return customer


def url(name: str, customer: Customer | None = None, **params: str) -> str:
    path = reverse(f"interactions:{name}", args=[customer.pk] if customer else [])
    if params:
        path += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return path


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime(LOCAL)


def proposed_due(days: int) -> str:
    """The due date-time a proposal made now shows in the form: the rule's day at 10:00."""
    return f"{timezone.localdate() + datetime.timedelta(days=days):%Y-%m-%d}T10:00"


def input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def log_data(user, **fields) -> dict:
    data = {
        "method": "phone",
        "occurred_at": local(timezone.now() - datetime.timedelta(hours=1)),
        "topic": "确认采购需求",
        "summary": "客户确认了预算和上线时间",
        "next_due_at": local(timezone.now() + datetime.timedelta(days=14)),
        "next_content": "B类客户每两周跟进",
        "next_owner": str(user.pk),
        "next_priority": "2",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


# The form, in place and as a page


def test_rep_opens_the_log_form_in_place_as_a_fragment(client, rep, customer):
    client.force_login(rep)
    response = client.get(url("interaction-log", customer), **HTMX, **ZH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'hx-post="{url("interaction-log", customer)}"' in html
    assert 'hx-target="#interaction-log-slot"' in html
    assert "HX-Request" in response["Vary"]
    # Now by default (local time, to the minute), the primary contact preselected.
    assert input_value(html, "occurred_at") == timezone.localtime().strftime(LOCAL)
    primary = customer.contacts.get()
    assert re.search(rf'<option value="{primary.pk}" selected>', html)
    # Six methods as radio buttons, the phone checked.
    assert html.count('type="radio" name="method"') == 6
    assert re.search(r'<input type="radio" name="method" value="phone"[^>]*checked', html)


def test_without_js_the_form_is_a_full_page_posting_normally(client, rep, customer):
    client.force_login(rep)
    response = client.get(url("interaction-log", customer), **ZH)
    html = response.content.decode()
    assert "<html" in html and 'id="interaction-log-form"' in html
    assert "hx-post" not in html
    assert 'name="recalculate"' in html  # "propose again" for browsers without JS


def test_customer_page_offers_to_log_in_place_and_to_add_a_task(client, rep, director, customer):
    client.force_login(rep)
    html = client.get(customer.get_absolute_url(), **ZH).content.decode()
    log_url = url("interaction-log", customer)
    assert re.search(rf'<a [^>]*href="{log_url}" hx-get="{log_url}" hx-target="#interaction-log-slot"', html)
    assert 'id="interaction-log-slot"' in html
    assert f'href="{url("task-create", customer)}"' in html
    assert f'href="{url("quick-log")}"' in html  # the navbar's quick log
    client.force_login(director)
    html = client.get(customer.get_absolute_url(), **ZH).content.decode()
    assert log_url not in html and url("task-create", customer) not in html
    assert url("quick-log") not in html


# Logging in place


def test_logging_in_place_puts_the_interaction_at_the_top_of_the_returned_timeline(client, rep, customer):
    older = InteractionFactory(
        customer=customer, topic="上次拜访", occurred_at=timezone.now() - datetime.timedelta(days=3)
    )
    client.force_login(rep)
    response = client.post(url("interaction-log", customer), log_data(rep), **HTMX, **ZH)
    assert response.status_code == 200
    interaction = Interaction.objects.get(customer=customer, topic="确认采购需求")
    assert interaction.owner == rep and interaction.contact is None
    html = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert interaction.number in html  # the success note
    timeline = html[html.index('<section class="card" id="timeline"') :]
    assert timeline.startswith(
        '<section class="card" id="timeline" aria-labelledby="timeline-heading" hx-swap-oob="true">'
    )
    entries = re.findall(
        r'<li class="list-group-item d-flex gap-3" data-kind="(\w+)">.*?</li>', timeline, re.S
    )
    first = re.search(
        r'<li class="list-group-item d-flex gap-3" data-kind="(\w+)">(.*?)</li>', timeline, re.S
    )
    assert first.group(1) == "interaction" and "确认采购需求" in first.group(2)
    assert "上次拜访" in timeline and len(entries) >= 3  # the new task, the older interaction
    # The page's last contacted / next follow-up follow out of band.
    customer.refresh_from_db()
    assert customer.last_contacted_at == interaction.occurred_at
    assert re.search(r'<span id="customer-next-follow-up" hx-swap-oob="true">\s*\S', html)
    assert older.pk != interaction.pk


def test_changing_the_stage_while_logging_moves_it_and_refreshes_the_stage_card(client, rep, customer):
    client.force_login(rep)
    data = log_data(rep, stage="intent", next_due_at=local(timezone.now() + datetime.timedelta(days=3)))
    response = client.post(url("interaction-log", customer), data, **HTMX, **ZH)
    customer.refresh_from_db()
    assert customer.stage == "intent"
    html = response.content.decode()
    assert 'id="customer-stage" aria-labelledby="stage-heading" hx-swap-oob="true"' in html
    assert '<span id="header-stage" hx-swap-oob="true">' in html
    task = FollowUpTask.objects.get(customer=customer)
    assert task.cadence_rule == CadenceRule.objects.get(trigger="stage", value="intent")


def test_without_js_saving_redirects_to_the_customer_with_the_record_number(client, rep, customer):
    client.force_login(rep)
    response = client.post(url("interaction-log", customer), log_data(rep), follow=True, **ZH)
    interaction = Interaction.objects.get(customer=customer)
    assert response.redirect_chain[-1][0] == customer.get_absolute_url()
    assert interaction.number in response.content.decode()


def test_from_quick_log_saving_comes_back_offering_to_log_another(client, rep, customer):
    client.force_login(rep)
    response = client.post(
        url("interaction-log", customer), log_data(rep, **{"from": "quick"}), follow=True, **ZH
    )
    interaction = Interaction.objects.get(customer=customer)
    assert response.redirect_chain[-1][0] == url("quick-log", last=str(customer.pk))
    html = response.content.decode()
    assert interaction.number in html
    assert f'href="{url("interaction-log", customer)}?from=quick"' in html  # log another


# The cadence proposal


@pytest.mark.parametrize(
    ("value_class", "days", "content", "note"),
    [
        ("A", 7, "A类客户每周跟进", "每月安排一次高层拜访"),
        ("B", 14, "B类客户每两周跟进", "每季度做一次需求调研"),
        ("C", 30, "C类客户每月跟进", "每半年更新一次客户资料"),
    ],
)
def test_the_form_proposes_the_next_task_by_value_class(client, rep, value_class, days, content, note):
    customer = CustomerFactory(owner=rep, value_class=value_class, stage="potential")
    client.force_login(rep)
    html = client.get(url("interaction-log", customer), **HTMX, **ZH).content.decode()
    assert input_value(html, "next_due_at") == proposed_due(days)
    assert input_value(html, "next_content") == content
    assert note in html
    assert re.search(rf'<option value="{rep.pk}" selected>', html)  # owner: the one logging


@pytest.mark.parametrize(
    ("params", "stage", "days", "content"),
    [
        ({"stage": "intent"}, "potential", 3, "需求确认后3天内二次跟进"),
        ({"proposal_sent": "on"}, "potential", 2, "方案已发送，2天内跟进反馈"),
        ({"proposal_sent": "on", "stage": "intent"}, "potential", 2, "方案已发送，2天内跟进反馈"),
        ({}, "lost", 90, "三个月后回访，了解流失原因"),
        ({"stage": "intent"}, "intent", 14, "B类客户每两周跟进"),  # already intent: no new need confirmed
    ],
)
def test_the_proposal_follows_intent_proposal_sent_and_lost(client, rep, params, stage, days, content):
    customer = CustomerFactory(owner=rep, value_class="B", stage=stage)
    client.force_login(rep)
    query = {"part": "proposal", **params}
    response = client.get(url("interaction-log", customer), query, **HTMX, **ZH)
    html = response.content.decode()
    assert html.lstrip().startswith('<fieldset class="border rounded p-3 mb-3" id="next-task"')
    assert "HX-Request" in response["Vary"]
    assert input_value(html, "next_due_at") == proposed_due(days)
    assert input_value(html, "next_content") == content


def test_re_proposing_keeps_the_chosen_owner_and_dont_plan(client, rep, teammate, customer):
    customer.collaborators.add(teammate)
    client.force_login(rep)
    query = {"part": "proposal", "proposal_sent": "on", "next_owner": teammate.pk, "no_next_task": "on"}
    html = client.get(url("interaction-log", customer), query, **HTMX).content.decode()
    assert re.search(rf'<option value="{teammate.pk}" selected>', html)
    assert re.search(r'<input type="checkbox" name="no_next_task"[^>]*checked', html)


def test_without_js_recalculate_shows_the_new_proposal_and_keeps_what_was_typed(client, rep, customer):
    client.force_login(rep)
    data = log_data(rep, topic="", summary="半截的记录", proposal_sent="on", recalculate="1")
    response = client.post(url("interaction-log", customer), data, **ZH)
    html = response.content.decode()
    assert input_value(html, "next_due_at") == proposed_due(2)
    assert "半截的记录" in html
    assert "is-invalid" not in html  # not an attempt to save: no errors yet
    assert not Interaction.objects.exists()


def test_accepting_a_changed_proposal_creates_that_task(client, rep, teammate, customer):
    customer.collaborators.add(teammate)
    client.force_login(rep)
    due = (timezone.localtime() + datetime.timedelta(days=5)).replace(
        hour=15, minute=30, second=0, microsecond=0
    )
    data = log_data(
        rep,
        next_due_at=due.strftime(LOCAL),
        next_content="带样品上门演示",
        next_owner=str(teammate.pk),
        next_priority="3",
    )
    client.post(url("interaction-log", customer), data, **HTMX)
    interaction = Interaction.objects.get(customer=customer)
    task = FollowUpTask.objects.get(customer=customer)
    assert (task.due_at, task.content, task.owner, task.priority) == (due, "带样品上门演示", teammate, 3)
    assert task.source_interaction == interaction and task.created_by == rep
    assert task.cadence_rule == CadenceRule.objects.get(trigger="value_class", value="B")
    customer.refresh_from_db()
    assert customer.next_follow_up_at == due


def test_dont_plan_creates_no_task(client, rep, customer):
    client.force_login(rep)
    response = client.post(
        url("interaction-log", customer), log_data(rep, no_next_task="on", next_due_at=""), **HTMX
    )
    assert response.status_code == 200
    assert Interaction.objects.filter(customer=customer).count() == 1
    assert not FollowUpTask.objects.exists()
    customer.refresh_from_db()
    assert customer.next_follow_up_at is None


def test_the_task_due_within_a_day_is_ticked_and_completed_by_the_interaction(client, rep, customer):
    soon = TaskFactory(customer=customer, owner=rep, due_at=timezone.now() + datetime.timedelta(hours=3))
    later = TaskFactory(customer=customer, owner=rep, due_at=timezone.now() + datetime.timedelta(days=9))
    client.force_login(rep)
    html = client.get(url("interaction-log", customer), **HTMX).content.decode()
    assert re.search(rf'<input type="checkbox" name="completes" value="{soon.pk}"[^>]*checked', html)
    assert re.search(
        rf'<input type="checkbox" name="completes" value="{later.pk}"(?![^>]*checked)[^>]*>', html
    )
    client.post(url("interaction-log", customer), log_data(rep, completes=[str(soon.pk)]), **HTMX)
    interaction = Interaction.objects.get(customer=customer)
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.status == "done" and soon.completed_by_interaction == interaction
    assert later.status == "open"


def test_a_later_task_is_not_ticked(client, rep, customer):
    task = TaskFactory(customer=customer, owner=rep, due_at=timezone.now() + datetime.timedelta(days=3))
    client.force_login(rep)
    html = client.get(url("interaction-log", customer), **HTMX).content.decode()
    assert re.search(rf'<input type="checkbox" name="completes" value="{task.pk}"', html)
    assert not re.search(rf'<input type="checkbox" name="completes" value="{task.pk}"[^>]*checked', html)


# Errors


def test_errors_keep_what_was_typed_and_are_translated(client, rep, customer):
    client.force_login(rep)
    future = local(timezone.now() + datetime.timedelta(hours=2))
    data = log_data(
        rep, topic="", occurred_at=future, summary="客户要求下周再联系", feedback="价格偏高", method="visit"
    )
    response = client.post(url("interaction-log", customer), data, **HTMX, **ZH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "这个字段是必填项。" in html  # topic
    with translation.override("zh-hans"):
        assert gettext("An interaction cannot be in the future; plan a task for it instead.") in html
    assert "客户要求下周再联系" in html and "价格偏高" in html
    assert input_value(html, "occurred_at") == future
    assert re.search(r'<input type="radio" name="method" value="visit"[^>]*checked', html)
    assert 'hx-post="' in html  # still in place
    assert not Interaction.objects.exists() and not FollowUpTask.objects.exists()


def test_a_next_task_needs_a_due_time_unless_none_is_planned(client, rep, customer):
    client.force_login(rep)
    response = client.post(url("interaction-log", customer), log_data(rep, next_due_at=""), **ZH)
    assert response.status_code == 200
    assert "next_due_at" in response.context["form"].errors
    past = local(timezone.now() - datetime.timedelta(days=1))
    response = client.post(url("interaction-log", customer), log_data(rep, next_due_at=past), **ZH)
    assert "next_due_at" in response.context["form"].errors
    assert not Interaction.objects.exists()


def test_a_contact_of_another_customer_is_refused(client, rep, customer):
    stranger = ContactFactory(customer=CustomerFactory(owner=rep))
    client.force_login(rep)
    response = client.post(url("interaction-log", customer), log_data(rep, contact=str(stranger.pk)), **ZH)
    assert "contact" in response.context["form"].errors
    assert not Interaction.objects.exists()


# Who may log


def test_a_collaborator_logs_on_a_shared_customer(client, rep, teammate, customer):
    customer.collaborators.add(teammate)
    client.force_login(teammate)
    response = client.post(url("interaction-log", customer), log_data(teammate))
    assert response.status_code == 302
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.owner == teammate
    assert FollowUpTask.objects.get(customer=customer).owner == teammate


@pytest.mark.parametrize("persona", ["director", "agent"])
def test_readers_get_403_on_logging_and_adding_tasks(client, request, persona, rep):
    user = request.getfixturevalue(persona)
    # The director sees every customer; the service agent sees their own.
    customer = CustomerFactory(owner=user if persona == "agent" else rep)
    client.force_login(user)
    assert client.get(customer.get_absolute_url()).status_code == 200
    for name in ("interaction-log", "task-create"):
        assert client.get(url(name, customer)).status_code == 403
        assert client.post(url(name, customer), log_data(user)).status_code == 403
    assert client.get(url("quick-log")).status_code == 403
    assert client.get(url("customer-search", q="科技")).status_code == 403
    assert not Interaction.objects.exists() and not FollowUpTask.objects.exists()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("interaction-log", "get"),
        ("interaction-log", "post"),
        ("task-create", "get"),
        ("task-create", "post"),
    ],
)
def test_other_team_rep_gets_404(client, other_team_rep, customer, name, method):
    client.force_login(other_team_rep)
    response = getattr(client, method)(
        url(name, customer), log_data(other_team_rep) if method == "post" else {}
    )
    assert response.status_code == 404
    assert client.get(url(name, customer), {"part": "proposal"}, **HTMX).status_code == 404
    assert not Interaction.objects.exists() and not FollowUpTask.objects.exists()


def test_other_team_rep_finds_nothing_of_another_team_in_the_quick_log(client, other_team_rep, customer):
    client.force_login(other_team_rep)
    for name in ("quick-log", "customer-search"):
        for query in ("云帆", customer.number, customer.phone):
            response = client.get(url(name), {"q": query}, **ZH)
            assert response.status_code == 200
            assert customer.name not in response.content.decode()
    response = client.get(url("quick-log"), {"last": customer.pk})
    assert customer.name not in response.content.decode()


# Quick log


@pytest.fixture
def searchable(rep, other_team_rep):
    mine = CustomerFactory(owner=rep, name="苏州云帆智能装备有限公司", phone="138 0013 8000")
    theirs = CustomerFactory(owner=other_team_rep, name="苏州云帆电子有限公司", phone="138 0013 8001")
    return mine, theirs


@pytest.mark.parametrize("query", ["云帆智能", "{number}", "+86 138-0013-8000", "13800138000"])
def test_quick_log_finds_by_name_fragment_number_and_phone(client, rep, searchable, query):
    mine, theirs = searchable
    client.force_login(rep)
    query = query.format(number=mine.number.lower())
    response = client.get(url("customer-search"), {"q": query}, **HTMX, **ZH)
    html = response.content.decode()
    assert "HX-Request" in response["Vary"] and "<html" not in html
    assert f'href="{url("interaction-log", mine)}?from=quick"' in html
    assert theirs.name not in html
    page = client.get(url("quick-log"), {"q": query}, **ZH).content.decode()
    assert "<html" in page and mine.name in page and theirs.name not in page


def test_quick_log_never_shows_customers_out_of_scope(client, rep, searchable):
    mine, theirs = searchable
    client.force_login(rep)
    html = client.get(url("customer-search"), {"q": "苏州云帆"}, **HTMX).content.decode()
    assert mine.name in html and theirs.name not in html


def test_quick_log_shows_at_most_ten(client, rep):
    for index in range(12):
        CustomerFactory(owner=rep, name=f"宁波海曙贸易{index:02d}有限公司")
    client.force_login(rep)
    html = client.get(url("customer-search"), {"q": "海曙"}, **HTMX, **ZH).content.decode()
    assert html.count("data-customer=") == 10


def test_quick_log_with_an_empty_query_lists_nothing(client, rep, customer):
    client.force_login(rep)
    html = client.get(url("quick-log"), **ZH).content.decode()
    assert 'id="quick-log-q"' in html and customer.name not in html


# Adding a task


def test_rep_adds_a_task_for_a_teammate_on_their_customer(client, rep, teammate, customer):
    customer.collaborators.add(teammate)
    contact = customer.contacts.get()
    client.force_login(rep)
    page = client.get(url("task-create", customer), **ZH).content.decode()
    assert re.search(rf'<option value="{rep.pk}" selected>', page)
    due = (timezone.localtime() + datetime.timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    data = {
        "content": "寄送合同样本",
        "due_at": due.strftime(LOCAL),
        "owner": teammate.pk,
        "priority": "3",
        "contact": contact.pk,
    }
    response = client.post(url("task-create", customer), data, follow=True, **ZH)
    task = FollowUpTask.objects.get(customer=customer)
    assert (task.content, task.due_at, task.owner, task.priority, task.contact) == (
        "寄送合同样本",
        due,
        teammate,
        3,
        contact,
    )
    assert task.created_by == rep and task.status == "open"
    assert response.redirect_chain[-1][0] == customer.get_absolute_url()
    assert "寄送合同样本" in response.content.decode()
    customer.refresh_from_db()
    assert customer.next_follow_up_at == due


def test_a_sub_task_of_an_open_task(client, rep, customer):
    main = TaskFactory(customer=customer, owner=rep, content="完成方案评审")
    client.force_login(rep)
    page = client.get(url("task-create", customer), {"parent": main.pk}).content.decode()
    assert re.search(rf'<option value="{main.pk}" selected>', page)
    due = local(timezone.now() + datetime.timedelta(days=1))
    client.post(
        url("task-create", customer),
        {"content": "补充报价明细", "due_at": due, "owner": rep.pk, "priority": "2", "parent": main.pk},
    )
    assert FollowUpTask.objects.get(content="补充报价明细").parent == main


def test_the_owner_must_be_among_the_customer_people(client, rep, other_team_rep, customer):
    client.force_login(rep)
    due = local(timezone.now() + datetime.timedelta(days=1))
    data = {"content": "回访", "due_at": due, "owner": other_team_rep.pk, "priority": "2"}
    response = client.post(url("task-create", customer), data, **ZH)
    assert response.status_code == 200 and "owner" in response.context["form"].errors
    past = local(timezone.now() - datetime.timedelta(days=1))
    response = client.post(url("task-create", customer), {**data, "owner": rep.pk, "due_at": past}, **ZH)
    assert "due_at" in response.context["form"].errors
    assert "回访" in response.content.decode()
    assert not FollowUpTask.objects.exists()


def test_a_lead_may_give_a_task_to_a_member_of_their_team(client, lead, teammate, customer):
    client.force_login(lead)
    due = local(timezone.now() + datetime.timedelta(days=1))
    data = {"content": "经理安排：补充拜访", "due_at": due, "owner": teammate.pk, "priority": "2"}
    assert client.post(url("task-create", customer), data).status_code == 302
    assert FollowUpTask.objects.get(customer=customer).owner == teammate


# Query budget


@pytest.mark.parametrize("count", [1, 30])
def test_the_form_page_query_count_does_not_grow(client, django_assert_max_num_queries, rep, teammate, count):
    customer = CustomerFactory(owner=rep, collaborators=[teammate])
    for index in range(count):
        ContactFactory(customer=customer, is_primary=index == 0)
        TaskFactory(customer=customer, owner=teammate if index % 2 else rep)
    client.force_login(rep)
    # Session, user, 2 × permissions, customer, cadence rules, open tasks (listed, then shown),
    # collaborators, teams led, contacts (the primary one, then all shown).
    with django_assert_max_num_queries(13):
        response = client.get(url("interaction-log", customer))
    assert response.content.decode().count('name="completes"') == count
    with django_assert_max_num_queries(13):
        response = client.get(url("interaction-log", customer), **HTMX)
    assert response.content.decode().count('name="contact"') == 1
