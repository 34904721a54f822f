"""Quote pages through the test client: create with line items (no JavaScript), edit a draft, the
status buttons, versions, the printable page, the list, and the opportunity page's quotes."""

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.templatetags.crm import yuan
from opportunities.models import Quote
from opportunities.services.quotes import quote_create, quote_send, quote_snapshot
from opportunities.views.quotes import cny_in_words
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.opportunities import OpportunityFactory, lost_reason, stage
from tests.factories.quotes import ProductFactory, QuoteFactory, QuoteLineFactory, quote_with_lines

pytestmark = pytest.mark.django_db

D = Decimal
LIST = reverse("opportunities:quote-list")


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English: texts are matched in the source language (the default is zh-hans)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def url(name: str, pk: int) -> str:
    return reverse(f"opportunities:{name}", args=[pk])


@pytest.fixture
def opportunity(rep):
    return OpportunityFactory(
        customer=CustomerFactory(owner=rep, name="杭州云帆科技有限公司"), name="门店系统"
    )


def header(**overrides) -> dict:
    data = {
        "title": "门店系统报价",
        "contact": "",
        "currency": "CNY",
        "rate_to_cny": "",
        "tax_rate": "13",
        "valid_until": (timezone.localdate() + datetime.timedelta(days=20)).isoformat(),
        "terms": "签约后 30 天内付款",
    }
    data.update(overrides)
    return data


