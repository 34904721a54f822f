import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.exports import export_build
from accounts.models import Export
from customers.services.history import snapshot
from opportunities.models import Opportunity, StageChange
from opportunities.services import EDITABLE_FIELDS
from tests.factories.customers import CustomerFactory
from tests.factories.customers_listing import export_rows, media  # noqa: F401  (fixture)
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage

pytestmark = pytest.mark.django_db

LIST = reverse("opportunities:opportunity-list")
BOARD = reverse("opportunities:opportunity-board")
CREATE = reverse("opportunities:opportunity-create")
EXPORT = reverse("opportunities:opportunity-export")


def detail(opportunity):
    return reverse("opportunities:opportunity-detail", args=[opportunity.pk])


def edit(opportunity):
    return reverse("opportunities:opportunity-edit", args=[opportunity.pk])


def move(opportunity):
    return reverse("opportunities:opportunity-move", args=[opportunity.pk])


@pytest.fixture
def world(rep, teammate, lead, other_team_rep):
    return {
        "own": OpportunityFactory(
            name="机会-own", customer=CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
        ),
        "shared": OpportunityFactory(
            name="机会-shared", customer=CustomerFactory(owner=teammate, collaborators=[rep])
        ),
        "teammate": OpportunityFactory(name="机会-teammate", customer=CustomerFactory(owner=teammate)),
        "other": OpportunityFactory(name="机会-other", customer=CustomerFactory(owner=other_team_rep)),
    }


def _names(response) -> set[str]:
    return {opportunity.name for opportunity in response.context["opportunities"]}


def _form_data(**overrides) -> dict:
    data = {
        "name": "数据平台建设",
        "amount": "88000",
        "currency": "CNY",
        "rate_to_cny": "",
        "expected_close_date": (timezone.localdate() + datetime.timedelta(days=20)).isoformat(),
        "probability": "",
        "source": "",
        "next_step": "约决策人面谈",
        "next_step_date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
        "notes": "",
    }
    data.update(overrides)
    return data


# List


def test_rep_sees_own_and_shared_opportunities_only(client, rep, world):
    client.force_login(rep)
    response = client.get(LIST)
    assert response.status_code == 200
    assert _names(response) == {"机会-own", "机会-shared"}


def test_lead_sees_the_team_and_director_everything(client, lead, director, world):
    client.force_login(lead)
    assert _names(client.get(LIST)) == {"机会-own", "机会-shared", "机会-teammate"}
    client.force_login(director)
    assert len(_names(client.get(LIST))) == 4


def test_agent_without_permission_gets_403_on_list_and_board(client, agent, world):
    client.force_login(agent)
    assert client.get(LIST).status_code == 403
    assert client.get(BOARD).status_code == 403


def test_list_filters_by_search_stage_status_and_amount(client, lead, world):
    world["own"].amount_cny = Decimal("500000")
    world["own"].save()
    client.force_login(lead)
    assert _names(client.get(LIST, {"q": "云帆"})) == {"机会-own"}
    assert _names(client.get(LIST, {"q": world["teammate"].number})) == {"机会-teammate"}
    assert _names(client.get(LIST, {"amount_min": "200000"})) == {"机会-own"}
    assert _names(client.get(LIST, {"stage": stage("方案报价").pk})) == set()
    assert _names(client.get(LIST, {"status": "won"})) == set()
    assert len(_names(client.get(LIST, {"status": "open", "sort": "-amount"}))) == 3


def test_list_uses_a_constant_number_of_queries(client, rep):
    client.force_login(rep)
    OpportunityFactory(customer=CustomerFactory(owner=rep))
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for _ in range(15):
        OpportunityFactory(customer=CustomerFactory(owner=rep))
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(response.context["opportunities"]) == 16
    assert len(many) == len(one)


def test_list_htmx_request_gets_the_results_fragment(client, rep, world):
    client.force_login(rep)
    response = client.get(LIST, headers={"HX-Request": "true"})
    assert b"<html" not in response.content and b"opportunity-results" in response.content
    assert "HX-Request" in response["Vary"]


# Detail


def test_detail_shows_fields_and_history_to_a_collaborator(client, rep, world):
    StageChange.objects.create(
        opportunity=world["shared"],
        to_stage=world["shared"].stage,
        amount=world["shared"].amount,
        currency="CNY",
        amount_cny=world["shared"].amount_cny,
    )
    client.force_login(rep)
    response = client.get(detail(world["shared"]))
    assert response.status_code == 200
    assert "需求分析" in response.content.decode() and len(response.context["history"]) == 1


