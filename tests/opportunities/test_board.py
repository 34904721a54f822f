"""Moving cards on the pipeline board: with JavaScript the board's columns come back re-rendered
under the same filters and are swapped in place; without it the card's form posts and redirects;
what a move still needs (a lost reason, a next step) is asked for in a dialog or on the move page."""

import datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from interactions.models import FollowUpTask
from opportunities.models import Opportunity, StageChange
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage

pytestmark = pytest.mark.django_db

BOARD = reverse("opportunities:opportunity-board")
HTMX = {"HX-Request": "true", "Accept-Language": "en"}


def move(opportunity) -> str:
    return reverse("opportunities:opportunity-move", args=[opportunity.pk])


def column(response, name: str) -> dict:
    return next(column for column in response.context["columns"] if column["stage"].name == name)


def names(response) -> set[str]:
    return {card.name for column in response.context["columns"] for card in column["cards"]}


@pytest.fixture
def cards(rep, teammate):
    return {
        "mine": OpportunityFactory(name="我的机会", customer=CustomerFactory(owner=rep)),
        "mine2": OpportunityFactory(name="我的机会2", customer=CustomerFactory(owner=rep)),
        "theirs": OpportunityFactory(name="同事的机会", customer=CustomerFactory(owner=teammate)),
    }


