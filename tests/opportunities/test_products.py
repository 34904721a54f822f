"""The price list (产品 / 价目表): managers keep it, reps read it, products are deactivated, never deleted."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.errors import DomainError
from opportunities.models import Product
from opportunities.services.products import product_create, product_set_active, product_update
from tests.factories.customers import CustomerFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.quotes import ProductFactory

pytestmark = pytest.mark.django_db

LIST = reverse("opportunities:product-list")
CREATE = reverse("opportunities:product-create")


@pytest.fixture(autouse=True)
def english(client):
    """Texts are matched in the source language (the default is zh-hans)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


def edit(product) -> str:
    return reverse("opportunities:product-edit", args=[product.pk])


def active(product) -> str:
    return reverse("opportunities:product-active", args=[product.pk])


def form(**overrides) -> dict:
    data = {
        "code": "crm-std-01 ",
        "name": "CRM 标准版",
        "unit": "套",
        "list_price": "19800",
        "description": "含一年维护",
        "active": "on",
    }
    data.update(overrides)
    return data


def names(response) -> list[str]:
    return [product.name for product in response.context["products"]]


# Services


def test_manager_creates_a_product_with_a_normalised_code(lead):
    product = product_create(actor=lead, **{**form(), "list_price": Decimal("19800"), "active": True})
    assert product.code == "CRM-STD-01" and product.list_price == Decimal("19800")


def test_a_taken_code_is_refused_whatever_its_case(lead):
    ProductFactory(code="CRM-STD-01")
    with pytest.raises(DomainError) as error:
        product_create(actor=lead, code="crm-std-01", name="x", unit="套", list_price=Decimal(1))
    assert error.value.field == "code" and "CRM-STD-01" in error.value.message


def test_editing_to_a_taken_code_is_refused(lead):
    ProductFactory(code="A-1")
    product = ProductFactory(code="B-1")
    with pytest.raises(DomainError):
        product_update(actor=lead, product=product, code="a-1")
    product.refresh_from_db()
    assert product.code == "B-1"


def test_deactivate_and_reactivate(lead):
    product = ProductFactory()
    assert product_set_active(actor=lead, product=product, active=False).active is False
    assert product_set_active(actor=lead, product=product, active=True).active is True


# Pages


def test_rep_reads_the_price_list_but_cannot_change_it(client, rep):
    product = ProductFactory(name="会员模块")
    client.force_login(rep)
    response = client.get(LIST)
    assert response.status_code == 200 and names(response) == ["会员模块"]
    content = response.content.decode()
    assert edit(product) not in content and CREATE not in content
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form()).status_code == 403
    assert client.get(edit(product)).status_code == 403
    assert client.post(active(product), {"active": "0"}).status_code == 403
    assert not Product.objects.filter(code="CRM-STD-01").exists()
    product.refresh_from_db()
    assert product.active


def test_service_agent_has_no_price_list(client, agent):
    client.force_login(agent)
    assert client.get(LIST).status_code == 403


def test_manager_adds_a_product(client, lead):
    client.force_login(lead)
    response = client.post(CREATE, form())
    assert response.status_code == 302 and response["Location"] == LIST
    product = Product.objects.get()
    assert (product.code, product.name, product.unit, product.list_price) == (
        "CRM-STD-01",
        "CRM 标准版",
        "套",
        Decimal("19800.00"),
    )


def test_a_duplicate_code_redisplays_the_form_with_a_clear_error(client, lead):
    ProductFactory(code="CRM-STD-01")
    client.force_login(lead)
    response = client.post(CREATE, form(name="另一个产品"))
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [
        "Product code CRM-STD-01 is already used by another product."
    ]
    assert response.context["form"]["name"].value() == "另一个产品"
    assert Product.objects.count() == 1


def test_a_negative_price_is_refused(client, lead):
    client.force_login(lead)
    response = client.post(CREATE, form(list_price="-1"))
    assert response.status_code == 200 and "list_price" in response.context["form"].errors
    assert not Product.objects.exists()


def test_administrator_edits_a_product_and_returns_to_the_list(client, administrator):
    product = ProductFactory(code="OLD-1", list_price=Decimal("100"))
    client.force_login(administrator)
    back = f"{LIST}?sort=price"
    assert client.get(edit(product), {"next": back}).context["next"] == back
    response = client.post(edit(product), form(code="old-1", list_price="120.50", next=back))
    assert response.status_code == 302 and response["Location"] == back
    product.refresh_from_db()
    assert product.code == "OLD-1" and product.list_price == Decimal("120.50")


def test_deactivated_products_leave_the_default_list_and_the_quote_form(client, lead, rep):
    kept = ProductFactory(name="保留产品")
    retired = ProductFactory(name="停售产品")
    client.force_login(lead)
    response = client.post(active(retired), {"active": "0"})
    assert response.status_code == 302
    retired.refresh_from_db()
    assert not retired.active
    assert names(client.get(LIST)) == ["保留产品"]
    assert names(client.get(LIST, {"status": "inactive"})) == ["停售产品"]
    assert set(names(client.get(LIST, {"status": "all"}))) == {"保留产品", "停售产品"}
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=rep))
    client.force_login(rep)
    content = client.get(reverse("opportunities:quote-create", args=[opportunity.pk])).content.decode()
    assert kept.name in content and retired.name not in content
    client.force_login(lead)
    client.post(active(retired), {"active": "1"})
    retired.refresh_from_db()
    assert retired.active


def test_search_and_sort(client, rep):
    ProductFactory(name="会员模块", code="MEM-01", list_price=Decimal("500"))
    ProductFactory(name="数据中台", code="DATA-01", list_price=Decimal("90000"))
    ProductFactory(name="短信包", code="SMS-10K", list_price=Decimal("800"))
    client.force_login(rep)
    assert names(client.get(LIST, {"q": "中台"})) == ["数据中台"]
    assert names(client.get(LIST, {"q": "sms"})) == ["短信包"]
    assert names(client.get(LIST, {"sort": "price"})) == ["会员模块", "短信包", "数据中台"]
    assert names(client.get(LIST, {"sort": "-price"})) == ["数据中台", "短信包", "会员模块"]
    assert names(client.get(LIST, {"sort": "code"})) == ["数据中台", "会员模块", "短信包"]


def test_list_queries_do_not_grow_with_rows(client, lead):
    client.force_login(lead)
    ProductFactory()
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for _ in range(30):
        ProductFactory()
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(response.context["products"]) == 31
    assert len(many) == len(one)