def lines(*rows: dict, total: int | None = None, initial: int = 0) -> dict:
    """Formset data: ``rows`` filled, then empty rows up to ``total`` (as a browser sends them)."""
    total = total if total is not None else max(len(rows), 3)
    data = {
        "lines-TOTAL_FORMS": str(total),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for index in range(total):
        row = rows[index] if index < len(rows) else {}
        defaults = {
            "product": "",
            "description": "",
            "unit": "",
            "quantity": "1",
            "unit_price": "",
            "discount_percent": "0",
        }
        for name, value in (defaults | row).items():
            data[f"lines-{index}-{name}"] = value
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# Create


def test_new_quote_form_has_the_defaults(client, rep, opportunity):
    contact = ContactFactory(customer=opportunity.customer, is_primary=True, name="王经理")
    ProductFactory(name="会员模块")
    ProductFactory(name="旧模块", active=False)
    client.force_login(rep)
    response = client.get(url("quote-create", opportunity.pk))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["title"] == "门店系统 quote"
    assert form.initial["contact"] == contact and form.initial["tax_rate"] == D("13.00")
    assert form.initial["valid_until"] == timezone.localdate() + datetime.timedelta(days=30)
    assert len(response.context["formset"].forms) == 3
    content = response.content.decode()
    assert "会员模块" in content and "旧模块" not in content
    assert 'id="quote-products"' in content  # the product data the script fills lines with


def test_rep_creates_a_quote_without_javascript(client, rep, opportunity):
    product = ProductFactory(name="会员模块", unit="套", list_price=D("8000.00"))
    client.force_login(rep)
    data = header() | lines(
        {"product": str(product.pk), "quantity": "2"},  # description, unit, price from the product
        {
            "description": "上门培训",
            "unit": "天",
            "quantity": "3",
            "unit_price": "33.33",
            "discount_percent": "10",
        },
        total=5,
    )
    response = client.post(url("quote-create", opportunity.pk), data)
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == quote.get_absolute_url()
    assert quote.number.startswith("Q") and quote.version == 1 and quote.status == "draft"
    assert quote.created_by == rep and quote.opportunity == opportunity
    saved = list(quote.lines.order_by("position"))
    assert [(line.description, line.unit, line.unit_price, line.amount) for line in saved] == [
        ("会员模块", "套", D("8000.00"), D("16000.00")),
        ("上门培训", "天", D("33.33"), D("89.99")),
    ]
    assert (
        quote.subtotal == D("16089.99") and quote.tax_amount == D("2091.70") and quote.total == D("18181.69")
    )


def test_a_foreign_currency_quote_converts_the_list_price(client, rep, opportunity):
    product = ProductFactory(list_price=D("7100.00"))
    client.force_login(rep)
    data = header(currency="USD", rate_to_cny="7.1", tax_rate="0") | lines({"product": str(product.pk)})
    client.post(url("quote-create", opportunity.pk), data)
    quote = Quote.objects.get()
    assert quote.lines.get().unit_price == D("1000.00")
    assert quote.total == D("1000.00") and quote.total_cny == D("7100.00")


def test_a_quote_without_lines_redisplays_with_what_was_typed(client, rep, opportunity):
    client.force_login(rep)
    response = client.post(url("quote-create", opportunity.pk), header(title="我的标题") | lines())
    assert response.status_code == 200
    assert "A quote needs at least one line." in response.content.decode()
    assert response.context["form"]["title"].value() == "我的标题"
    assert not Quote.objects.exists()


def test_bad_lines_show_errors_on_their_row(client, rep, opportunity):
    client.force_login(rep)
    data = header() | lines(
        {"description": "实施", "quantity": "-2", "unit_price": "100"},
        {"description": "", "quantity": "1", "unit_price": "5"},
        {"description": "折扣", "quantity": "1", "unit_price": "5", "discount_percent": "120"},
    )
    response = client.post(url("quote-create", opportunity.pk), data)
    assert response.status_code == 200
    forms = response.context["formset"].forms
    assert forms[0].errors["quantity"] == ["The quantity must be more than zero."]
    assert forms[1].errors["description"] == ["Choose a product or enter a description."]
    assert "discount_percent" in forms[2].errors
    assert 'value="实施"' in response.content.decode()
    assert not Quote.objects.exists()


def test_a_removed_row_is_not_saved(client, rep, opportunity):
    client.force_login(rep)
    data = header() | lines(
        {"description": "保留", "unit_price": "10"},
        {"description": "删除", "unit_price": "20", "DELETE": "on"},
    )
    client.post(url("quote-create", opportunity.pk), data)
    assert list(Quote.objects.get().lines.values_list("description", flat=True)) == ["保留"]


def test_foreign_currency_needs_a_rate_on_the_form(client, rep, opportunity):
    client.force_login(rep)
    response = client.post(
        url("quote-create", opportunity.pk),
        header(currency="EUR") | lines({"description": "x", "unit_price": "1"}),
    )
    assert response.status_code == 200 and "rate_to_cny" in response.context["form"].errors


def test_a_closed_opportunity_gets_no_new_quote(client, rep, opportunity):
    from opportunities.services import opportunity_move_stage

    opportunity_move_stage(actor=rep, opportunity=opportunity, stage=stage("输单"), lost_reason=lost_reason())
    client.force_login(rep)
    response = client.get(url("quote-create", opportunity.pk))
    assert response.status_code == 302 and response["Location"] == opportunity.get_absolute_url()
    assert "open opportunities" in messages_of(response)[0]


def test_a_contact_of_another_customer_is_refused(client, rep, opportunity):
    stranger = ContactFactory()
    client.force_login(rep)
    response = client.post(
        url("quote-create", opportunity.pk),
        header(contact=str(stranger.pk)) | lines({"description": "x", "unit_price": "1"}),
    )
    assert response.status_code == 200 and "contact" in response.context["form"].errors


# Edit


@pytest.fixture
def draft(rep, opportunity):
    return quote_create(
        actor=rep,
        opportunity=opportunity,
        lines=[
            {
                "description": "实施服务",
                "unit": "人天",
                "quantity": D("10"),
                "unit_price": D("1500"),
                "discount_percent": D("0"),
            },
            {
                "description": "培训",
                "unit": "天",
                "quantity": D("2.5"),
                "unit_price": D("800"),
                "discount_percent": D("5"),
            },
        ],
    )


def edit_data(quote: Quote, **overrides) -> dict:
    saved = list(quote.lines.order_by("position"))
    rows = [
        {
            "description": line.description,
            "unit": line.unit,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "discount_percent": str(line.discount_percent),
        }
        for line in saved
    ]
    data = header(
        title=quote.title,
        tax_rate=str(quote.tax_rate),
        valid_until=quote.valid_until.isoformat(),
        terms=quote.terms,
    ) | lines(*rows, total=len(rows) + 2, initial=len(rows))
    data |= {"lock_version": str(quote.lock_version), "seen": json.dumps(quote_snapshot(quote))}
    return data | overrides


def test_edit_form_shows_the_lines(client, rep, draft):
    client.force_login(rep)
    response = client.get(url("quote-edit", draft.pk))
    assert response.status_code == 200
    formset = response.context["formset"]
    assert len(formset.forms) == 4
    assert (
        formset.forms[0].initial["quantity"] == D("10") and str(formset.forms[1].initial["quantity"]) == "2.5"
    )
    assert response.context["form"].initial["lock_version"] == 1


def test_rep_edits_a_draft(client, rep, draft):
    client.force_login(rep)
    data = edit_data(
        draft,
        **{
            "title": "新标题",
            "lines-1-DELETE": "on",
            "lines-2-description": "差旅",
            "lines-2-unit_price": "600",
        },
    )
    response = client.post(url("quote-edit", draft.pk), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "新标题" and draft.lock_version == 2
    assert list(draft.lines.order_by("position").values_list("description", "amount")) == [
        ("实施服务", D("15000.00")),
        ("差旅", D("600.00")),
    ]
    assert draft.subtotal == D("15600.00")


def test_a_stale_edit_keeps_the_input_and_says_what_changed(client, rep, teammate, lead, draft):
    client.force_login(rep)
    form_read_by_rep = edit_data(draft, title="我的修改")
    client.force_login(lead)
    assert client.post(url("quote-edit", draft.pk), edit_data(draft, title="经理改的")).status_code == 302
    client.force_login(rep)
    response = client.post(url("quote-edit", draft.pk), form_read_by_rep)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Someone else saved this quote" in content and "经理改的" in content
    assert response.context["form"]["title"].value() == "我的修改"
    assert response.context["form"]["lock_version"].value() == "2"
    draft.refresh_from_db()
    assert draft.title == "经理改的"
    # Saving again (against what is saved now) goes through.
    retry = response.context["form"].data.copy()
    assert client.post(url("quote-edit", draft.pk), retry).status_code == 302
    draft.refresh_from_db()
    assert draft.title == "我的修改"


def test_a_sent_quote_cannot_be_edited(client, rep, draft):
    quote_send(actor=rep, quote=draft)
    client.force_login(rep)
    response = client.get(url("quote-edit", draft.pk))
    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    response = client.post(url("quote-edit", draft.pk), edit_data(draft))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "sent" and draft.lock_version == 2


# Status and versions


def test_status_buttons_walk_the_workflow(client, rep, draft):
    client.force_login(rep)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert url("quote-send", draft.pk) in page and url("quote-accept", draft.pk) not in page
    client.post(url("quote-send", draft.pk))
    draft.refresh_from_db()
    assert draft.status == "sent" and draft.sent_at is not None
    page = client.get(draft.get_absolute_url()).content.decode()
    assert url("quote-accept", draft.pk) in page and url("quote-reject", draft.pk) in page
    assert url("quote-edit", draft.pk) not in page
    response = client.post(url("quote-accept", draft.pk))
    assert response.status_code == 302 and "marked as accepted" in messages_of(response)[0]
    draft.refresh_from_db()
    assert draft.status == "accepted" and draft.decided_at is not None


def test_an_invalid_transition_shows_the_reason(client, rep, draft):
    client.force_login(rep)
    response = client.post(url("quote-accept", draft.pk))
    assert response.status_code == 302
    assert "Only a sent quote can be accepted" in messages_of(response)[0]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_status_actions_need_post(client, rep, draft):
    client.force_login(rep)
    assert client.get(url("quote-send", draft.pk)).status_code == 405
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_director_reads_but_cannot_act(client, director, draft):
    client.force_login(director)
    page = client.get(draft.get_absolute_url())
    assert page.status_code == 200 and url("quote-send", draft.pk).encode() not in page.content
    assert client.post(url("quote-send", draft.pk)).status_code == 403
    assert client.post(url("quote-edit", draft.pk), edit_data(draft, title="x")).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.title != "x"


def test_new_version_opens_the_copy_and_both_are_listed(client, rep, draft):
    client.force_login(rep)
    client.post(url("quote-send", draft.pk))
    client.post(url("quote-reject", draft.pk))
    response = client.post(url("quote-new-version", draft.pk))
    second = Quote.objects.get(number=draft.number, version=2)
    assert response["Location"] == url("quote-edit", second.pk)
    old_page = client.get(draft.get_absolute_url())
    assert [version.version for version in old_page.context["versions"]] == [2, 1]
    content = old_page.content.decode()
    assert "replaced by a newer version" in content and second.get_absolute_url() in content
    assert url("quote-new-version", draft.pk) not in content and url("quote-edit", draft.pk) not in content
    assert client.get(second.get_absolute_url()).context["can_edit"] is True


def test_an_accepted_quote_offers_the_order_or_links_to_it(client, rep, draft):
    quote_send(actor=rep, quote=draft)
    client.force_login(rep)
    client.post(url("quote-accept", draft.pk))
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 200 and response.context["order"] is None
    try:
        order_url = reverse("opportunities:order-create", args=[draft.pk])
    except Exception:  # the orders slice is not there yet
        order_url = None
    if order_url:
        assert order_url in response.content.decode()


# Pages: detail, print, list, opportunity


def test_detail_shows_totals_and_cny(client, rep, opportunity):
    quote = quote_with_lines(opportunity=opportunity, currency="USD", rate_to_cny=D("7.2"))
    client.force_login(rep)
    content = client.get(quote.get_absolute_url()).content.decode()
    assert f"{quote.total:,.2f} USD" in content
    assert "Total (CNY)" in content and yuan(quote.total_cny) in content


def test_detail_queries_do_not_grow_with_lines(client, rep, opportunity):
    quote = quote_with_lines(
        1, opportunity=opportunity, contact=ContactFactory(customer=opportunity.customer)
    )
    client.force_login(rep)
    with CaptureQueriesContext(connection) as one:
        assert client.get(quote.get_absolute_url()).status_code == 200
    product = ProductFactory()
    for _ in range(30):
        QuoteLineFactory(quote=quote, product=product)
    with CaptureQueriesContext(connection) as many:
        response = client.get(quote.get_absolute_url())
    assert len(response.context["lines"]) == 31
    assert len(many) == len(one)


def test_print_page_has_the_letterhead_and_no_navigation(client, rep, opportunity, settings):
    settings.COMPANY_NAME = "云帆软件有限公司"
    settings.COMPANY_ADDRESS = "杭州市西湖区文三路 100 号"
    settings.COMPANY_PHONE = "0571-88886666"
    quote = quote_with_lines(
        3, opportunity=opportunity, contact=ContactFactory(customer=opportunity.customer, name="王经理")
    )
    client.force_login(rep)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("quote-print", quote.pk))
    assert response.status_code == 200
    content = response.content.decode()
    for text in [
        "云帆软件有限公司",
        "杭州市西湖区文三路 100 号",
        "0571-88886666",
        quote.number,
        "王经理",
        "quote-print.css",
    ]:
        assert text in content
    assert "navbar" not in content and "data-print" in content
    assert response.context["total_in_words"] == cny_in_words(quote.total)
    assert len(queries) <= 8


def test_print_page_without_company_settings_uses_the_site_name(client, rep, opportunity, settings):
    for name in ["COMPANY_NAME", "COMPANY_ADDRESS", "COMPANY_PHONE"]:
        if hasattr(settings, name):
            delattr(settings, name)
    settings.SITE_NAME = "示例 CRM"
    quote = quote_with_lines(opportunity=opportunity)
    client.force_login(rep)
    assert "示例 CRM" in client.get(url("quote-print", quote.pk)).content.decode()


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.5", "伍角"),
        ("10", "壹拾元整"),
        ("1409.05", "壹仟肆佰零玖元零伍分"),
        ("1010.50", "壹仟零壹拾元伍角"),
        ("100010000", "壹亿零壹万元整"),
        ("18181.69", "壹万捌仟壹佰捌拾壹元陆角玖分"),
        ("200000", "贰拾万元整"),
    ],
)
def test_total_in_words(amount, words):
    assert cny_in_words(D(amount)) == words