# Not named "page": that is Playwright's fixture, and would drag the browser's parameters in.
@pytest.mark.parametrize("page_url", [detail, edit, move])
def test_other_team_rep_gets_404_for_every_opportunity_page(client, other_team_rep, world, page_url):
    client.force_login(other_team_rep)
    assert client.get(page_url(world["own"])).status_code == 404


def test_other_team_lead_gets_404(client, other_lead, world):
    client.force_login(other_lead)
    assert client.get(detail(world["own"])).status_code == 404


def test_director_may_view_but_not_edit(client, director, world):
    client.force_login(director)
    assert client.get(detail(world["own"])).status_code == 200
    assert client.get(edit(world["own"])).status_code == 403
    assert client.post(move(world["own"]), {"stage": stage("商务谈判").pk}).status_code == 403


# Create


def test_rep_creates_from_the_customer_page_link(client, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    assert client.get(CREATE, {"customer": customer.pk}).status_code == 200
    response = client.post(
        f"{CREATE}?customer={customer.pk}",
        {**_form_data(), "customer": customer.pk, "stage": stage("线索").pk},
    )
    opportunity = Opportunity.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(opportunity)
    assert opportunity.customer == customer and opportunity.probability == 10 and opportunity.owner == rep
    assert opportunity.amount_cny == Decimal("88000.00")


def test_create_without_a_customer_searches_customers_in_scope(client, rep, other_team_rep):
    CustomerFactory(owner=rep, name="杭州云帆科技有限公司")
    CustomerFactory(owner=other_team_rep, name="杭州别组科技有限公司")
    client.force_login(rep)
    response = client.get(CREATE, {"q": "杭州"})
    assert [customer.name for customer in response.context["results"]] == ["杭州云帆科技有限公司"]


def test_create_with_bad_input_redisplays_what_was_typed(client, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        CREATE,
        {
            **_form_data(currency="USD", next_step="", name="我的输入"),
            "customer": customer.pk,
            "stage": stage("线索").pk,
        },
    )
    assert response.status_code == 200 and not Opportunity.objects.exists()
    form = response.context["form"]
    assert "rate_to_cny" in form.errors and "next_step" in form.errors
    assert "我的输入" in response.content.decode()


def test_other_team_rep_gets_404_creating_on_a_customer_out_of_scope(client, other_team_rep, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(other_team_rep)
    assert client.get(CREATE, {"customer": customer.pk}).status_code == 404
    response = client.post(CREATE, {**_form_data(), "customer": customer.pk, "stage": stage("线索").pk})
    assert response.status_code == 404 and not Opportunity.objects.exists()


# Create: the owner field


def test_a_rep_owns_what_they_create_and_cannot_choose_another_owner(client, rep, teammate):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    assert "owner" not in client.get(CREATE, {"customer": customer.pk}).context["form"].fields

    response = client.post(
        CREATE, {**_form_data(), "customer": customer.pk, "stage": stage("线索").pk, "owner": teammate.pk}
    )

    assert response.status_code == 302
    assert Opportunity.objects.get().owner == rep


def test_a_lead_chooses_a_member_of_their_team_as_owner(client, lead, rep, teammate, other_team_rep, agent):
    customer = CustomerFactory(owner=rep)
    client.force_login(lead)
    form = client.get(CREATE, {"customer": customer.pk}).context["form"]
    assert set(form.fields["owner"].queryset) == {lead, rep, teammate}
    assert form["owner"].value() == lead.pk

    response = client.post(
        CREATE, {**_form_data(), "customer": customer.pk, "stage": stage("线索").pk, "owner": teammate.pk}
    )

    assert response.status_code == 302
    opportunity = Opportunity.objects.get()
    assert (opportunity.owner, opportunity.team, opportunity.created_by) == (teammate, teammate.team, lead)


def test_a_lead_cannot_give_an_opportunity_to_another_team(client, lead, rep, other_team_rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(lead)

    response = client.post(
        CREATE,
        {
            **_form_data(name="我的输入"),
            "customer": customer.pk,
            "stage": stage("线索").pk,
            "owner": other_team_rep.pk,
        },
    )

    assert response.status_code == 200 and "owner" in response.context["form"].errors
    assert "我的输入" in response.content.decode() and not Opportunity.objects.exists()


def test_all_scope_users_choose_any_active_user_who_may_sell(client, rep, other_team_rep, agent, teammate):
    from tests.factories.accounts import UserFactory

    boss = UserFactory(username="boss", is_superuser=True)
    teammate.is_active = False
    teammate.save()
    customer = CustomerFactory(owner=rep)
    client.force_login(boss)

    owners = set(client.get(CREATE, {"customer": customer.pk}).context["form"].fields["owner"].queryset)

    assert {rep, other_team_rep, boss} <= owners
    assert agent not in owners and teammate not in owners
    response = client.post(
        CREATE,
        {**_form_data(), "customer": customer.pk, "stage": stage("线索").pk, "owner": other_team_rep.pk},
    )
    assert response.status_code == 302 and Opportunity.objects.get().team == other_team_rep.team


# Edit (optimistic locking)


def test_edit_saves_and_bumps_the_version(client, rep, world):
    opportunity = world["own"]
    client.force_login(rep)
    seen = client.get(edit(opportunity)).context["form"].initial["seen"]
    response = client.post(edit(opportunity), {**_form_data(amount="99000"), "version": 1, "seen": seen})
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.amount == Decimal("99000") and opportunity.version == 2


def test_second_editor_sees_which_fields_changed_and_keeps_their_input(client, rep, teammate, world):
    import json

    opportunity = world["own"]
    seen = json.dumps(snapshot(opportunity, [*EDITABLE_FIELDS, "stage"]))
    Opportunity.objects.filter(pk=opportunity.pk).update(amount=Decimal("150000"), version=2)
    client.force_login(rep)
    response = client.post(
        edit(opportunity),
        {**_form_data(name="我的新名字"), "version": 1, "seen": seen},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "150000.00" in errors and "100000.00" in errors
    assert "我的新名字" in response.content.decode()
    assert response.context["form"]["version"].value() == "2"
    opportunity.refresh_from_db()
    assert opportunity.name == "机会-own"


def test_other_team_rep_post_edit_gets_404_and_nothing_changes(client, other_team_rep, world):
    client.force_login(other_team_rep)
    response = client.post(edit(world["own"]), {**_form_data(name="偷改"), "version": 1})
    assert response.status_code == 404
    world["own"].refresh_from_db()
    assert world["own"].name == "机会-own" and world["own"].version == 1


# Move (board card form, with and without htmx)


def test_card_move_without_js_redirects_back_to_the_board(client, rep, world):
    client.force_login(rep)
    response = client.post(move(world["own"]), {"stage": stage("方案报价").pk, "next": BOARD})
    assert response.status_code == 302 and response["Location"] == BOARD
    world["own"].refresh_from_db()
    assert world["own"].stage.name == "方案报价" and world["own"].probability == 50
    assert StageChange.objects.filter(opportunity=world["own"], changed_by=rep).count() == 1


def test_card_move_with_htmx_refreshes_the_board(client, rep, world):
    client.force_login(rep)
    response = client.post(
        move(world["own"]), {"stage": stage("商务谈判").pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    world["own"].refresh_from_db()
    assert world["own"].stage.name == "商务谈判"


def test_moving_to_lost_without_reason_asks_for_it(client, rep, world):
    client.force_login(rep)
    response = client.post(move(world["own"]), {"stage": stage("输单").pk, "next": BOARD})
    assert response.status_code == 200 and "lost_reason" in response.context["form"].errors
    assert 'name="lost_reason"' in response.content.decode()
    fragment = client.post(move(world["own"]), {"stage": stage("输单").pk}, headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and b'name="lost_reason"' in fragment.content
    world["own"].refresh_from_db()
    assert world["own"].stage.name == "需求分析" and not StageChange.objects.exists()
    client.post(move(world["own"]), {"stage": stage("输单").pk, "lost_reason": lost_reason().pk})
    world["own"].refresh_from_db()
    assert world["own"].stage.name == "输单" and world["own"].closed_at is not None


def test_a_move_may_set_the_probability_or_take_the_stages_default(client, rep, world):
    client.force_login(rep)
    assert 'name="probability"' in client.get(detail(world["own"])).content.decode()
    assert 'name="probability"' in client.get(move(world["own"])).content.decode()

    client.post(move(world["own"]), {"stage": stage("方案报价").pk, "probability": "60"})
    world["own"].refresh_from_db()
    assert (world["own"].stage.name, world["own"].probability) == ("方案报价", 60)

    client.post(move(world["own"]), {"stage": stage("商务谈判").pk, "probability": ""})
    world["own"].refresh_from_db()
    assert world["own"].probability == stage("商务谈判").probability


def test_a_probability_over_100_is_refused_and_nothing_moves(client, rep, world):
    client.force_login(rep)

    response = client.post(move(world["own"]), {"stage": stage("方案报价").pk, "probability": "101"})

    assert response.status_code == 200 and "probability" in response.context["form"].errors
    world["own"].refresh_from_db()
    assert world["own"].stage.name == "需求分析" and not StageChange.objects.exists()


def test_other_team_rep_cannot_move_and_nothing_changes(client, other_team_rep, world):
    client.force_login(other_team_rep)
    response = client.post(move(world["own"]), {"stage": stage("赢单").pk}, headers={"HX-Request": "true"})
    assert response.status_code == 404
    world["own"].refresh_from_db()
    assert world["own"].stage.name == "需求分析" and not StageChange.objects.exists()


# Board


def test_board_has_a_column_per_open_stage_with_count_and_total(client, rep, world):
    client.force_login(rep)
    response = client.get(BOARD)
    columns = {str(column["stage"]): column for column in response.context["columns"]}
    assert list(columns) == ["线索", "需求分析", "方案报价", "商务谈判"] or len(columns) == 4
    analysis = response.context["columns"][1]
    assert analysis["count"] == 2 and analysis["total"] == Decimal("200000.00")
    assert {card.name for card in analysis["cards"]} == {"机会-own", "机会-shared"}
    assert "机会-other" not in response.content.decode()


def test_board_cards_turn_amber_and_red_past_the_expected_days(client, rep):
    customer = CustomerFactory(owner=rep)
    expected = stage("需求分析").expected_days
    now = timezone.now()
    OpportunityFactory(customer=customer, name="新", stage_entered_at=now)
    OpportunityFactory(
        customer=customer, name="黄", stage_entered_at=now - datetime.timedelta(days=expected + 1)
    )
    OpportunityFactory(
        customer=customer, name="红", stage_entered_at=now - datetime.timedelta(days=2 * expected + 1)
    )
    client.force_login(rep)
    cards = {card.name: card.age_class for card in client.get(BOARD).context["columns"][1]["cards"]}
    assert cards == {"新": "", "黄": "warning", "红": "danger"}


def test_board_uses_a_constant_number_of_queries_and_bounds_columns(client, rep, settings):
    from opportunities import selectors

    customer = CustomerFactory(owner=rep)
    OpportunityFactory(customer=customer)
    client.force_login(rep)
    with CaptureQueriesContext(connection) as one:
        client.get(BOARD)
    for name in ("线索", "需求分析", "方案报价"):
        for _ in range(selectors.BOARD_CARDS + 2):
            OpportunityFactory(customer=customer, stage=stage(name))
    with CaptureQueriesContext(connection) as many:
        response = client.get(BOARD)
    assert len(many) == len(one)
    column = response.context["columns"][1]
    assert len(column["cards"]) == selectors.BOARD_CARDS and column["more"] == 3
    assert "status=open" in column["list_url"]


def test_board_filters_by_owner(client, lead, world, rep):
    client.force_login(lead)
    response = client.get(BOARD, {"owner": rep.pk})
    names = {card.name for column in response.context["columns"] for card in column["cards"]}
    assert names == {"机会-own"}


# Export


def test_export_contains_only_rows_in_scope(client, rep, world, media, django_capture_on_commit_callbacks):  # noqa: F811
    client.force_login(rep)
    response = client.post(EXPORT, {"query": "", "format": "csv"})
    export = Export.objects.get(user=rep)
    assert response.status_code == 302 and export.kind == "opportunities"
    assert export_build(export.pk) is True
    rows = export_rows(export)
    assert len(rows[0]) == 19
    assert {row[1] for row in rows[1:]} == {"机会-own", "机会-shared"}


def test_agent_cannot_export(client, agent, world):
    client.force_login(agent)
    assert client.post(EXPORT, {"query": "", "format": "csv"}).status_code == 403
    assert not Export.objects.exists()


def test_detail_uses_a_constant_number_of_queries_whatever_the_history(client, rep):
    from tests.factories.opportunities import StageChangeFactory

    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    StageChangeFactory(opportunity=opportunity)
    client.force_login(rep)
    with CaptureQueriesContext(connection) as one:
        assert client.get(detail(opportunity)).status_code == 200
    for _ in range(10):
        StageChangeFactory(opportunity=opportunity, from_stage=stage("线索"))
    with CaptureQueriesContext(connection) as many:
        response = client.get(detail(opportunity))
    assert len(response.context["history"]) == 11
    assert len(many) == len(one)
