import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.exports import export_build
from accounts.models import Export
from opportunities.models import Instalment, Order, Payment, Quote
from opportunities.services.orders import payment_record
from tests.factories.customers import CustomerFactory
from tests.factories.customers_listing import export_rows, media  # noqa: F401  (fixture)
from tests.factories.opportunities import OpportunityFactory
from tests.factories.orders import OrderFactory, PaymentFactory, accepted_quote, plan, settle

pytestmark = pytest.mark.django_db

LIST = reverse("opportunities:order-list")
EXPORT = reverse("opportunities:order-export")


def today() -> datetime.date:
    return timezone.localdate()


def iso(days: int) -> str:
    return (today() + datetime.timedelta(days=days)).isoformat()


def url(name: str, obj) -> str:
    return reverse(f"opportunities:{name}", args=[obj.pk])


def plan_data(rows, *, initial: int = 0, prefix: str = "plan") -> dict:
    """A bound plan formset: ``rows`` of dicts (due_date, amount, note, id, DELETE)."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


@pytest.fixture
def quote(rep):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep, name="杭州云帆科技有限公司"))
    return accepted_quote(opportunity, total=Decimal("120000.00"), title="云帆 CRM 报价")


@pytest.fixture
def order(rep):
    """rep's order of ¥100,000: ¥30,000 overdue (10 days), ¥30,000 due in 10 days, ¥40,000 later;
    ¥10,000 received."""
    order = OrderFactory(
        opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep, name="苏州启明软件")),
        title="启明年度合同",
    )
    plan(order, (-10, "30000"), (10, "30000"), (50, "40000"))
    PaymentFactory(order=order, amount=Decimal("10000"), reference="BANK-001")
    return settle(order)


# --- Create from a quote --------------------------------------------------------------------


def test_create_page_offers_the_quote_defaults(client, rep, quote):
    client.force_login(rep)
    response = client.get(url("order-create", quote).replace(f"{quote.pk}", f"{quote.pk}"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["title"].value() == "云帆 CRM 报价" and form["amount"].value() == Decimal("120000.00")
    assert form["signed_on"].value() == today()
    rows = response.context["plan"].initial
    assert rows == [{"due_date": today() + datetime.timedelta(days=30), "amount": Decimal("120000.00")}]


def _create_data(**overrides) -> dict:
    data = {
        "title": "云帆 CRM 合同",
        "signed_on": iso(0),
        "amount": "120000",
        "notes": "",
        "split_count": "2",
        "action": "save",
        **plan_data(
            [
                {"due_date": iso(30), "amount": "50000", "note": "首付款"},
                {"due_date": iso(90), "amount": "70000", "note": ""},
                {"due_date": "", "amount": "", "note": ""},
            ]
        ),
    }
    return data | overrides


def test_rep_signs_an_order_from_an_accepted_quote(client, rep, quote):
    client.force_login(rep)
    response = client.post(url("order-create", quote), _create_data())
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.quote == quote and order.title == "云帆 CRM 合同" and order.amount == Decimal("120000")
    assert list(order.instalments.values_list("amount", flat=True)) == [Decimal("50000"), Decimal("70000")]
    quote.opportunity.refresh_from_db()
    assert quote.opportunity.stage.is_won


def test_plan_that_does_not_add_up_shows_the_difference_and_keeps_the_input(client, rep, quote):
    client.force_login(rep)
    data = _create_data(**{"plan-1-amount": "60000"})
    response = client.post(url("order-create", quote), data)
    assert response.status_code == 200 and not Order.objects.exists()
    page = response.content.decode()
    assert "¥110,000" in page and "¥10,000" in page  # total and the difference
    assert 'value="60000"' in page and "云帆 CRM 合同" in page and "首付款" in page


def test_instalment_row_without_a_date_is_an_error(client, rep, quote):
    client.force_login(rep)
    response = client.post(url("order-create", quote), _create_data(**{"plan-1-due_date": ""}))
    assert response.status_code == 200 and not Order.objects.exists()
    assert response.context["plan"].forms[1].errors["due_date"]


def test_split_redraws_the_plan_into_equal_instalments_without_saving(client, rep, quote):
    client.force_login(rep)
    data = _create_data(action="split", split_count="3", amount="100000", title="改过的标题")
    response = client.post(url("order-create", quote), data)
    assert response.status_code == 200 and not Order.objects.exists()
    rows = response.context["plan"].initial
    assert [row["amount"] for row in rows] == [Decimal("33333.33"), Decimal("33333.33"), Decimal("33333.34")]
    assert [row["due_date"] for row in rows] == [today() + datetime.timedelta(days=d) for d in (30, 60, 90)]
    assert "改过的标题" in response.content.decode()
    # …and saving the redrawn plan works.
    saved = _create_data(
        amount="100000",
        **plan_data([{"due_date": r["due_date"].isoformat(), "amount": str(r["amount"])} for r in rows]),
    )
    assert client.post(url("order-create", quote), saved).status_code == 302
    assert Order.objects.get().instalments.count() == 3


def test_second_order_from_a_quote_links_to_the_first(client, rep, quote):
    client.force_login(rep)
    client.post(url("order-create", quote), _create_data())
    order = Order.objects.get()
    for method in ("get", "post"):
        response = getattr(client, method)(url("order-create", quote), _create_data(), follow=True)
        assert response.redirect_chain[-1][0] == order.get_absolute_url()
        assert order.number in response.content.decode()
    assert Order.objects.count() == 1


def test_a_quote_not_accepted_cannot_be_ordered(client, rep, quote):
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.SENT)
    client.force_login(rep)
    response = client.post(url("order-create", quote), _create_data())
    assert response.status_code == 302 and not Order.objects.exists()


def test_director_cannot_create_and_other_team_gets_404(client, director, other_team_rep, quote):
    client.force_login(director)
    assert client.get(url("order-create", quote)).status_code == 403
    client.force_login(other_team_rep)
    assert client.post(url("order-create", quote), _create_data()).status_code == 404
    assert not Order.objects.exists()


# --- The order page -------------------------------------------------------------------------


def test_order_page_shows_amounts_and_each_instalment_state(client, rep, order):
    client.force_login(rep)
    response = client.get(order.get_absolute_url())
    assert response.status_code == 200
    states = [instalment.state.key for instalment in response.context["instalments"]]
    assert states == ["overdue", "due", "due"]
    assert response.context["overdue"] == Decimal("20000")
    page = response.content.decode()
    assert "¥90,000" in page and "¥20,000" in page and "BANK-001" in page
    assert url("payment-create", order) in page and url("order-plan", order) in page
    assert url("payment-void", order.payments.get()) not in page  # reps do not void


def test_partly_paid_and_paid_states(client, rep, order):
    PaymentFactory(order=order, amount=Decimal("25000"))
    settle(order)
    client.force_login(rep)
    states = [i.state.key for i in client.get(order.get_absolute_url()).context["instalments"]]
    assert states == ["paid", "partly_paid", "due"]


def test_order_page_queries_do_not_grow(client, rep, order, django_assert_max_num_queries):
    client.force_login(rep)
    with django_assert_max_num_queries(12) as few:
        client.get(order.get_absolute_url())
    plan(order, *[(d, "1") for d in range(60, 90)])
    for _ in range(20):
        PaymentFactory(order=order, amount=Decimal("1"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(order.get_absolute_url())


def test_lead_sees_void_links_and_director_sees_no_actions(client, lead, director, order):
    client.force_login(lead)
    assert url("payment-void", order.payments.get()) in client.get(order.get_absolute_url()).content.decode()
    client.force_login(director)
    page = client.get(order.get_absolute_url()).content.decode()
    assert url("payment-create", order) not in page and url("order-cancel", order) not in page


# --- Payments -------------------------------------------------------------------------------


def test_rep_records_a_payment(client, rep, order):
    client.force_login(rep)
    page = client.get(url("payment-create", order))
    assert page.context["form"]["amount"].value() == Decimal("20000")  # the overdue instalment's rest
    data = {"received_on": iso(0), "amount": "20000", "method": "bank", "reference": "BANK-002", "note": ""}
    response = client.post(url("payment-create", order), data, follow=True)
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.paid_amount == Decimal("30000")
    assert [i.state.key for i in response.context["instalments"]] == ["paid", "due", "due"]


def test_payment_above_outstanding_is_refused_with_the_amount_kept(client, rep, order):
    client.force_login(rep)
    data = {"received_on": iso(0), "amount": "95000", "method": "bank", "reference": "X", "note": ""}
    response = client.post(url("payment-create", order), data)
    assert response.status_code == 200 and order.payments.count() == 1
    page = response.content.decode()
    assert "¥90,000" in page and 'value="95000"' in page


def test_lead_voids_a_payment_with_a_reason(client, lead, rep, order):
    payment = order.payments.get()
    client.force_login(rep)
    assert client.post(url("payment-void", payment), {"reason": "错"}).status_code == 403
    client.force_login(lead)
    response = client.post(url("payment-void", payment), {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    response = client.post(url("payment-void", payment), {"reason": "银行退回"})
    assert response.status_code == 302
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.void_reason == "银行退回" and order.paid_amount == 0
    page = client.get(order.get_absolute_url()).content.decode()
    assert "银行退回" in page


# --- Plan edit and cancel -------------------------------------------------------------------


def _plan_post(order, amounts) -> dict:
    rows = list(order.instalments.order_by("due_date"))
    data = {"version": str(order.version)}
    data |= plan_data(
        [
            {"id": str(r.pk), "due_date": r.due_date.isoformat(), "amount": a, "note": r.note}
            for r, a in zip(rows, amounts, strict=True)
        ]
        + [{"id": "", "due_date": iso(120), "amount": "10000", "note": "新增"}],
        initial=len(rows),
    )
    return data


def test_rep_edits_the_plan(client, rep, order):
    client.force_login(rep)
    assert client.get(url("order-plan", order)).status_code == 200
    response = client.post(url("order-plan", order), _plan_post(order, ["30000", "30000", "30000"]))
    assert response.status_code == 302
    assert list(order.instalments.order_by("due_date").values_list("amount", flat=True)) == [
        Decimal("30000"),
        Decimal("30000"),
        Decimal("30000"),
        Decimal("10000"),
    ]


def test_plan_edit_errors_are_shown(client, rep, order):
    client.force_login(rep)
    response = client.post(url("order-plan", order), _plan_post(order, ["5000", "30000", "55000"]))
    assert response.status_code == 200
    assert "¥10,000" in response.content.decode()  # instalment 1 has received ¥10,000
    response = client.post(url("order-plan", order), _plan_post(order, ["30000", "30000", "40000"]))
    assert response.status_code == 200 and "¥110,000" in response.content.decode()


def test_plan_edit_against_a_stale_version_keeps_the_input(client, rep, order):
    client.force_login(rep)
    data = _plan_post(order, ["30000", "30000", "30000"])
    payment_record(actor=rep, order=order, received_on=today(), amount=Decimal("1"))
    response = client.post(url("order-plan", order), data)
    assert response.status_code == 200 and "新增" in response.content.decode()
    order.refresh_from_db()
    assert response.context["form"]["version"].value() == str(order.version)


def test_cancelling_an_order(client, rep, lead, order):
    client.force_login(rep)
    response = client.post(url("order-cancel", order), {"reason": "客户撤单"})
    assert response.status_code == 200
    message = gettext(
        "Payments were received on this order; a manager must void them before it can be cancelled."
    )
    assert message in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.ACTIVE  # money was received
    client.force_login(lead)
    client.post(url("payment-void", order.payments.get()), {"reason": "退款"})
    client.force_login(rep)
    assert client.post(url("order-cancel", order), {"reason": "客户撤单"}).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and "客户撤单" in order.notes
    assert client.get(url("payment-create", order)).status_code == 302


# --- The list -------------------------------------------------------------------------------


@pytest.fixture
def world(rep, teammate, other_team_rep, order):
    usd = OrderFactory(
        opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep, name="Acme Global")),
        currency="USD",
        rate_to_cny=Decimal("7.2"),
        amount=Decimal("10000"),
        signed_on=today() - datetime.timedelta(days=40),
    )
    plan(usd, (-5, "4000"), (30, "6000"))
    PaymentFactory(order=usd, amount=Decimal("1000"))
    settle(usd)
    done = OrderFactory(
        opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)), amount=Decimal("5000")
    )
    plan(done, (-30, "5000"))
    PaymentFactory(order=done, amount=Decimal("5000"))
    settle(done)
    cancelled = OrderFactory(
        opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)),
        amount=Decimal("777"),
        status=Order.Status.CANCELLED,
    )
    plan(cancelled, (-30, "777"))
    return {
        "own": order,
        "usd": usd,
        "done": done,
        "cancelled": cancelled,
        "teammate": OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=teammate))),
        "other": OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=other_team_rep))),
    }


def _numbers(response) -> set[str]:
    return {order.number for order in response.context["orders"]}


def test_list_shows_the_scope_and_totals_in_cny(client, rep, world):
    client.force_login(rep)
    response = client.get(LIST)
    assert _numbers(response) == {world[k].number for k in ("own", "usd", "done", "cancelled")}
    totals = response.context["totals"]
    # contract: 100,000 + 72,000 + 5,000 (cancelled not counted)
    assert totals.contract == Decimal("177000.00")
    # outstanding: 90,000 + 9,000 × 7.2; overdue: 20,000 + 3,000 × 7.2
    assert totals.outstanding == Decimal("154800.00") and totals.received == Decimal("22200.00")
    assert totals.overdue == Decimal("41600.00")
    assert "¥41,600" in response.content.decode()


def test_lead_sees_the_team_and_filters_by_owner(client, lead, teammate, world):
    client.force_login(lead)
    assert world["teammate"].number in _numbers(client.get(LIST))
    assert _numbers(client.get(LIST, {"owner": teammate.pk})) == {world["teammate"].number}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"overdue": "on"}, {"own", "usd"}),
        ({"outstanding": "on"}, {"own", "usd"}),
        ({"status": "completed"}, {"done"}),
        ({"status": "cancelled"}, {"cancelled"}),
        ({"q": "启明"}, {"own"}),
        ({"q": "acme"}, {"usd"}),
        ({"signed_to": iso(-30)}, {"usd"}),
        ({"signed_month": (today() - datetime.timedelta(days=40)).strftime("%Y-%m")}, {"usd"}),
    ],
)
def test_list_filters(client, rep, world, params, expected):
    client.force_login(rep)
    assert _numbers(client.get(LIST, params)) == {world[key].number for key in expected}


def test_search_by_contract_number(client, rep, world):
    client.force_login(rep)
    assert _numbers(client.get(LIST, {"q": world["usd"].number.lower()})) == {world["usd"].number}


def test_list_sorts(client, rep, world):
    client.force_login(rep)
    by_amount = [o.number for o in client.get(LIST, {"sort": "-amount"}).context["orders"]]
    assert by_amount[0] == world["own"].number and by_amount[-1] == world["cancelled"].number
    by_outstanding = [o.number for o in client.get(LIST, {"sort": "-outstanding"}).context["orders"]]
    assert by_outstanding[:2] == [world["own"].number, world["usd"].number]
    signed = [o.number for o in client.get(LIST, {"sort": "signed"}).context["orders"]]
    assert signed[0] == world["usd"].number


def test_list_totals_follow_the_filters(client, rep, world):
    client.force_login(rep)
    totals = client.get(LIST, {"q": "acme"}).context["totals"]
    assert (totals.contract, totals.outstanding, totals.overdue) == (
        Decimal("72000.00"),
        Decimal("64800.00"),
        Decimal("21600.00"),
    )


@pytest.mark.parametrize("count", [1, 30])
def test_list_queries_do_not_grow(client, rep, count, django_assert_max_num_queries):
    for _ in range(count):
        order = OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)))
        plan(order, (-3, "50000"), (20, "50000"))
    client.force_login(rep)
    # session, user, permissions ×2, teams led, count, rows, totals, owner choices, bell
    with django_assert_max_num_queries(12):
        response = client.get(LIST)
    assert len(response.context["orders"]) == min(count, 25)


def test_htmx_list_returns_the_results_fragment(client, rep, world):
    client.force_login(rep)
    response = client.get(LIST, {"status": "active"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert 'id="order-results"' in page and "<html" not in page
    assert "HX-Request" in response["Vary"]


def test_export_contains_only_rows_in_scope(client, rep, world, media, django_capture_on_commit_callbacks):  # noqa: F811
    client.force_login(rep)
    with django_capture_on_commit_callbacks():
        response = client.post(EXPORT, {"format": "csv", "query": "status=active"})
    export = Export.objects.get(user=rep)
    assert response.status_code == 302 and export.kind == "orders"
    assert export_build(export.pk) is True
    rows = export_rows(export)
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {world["own"].number, world["usd"].number}
    usd = next(row for row in rows if row[0] == world["usd"].number)
    assert (
        usd[9] == "USD" and Decimal(usd[13]) == Decimal("9000.00") and Decimal(usd[14]) == Decimal("3000.00")
    )


def test_agent_cannot_open_or_export_the_list(client, agent):
    client.force_login(agent)
    assert client.get(LIST).status_code == 403
    assert client.post(EXPORT, {"format": "csv"}).status_code == 403


# --- Panels on the opportunity, customer and home pages -------------------------------------


def test_opportunity_page_lists_its_orders(client, rep, order):
    client.force_login(rep)
    page = client.get(order.opportunity.get_absolute_url()).content.decode()
    assert 'id="opportunity-orders"' in page and order.number in page and "¥90,000" in page


def test_customer_page_shows_orders_and_collections(client, rep, world):
    customer = world["usd"].customer
    OpportunityFactory(customer=customer, amount=Decimal("8000"), amount_cny=Decimal("8000"))
    client.force_login(rep)
    response = client.get(customer.get_absolute_url())
    page = response.content.decode()
    assert 'id="customer-orders"' in page and world["usd"].number in page
    assert "¥64,800" in page and "¥21,600" in page  # outstanding and overdue in CNY
    assert "¥72,000" in page  # contract amount


def test_customer_panel_hidden_from_users_without_order_access(client, agent, rep, world):
    from customers.models import Customer

    Customer.objects.filter(pk=world["own"].customer_id).update(owner=agent)
    client.force_login(agent)
    response = client.get(world["own"].customer.get_absolute_url())
    assert response.status_code == 200 and 'id="customer-orders"' not in response.content.decode()


def test_workbench_collections_for_a_rep_and_a_lead(client, rep, lead, teammate, other_team_rep, world):
    mate = world["teammate"]
    plan(mate, (-2, "100000"))
    far = OrderFactory(opportunity=OpportunityFactory(customer=CustomerFactory(owner=rep)))
    plan(far, (40, "100000"))  # beyond the 14 days
    client.force_login(rep)
    page = client.get(reverse("home")).content.decode()
    assert 'id="workbench-collections"' in page
    assert world["own"].number in page and world["usd"].number in page
    assert mate.number not in page and far.number not in page and world["cancelled"].number not in page
    # 20,000 + 3,000 × 7.2 overdue, 30,000 due within 14 days
    assert "¥41,600" in page and "¥30,000" in page
    client.force_login(lead)
    page = client.get(reverse("home")).content.decode()
    assert mate.number in page and "¥141,600" in page
    client.force_login(other_team_rep)
    assert 'id="workbench-collections"' not in client.get(reverse("home")).content.decode()


def test_payment_numbers_and_instalments_are_stored(rep, order):
    """Sanity: the fixture matches the services' allocation."""
    assert Payment.objects.filter(order=order).count() == 1
    assert list(
        Instalment.objects.filter(order=order).order_by("due_date").values_list("paid_amount", flat=True)
    ) == [Decimal("10000"), Decimal("0"), Decimal("0")]