@pytest.fixture
def listed(rep, teammate, lead, other_team_rep):
    mine = OpportunityFactory(
        customer=CustomerFactory(owner=rep, name="杭州云帆科技有限公司"), name="门店系统"
    )
    theirs = OpportunityFactory(customer=CustomerFactory(owner=teammate, name="宁波海工集团"), name="ERP升级")
    other = OpportunityFactory(
        customer=CustomerFactory(owner=other_team_rep, name="广州南方贸易"), name="仓储"
    )
    return {
        "mine": quote_with_lines(opportunity=mine, title="门店系统报价"),
        "sent": quote_with_lines(opportunity=mine, title="会员模块报价", status="sent"),
        "theirs": quote_with_lines(opportunity=theirs, title="ERP升级报价"),
        "other": quote_with_lines(opportunity=other, title="仓储报价"),
    }


def titles(response) -> set[str]:
    return {quote.title for quote in response.context["quotes"]}


def test_list_is_scoped(client, rep, lead, director, listed):
    client.force_login(rep)
    assert titles(client.get(LIST)) == {"门店系统报价", "会员模块报价"}
    client.force_login(lead)
    assert titles(client.get(LIST)) == {"门店系统报价", "会员模块报价", "ERP升级报价"}
    client.force_login(director)
    assert len(titles(client.get(LIST))) == 4