def test_a_card_moved_with_javascript_gets_the_boards_columns_back(client, rep, cards):
    client.force_login(rep)

    response = client.post(move(cards["mine"]), {"stage": stage("方案报价").pk, "board": ""}, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#opportunity-board" and response["HX-Reswap"] == "outerHTML"
    assert "HX-Request" in response["Vary"]
    page = response.content.decode()
    assert "<html" not in page and 'id="opportunity-board"' in page
    assert column(response, "需求分析")["count"] == 1 and column(response, "方案报价")["count"] == 1
    assert [card.name for card in column(response, "方案报价")["cards"]] == ["我的机会"]
    assert "我的机会 moved to Proposal / quote." in page and "opportunity-card-moved" in page
    cards["mine"].refresh_from_db()
    assert cards["mine"].stage == stage("方案报价") and cards["mine"].probability == 50


def test_the_columns_keep_the_boards_filters(client, lead, rep, cards):
    client.force_login(lead)
    query = urlencode({"owner": rep.pk})
    assert names(client.get(BOARD, {"owner": rep.pk})) == {"我的机会", "我的机会2"}
    assert f'name="board" value="{query}"' in client.get(BOARD, {"owner": rep.pk}).content.decode()

    response = client.post(move(cards["mine"]), {"stage": stage("商务谈判").pk, "board": query}, headers=HTMX)

    assert names(response) == {"我的机会", "我的机会2"}  # not the teammate's
    assert f'name="board" value="{query}"' in response.content.decode()
    assert column(response, "商务谈判")["total"] == cards["mine"].amount_cny


def test_moving_to_lost_from_the_board_asks_for_the_reason_in_a_dialog(client, rep, cards):
    client.force_login(rep)
    data = {"stage": stage("输单").pk, "board": "close_month=2026-12"}

    dialog = client.post(move(cards["mine"]), data, headers=HTMX)

    assert dialog.status_code == 200 and "HX-Retarget" not in dialog
    page = dialog.content.decode()
    assert "<html" not in page and 'name="lost_reason"' in page
    assert 'name="board" value="close_month=2026-12"' in page
    assert not StageChange.objects.filter(opportunity=cards["mine"]).exists()

    response = client.post(move(cards["mine"]), {**data, "lost_reason": lost_reason().pk}, headers=HTMX)

    assert response["HX-Retarget"] == "#opportunity-board"
    cards["mine"].refresh_from_db()
    assert cards["mine"].stage == stage("输单") and cards["mine"].lost_reason == lost_reason()


def test_a_missing_next_step_is_asked_for_without_leaving_the_board(client, rep):
    legacy = OpportunityFactory(customer=CustomerFactory(owner=rep), next_step="", next_step_date=None)
    client.force_login(rep)

    dialog = client.post(move(legacy), {"stage": stage("方案报价").pk, "board": ""}, headers=HTMX)

    page = dialog.content.decode()
    assert "HX-Retarget" not in dialog and "An open opportunity needs a next step." in page
    assert 'name="next_step"' in page and 'name="next_step_date"' in page
    legacy.refresh_from_db()
    assert legacy.stage == stage("需求分析")

    next_date = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = client.post(
        move(legacy),
        {"stage": stage("方案报价").pk, "board": "", "next_step": "约客户演示", "next_step_date": next_date},
        headers=HTMX,
    )

    assert response["HX-Retarget"] == "#opportunity-board"
    legacy.refresh_from_db()
    assert (legacy.stage, legacy.next_step) == (stage("方案报价"), "约客户演示")


def test_without_javascript_the_card_form_returns_to_the_filtered_board(client, lead, rep, cards):
    client.force_login(lead)
    back = f"{BOARD}?owner={rep.pk}"

    response = client.post(
        move(cards["mine"]), {"stage": stage("方案报价").pk, "next": back, "board": f"owner={rep.pk}"}
    )

    assert response.status_code == 302 and response["Location"] == back
    cards["mine"].refresh_from_db()
    assert cards["mine"].stage == stage("方案报价")


def test_without_javascript_lost_goes_through_the_move_page_and_back(client, rep, cards):
    client.force_login(rep)
    data = {"stage": stage("输单").pk, "next": BOARD, "board": ""}

    page = client.post(move(cards["mine"]), data)

    assert page.status_code == 200 and "<html" in page.content.decode()
    assert 'name="board"' in page.content.decode() and "lost_reason" in page.context["form"].errors
    response = client.post(move(cards["mine"]), {**data, "lost_reason": lost_reason().pk})
    assert response.status_code == 302 and response["Location"] == BOARD


def test_winning_from_the_board_shows_the_after_sales_call(client, rep, cards):
    client.force_login(rep)

    response = client.post(move(cards["mine"]), {"stage": stage("赢单").pk, "board": ""}, headers=HTMX)

    task = FollowUpTask.objects.get()
    page = response.content.decode()
    assert "An after-sales call is planned for" in page
    assert reverse("interactions:task-edit", args=[task.pk]) in page
    assert "我的机会" not in names(response)  # won: off the board


def test_the_columns_fragment_costs_the_same_queries_whatever_the_cards(client, rep):
    customer = CustomerFactory(owner=rep)
    first = OpportunityFactory(customer=customer, stage=stage("线索"))
    client.force_login(rep)
    with_one = client.post(move(first), {"stage": stage("方案报价").pk, "board": ""}, headers=HTMX)
    assert with_one.status_code == 200
    for name in ("线索", "需求分析", "方案报价", "商务谈判"):
        for _ in range(8):
            OpportunityFactory(customer=customer, stage=stage(name))
    second = OpportunityFactory(customer=customer, stage=stage("线索"))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.post(move(first), {"stage": stage("商务谈判").pk, "board": ""}, headers=HTMX)
    with CaptureQueriesContext(connection) as many:
        response = client.post(move(second), {"stage": stage("商务谈判").pk, "board": ""}, headers=HTMX)
    assert column(response, "商务谈判")["count"] == 10
    assert len(many) == len(one)


def test_other_team_rep_moving_from_the_board_gets_404(client, other_team_rep, cards):
    client.force_login(other_team_rep)

    response = client.post(move(cards["mine"]), {"stage": stage("方案报价").pk, "board": ""}, headers=HTMX)

    assert response.status_code == 404
    assert Opportunity.objects.get(pk=cards["mine"].pk).stage == stage("需求分析")


def test_a_garbled_board_query_still_answers_with_the_board(client, rep, cards):
    client.force_login(rep)

    response = client.post(
        move(cards["mine"]),
        {"stage": stage("方案报价").pk, "board": "owner=abc&close_month=x" * 100},
        headers=HTMX,
    )

    assert response.status_code == 200 and response["HX-Retarget"] == "#opportunity-board"
    assert names(response) == {"我的机会", "我的机会2"}
