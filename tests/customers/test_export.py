"""Exporting the customer list (导出): in scope, Chinese headers in zh-hans, safe cells, no private data."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.exports import export_build
from accounts.models import Export
from accounts.tasks import build_export
from customers.models import Customer
from tests.factories import customers_listing
from tests.factories.customers import ContactFactory, CustomerFactory, TagFactory
from tests.factories.customers_listing import export_rows

pytestmark = pytest.mark.django_db

eager_celery = customers_listing.eager_celery
media = customers_listing.media

EXPORT = reverse("customers:customer-export")

ZH_HEADERS = [
    "客户编号",
    "名称",
    "客户类型",
    "价值分类",
    "阶段",
    "所属行业",
    "信息来源",
    "电话",
    "电子邮箱",
    "主联系人",
    "职务",
    "地区",
    "省份",
    "城市",
    "地址",
    "负责人",
    "团队",
    "预计年合作额（元）",
    "标签",
    "创建时间",
    "首次接触时间",
]


def _export(client, user, django_capture_on_commit_callbacks, query: str = "", fmt: str = "csv") -> Export:
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EXPORT, {"query": query, "format": fmt})
    export = Export.objects.filter(user=user).latest("created_at")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:export-detail", args=[export.pk])
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    return export


@pytest.fixture
def profile(rep):
    customer = CustomerFactory(
        owner=rep,
        name="杭州云帆科技有限公司",
        phone="0571-88886666",
        email="info@yunfan.example",
        province="浙江",
        city="杭州",
        address="西湖区文三路1号",
        expected_annual_value=Decimal("600000"),
        value_class="A",
        stage="intent",
        first_contact_date=date(2025, 3, 1),
        tags=[TagFactory(name="紧急"), TagFactory(name="2024年Q3意向")],
        id_card_number="110101199003071234",
        bank_card_number="6222020200112233445",
    )
    ContactFactory(customer=customer, name="王经理", title="采购经理", is_primary=True)
    return customer


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rep_exports_the_filtered_list_with_chinese_headers(
    client, rep, profile, media, eager_celery, django_capture_on_commit_callbacks, fmt
):
    CustomerFactory(owner=rep, name="不在筛选里", kind="individual")
    export = _export(client, rep, django_capture_on_commit_callbacks, query="kind=enterprise&page=2", fmt=fmt)
    rows = export_rows(export)
    assert rows[0] == ZH_HEADERS
    assert len(rows) == 2
    cells = dict(zip(ZH_HEADERS, rows[1], strict=True))
    assert cells["客户编号"] == profile.number
    assert cells["名称"] == "杭州云帆科技有限公司"
    assert cells["客户类型"] == "企业客户"
    assert cells["阶段"] == "意向客户"
    assert cells["主联系人"] == "王经理" and cells["职务"] == "采购经理"
    assert cells["负责人"] == str(rep) and cells["团队"] == "华东销售一组"
    assert set(cells["标签"].split("、")) == {"紧急", "2024年Q3意向"}
    assert str(cells["预计年合作额（元）"]).startswith("600000")
    assert str(cells["首次接触时间"]).startswith("2025-03-01")
    assert export.total == export.processed == 1


def test_private_numbers_are_never_exported(
    client, rep, profile, media, eager_celery, django_capture_on_commit_callbacks
):
    export = _export(client, rep, django_capture_on_commit_callbacks)
    with export.file.open("rb") as handle:
        content = handle.read().decode("utf-8-sig")
    assert profile.name in content
    assert "110101199003071234" not in content
    assert "6222020200112233445" not in content
    assert "身份证" not in content and "银行卡" not in content


def test_english_user_gets_english_headers(
    client, rep, profile, media, eager_celery, django_capture_on_commit_callbacks
):
    rep.language = "en"
    rep.save(update_fields=["language"])
    rows = export_rows(_export(client, rep, django_capture_on_commit_callbacks))
    assert rows[0][:5] == ["Customer number", "Name", "Kind", "Value class", "Stage"]
    assert rows[1][2] == "Enterprise"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_in_customer_data_are_neutralised(
    client, rep, media, eager_celery, django_capture_on_commit_callbacks, fmt
):
    CustomerFactory(owner=rep, name='=HYPERLINK("http://evil.example","点我")', phone="+86 138 0013 8000")
    rows = export_rows(_export(client, rep, django_capture_on_commit_callbacks, fmt=fmt))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","点我")'
    assert rows[1][7] == "'+86 138 0013 8000"


def test_other_team_rep_never_exports_team_a_rows(
    client, rep, other_team_rep, profile, media, eager_celery, django_capture_on_commit_callbacks
):
    theirs = CustomerFactory(owner=other_team_rep, name="广州别组电子")
    rows = export_rows(
        _export(client, other_team_rep, django_capture_on_commit_callbacks, query="q=有限公司")
    )
    assert rows[1:] == []
    rows = export_rows(_export(client, other_team_rep, django_capture_on_commit_callbacks))
    assert [row[1] for row in rows[1:]] == [theirs.name]


def test_lead_exports_the_team_and_director_everything(
    client, lead, director, rep, other_team_rep, media, eager_celery, django_capture_on_commit_callbacks
):
    CustomerFactory(owner=rep, name="甲组客户")
    CustomerFactory(owner=other_team_rep, name="乙组客户")
    names = {row[1] for row in export_rows(_export(client, lead, django_capture_on_commit_callbacks))[1:]}
    assert names == {"甲组客户"}
    names = {row[1] for row in export_rows(_export(client, director, django_capture_on_commit_callbacks))[1:]}
    assert names == {"甲组客户", "乙组客户"}


def test_selected_export_keeps_only_the_selection_in_scope(
    client, rep, other_team_rep, media, eager_celery, django_capture_on_commit_callbacks
):
    chosen = CustomerFactory(owner=rep, name="选中的")
    CustomerFactory(owner=rep, name="没选的")
    foreign = CustomerFactory(owner=other_team_rep, name="别组的")
    client.force_login(rep)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("customers:customer-bulk"), {"action": "export_xlsx", "ids": [chosen.pk, foreign.pk]}
        )
    export = Export.objects.get(user=rep)
    assert export.status == Export.Status.DONE
    assert [row[1] for row in export_rows(export)[1:]] == ["选中的"]


def test_scope_is_applied_when_the_file_is_built_not_when_asked(client, rep, teammate, media):
    customer = CustomerFactory(owner=rep, name="后来转走的")
    client.force_login(rep)
    client.post(EXPORT, {"query": "", "format": "csv"})  # on-commit callbacks do not run here
    export = Export.objects.get()
    assert export.status == Export.Status.PENDING
    Customer.objects.filter(pk=customer.pk).update(owner=teammate)
    build_export(export.pk)
    assert export_rows(export)[1:] == []


def test_running_the_export_task_twice_does_not_rebuild(client, rep, profile, media):
    client.force_login(rep)
    client.post(EXPORT, {"query": "", "format": "xlsx"})
    export = Export.objects.get()
    build_export(export.pk)
    export.refresh_from_db()
    first = (export.file.name, export.finished_at)
    build_export(export.pk)
    assert export_build(export.pk) is False
    export.refresh_from_db()
    assert (export.file.name, export.finished_at) == first


def test_agent_may_not_export(client, agent):
    CustomerFactory(owner=agent)
    client.force_login(agent)
    assert client.post(EXPORT, {"query": "", "format": "csv"}).status_code == 403
    assert not Export.objects.exists()


def test_export_button_is_hidden_from_agents(client, agent, rep):
    client.force_login(agent)
    assert EXPORT not in client.get(reverse("customers:customer-list")).content.decode()
    client.force_login(rep)
    assert EXPORT in client.get(reverse("customers:customer-list")).content.decode()


def test_bad_format_is_refused_with_a_message(client, rep):
    client.force_login(rep)
    response = client.post(EXPORT, {"query": "kind=enterprise", "format": "pdf"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer-list") + "?kind=enterprise"
    assert not Export.objects.exists()


def test_export_needs_post(client, rep):
    client.force_login(rep)
    assert client.get(EXPORT).status_code == 405


def test_other_team_rep_gets_404_for_a_team_a_export(client, rep, other_team_rep, profile, media):
    client.force_login(rep)
    client.post(EXPORT, {"query": "", "format": "csv"})
    export = Export.objects.get()
    build_export(export.pk)
    client.force_login(other_team_rep)
    assert client.get(reverse("accounts:export-detail", args=[export.pk])).status_code == 404
    assert client.get(reverse("accounts:export-download", args=[export.pk])).status_code == 404


def test_export_page_links_back_to_the_list(client, rep, profile, media):
    client.force_login(rep)
    client.post(EXPORT, {"query": "", "format": "csv"})
    export = Export.objects.get()
    page = client.get(reverse("accounts:export-detail", args=[export.pk])).content.decode()
    assert "导出" in page and "客户" in page
    assert f'href="{reverse("customers:customer-list")}"' in page