def test_list_filters(client, lead, teammate, listed):
    client.force_login(lead)
    assert titles(client.get(LIST, {"status": "sent"})) == {"会员模块报价"}
    assert titles(client.get(LIST, {"owner": teammate.pk})) == {"ERP升级报价"}
    assert titles(client.get(LIST, {"q": "海工"})) == {"ERP升级报价"}
    assert titles(client.get(LIST, {"q": listed["mine"].number})) == {"门店系统报价"}
    assert titles(client.get(LIST, {"q": "会员"})) == {"会员模块报价"}
    Quote.objects.filter(pk=listed["mine"].pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    week_ago = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    assert titles(client.get(LIST, {"created_from": week_ago})) == {"会员模块报价", "ERP升级报价"}
    assert titles(client.get(LIST, {"created_to": week_ago})) == {"门店系统报价"}
    ordered = [quote.title for quote in client.get(LIST, {"sort": "created"}).context["quotes"]]
    assert ordered[0] == "门店系统报价"


def test_list_shows_one_row_per_number_unless_asked(client, rep, listed):
    from opportunities.services.quotes import quote_new_version

    quote_new_version(actor=rep, quote=listed["mine"])
    client.force_login(rep)
    rows = client.get(LIST).context["quotes"]
    assert sorted((quote.title, quote.version) for quote in rows) == [
        ("会员模块报价", 1),
        ("门店系统报价", 2),
    ]
    assert len(client.get(LIST, {"versions": "on"}).context["quotes"]) == 3


def test_list_sorts_by_total(client, rep, listed):
    client.force_login(rep)
    Quote.objects.filter(pk=listed["sent"].pk).update(total_cny=D("999999"))
    largest_first = [quote.title for quote in client.get(LIST, {"sort": "-total"}).context["quotes"]]
    smallest_first = [quote.title for quote in client.get(LIST, {"sort": "total"}).context["quotes"]]
    assert largest_first[0] == smallest_first[-1] == "会员模块报价"


def test_list_htmx_returns_the_results_fragment(client, rep, listed):
    client.force_login(rep)
    response = client.get(LIST, {"status": "draft"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="quote-results">') and "<nav" not in content
    assert "HX-Request" in response["Vary"]


def test_list_queries_do_not_grow_with_rows(client, rep, opportunity):
    client.force_login(rep)
    quote_with_lines(1, opportunity=opportunity, contact=ContactFactory(customer=opportunity.customer))
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for _ in range(15):
        other = OpportunityFactory(customer=CustomerFactory(owner=rep))
        quote_with_lines(1, opportunity=other, contact=ContactFactory(customer=other.customer))
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(response.context["quotes"]) == 16
    assert len(many) == len(one)


def test_opportunity_page_lists_the_newest_version_of_each_quote(client, rep, opportunity):
    from opportunities.services.quotes import quote_new_version

    first = quote_with_lines(opportunity=opportunity, title="第一份")
    quote_with_lines(opportunity=opportunity, title="第二份")
    quote_new_version(actor=rep, quote=first)
    client.force_login(rep)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(opportunity.get_absolute_url())
    content = response.content.decode()
    assert [(quote.title, quote.version) for quote in response.context["quotes"]] == [
        ("第一份", 2),
        ("第二份", 1),
    ]
    assert url("quote-create", opportunity.pk) in content
    for _ in range(10):
        QuoteFactory(opportunity=opportunity)
    with CaptureQueriesContext(connection) as more:
        client.get(opportunity.get_absolute_url())
    assert len(more) == len(queries)


def test_opportunity_page_hides_new_quote_from_the_director(client, director, opportunity):
    client.force_login(director)
    content = client.get(opportunity.get_absolute_url()).content.decode()
    assert url("quote-create", opportunity.pk) not in content


def test_navigation_has_quotes_and_the_price_list(client, rep, agent):
    client.force_login(rep)
    content = client.get(LIST).content.decode()
    assert reverse("opportunities:product-list") in content
    client.force_login(agent)
    content = client.get(reverse("home")).content.decode()
    assert LIST not in content


def test_an_accepted_quote_with_an_order_links_to_it_everywhere(
    client, rep, opportunity, django_assert_max_num_queries
):
    from opportunities.models import Order

    quote = quote_with_lines(opportunity=opportunity, status="accepted")
    order = Order.objects.create(
        number="H202601010001",
        title=quote.title,
        quote=quote,
        opportunity=opportunity,
        customer=opportunity.customer,
        owner=rep,
        team=rep.team,
        signed_on=timezone.localdate(),
        amount=quote.total,
        amount_cny=quote.total_cny,
    )
    client.force_login(rep)
    response = client.get(quote.get_absolute_url())
    content = response.content.decode()
    assert response.context["order"] == order and order.get_absolute_url() in content
    assert "Create order / contract" not in content
    for page_url in (LIST, opportunity.get_absolute_url()):
        with django_assert_max_num_queries(20):
            assert order.number in client.get(page_url).content.decode()
