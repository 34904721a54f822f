"""Importing customers from CSV and XLSX: upload, preview, problems, commit, task, errors and template files.

Files are generated in the tests: CSV in UTF-8, UTF-8 with BOM and GBK, XLSX with real Excel dates.
"""

import csv
import datetime
import io
import logging
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from crm_site.celery import app as celery_app
from customers.importing import reading
from customers.importing.mapping import auto_mapping, fold
from customers.importing.rows import Problem, parse_amount, parse_date, parse_employee_band
from customers.models import Contact, Customer, CustomerChange, CustomerImport, StageChange
from customers.services import imports as services
from customers.services.profiles import refresh_keys
from customers.tasks.imports import check_customer_import, run_customer_import
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

ZH_HEADERS = ["客户名称", "客户类型", "所属行业", "联系人", "职务", "电话", "邮箱", "信息来源",
              "首次接触时间", "预计年合作额", "阶段", "标签", "备注"]  # fmt: skip
EN_HEADERS = ["Name", "Kind", "Industry", "Contact", "Title", "Phone", "E-mail", "Source",
              "First contact date", "Expected annual value", "Stage", "Tags", "Notes"]  # fmt: skip


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def eager():
    """Run the task in the process when the commit's transaction commits (as a worker would)."""
    conf = celery_app.conf
    old = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = old


@pytest.fixture
def key_account():
    return TagFactory(name="重点客户")


def csv_bytes(rows: list[list[object]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], *, date_format: str = "yyyy-mm-dd") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, datetime.datetime | datetime.date):
                cell.number_format = date_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def good_row(
    name: str = "杭州云帆科技有限公司", phone: str = "13800138000", **overrides: object
) -> list[object]:
    values = {
        "name": name,
        "kind": "企业",
        "industry": "信息技术",
        "contact": "王经理",
        "title": "采购经理",
        "phone": phone,
        "email": "",
        "source": "展会",
        "date": "2024/3/1",
        "value": "50万",
        "stage": "意向客户",
        "tags": "",
        "notes": "",
    }
    values.update(overrides)
    return list(values.values())


def upload(client, content: bytes, name: str = "客户.csv", **headers: str):
    return client.post(
        reverse("customers:import-create"), {"file": SimpleUploadedFile(name, content)}, **(headers or ZH)
    )


def upload_ok(client, content: bytes, name: str = "客户.csv") -> CustomerImport:
    response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    return CustomerImport.objects.latest("pk")


def problems_by_line(customer_import: CustomerImport) -> dict[int, list[str]]:
    customer_import.refresh_from_db()
    return {
        problem["line"]: [reason["code"] for reason in problem["reasons"]]
        for problem in customer_import.problems
    }


def commit(client, customer_import: CustomerImport, mode: str = "skip", **headers: str):
    return client.post(
        reverse("customers:import-commit", args=[customer_import.pk]), {"mode": mode}, **(headers or ZH)
    )


def run(customer_import: CustomerImport) -> CustomerImport:
    run_customer_import(customer_import.pk)
    customer_import.refresh_from_db()
    return customer_import


# Reading files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected", "shown"),
    [
        ("utf-8", "utf-8", "UTF-8"),
        ("utf-8-sig", "utf-8-sig", "UTF-8 (BOM)"),
        ("gbk", "gb18030", "GB18030 / GBK"),
    ],
)
def test_rep_uploads_csv_with_chinese_headers_in_each_encoding(client, rep, encoding, detected, shown):
    client.force_login(rep)
    content = csv_bytes(
        [ZH_HEADERS, good_row(), good_row("上海星河贸易有限公司", "13900139000")], encoding=encoding
    )

    customer_import = upload_ok(client, content)

    assert customer_import.encoding == detected
    assert customer_import.status == CustomerImport.Status.CHECKED
    assert customer_import.total_rows == 2 and customer_import.problems == []
    assert [column["field"] for column in customer_import.mapping["columns"]] == [
        "name", "kind", "industry", "contact_name", "contact_title", "phone", "email", "source",
        "first_contact_date", "expected_annual_value", "stage", "tags", "notes",
    ]  # fmt: skip
    page = client.get(reverse("customers:import-detail", args=[customer_import.pk]), **ZH).content.decode()
    assert shown in page
    assert "杭州云帆科技有限公司" in page and "上海星河贸易有限公司" in page
    assert "2024-03-01" in page and "¥500,000" in page


def test_gbk_import_creates_customers_with_contact_tags_history_and_unique_numbers(
    client, rep, key_account, eager, django_capture_on_commit_callbacks
):
    client.force_login(rep)
    rows = [
        ZH_HEADERS,
        good_row(tags="重点客户"),
        good_row("上海星河贸易有限公司", "13900139000", kind="个人", contact="", title="", value="￥500,000"),
        good_row("广州明珠餐饮", "+86 137 0013 7000", value="80000", date="2024年3月5日", stage="成交"),
    ]
    customer_import = upload_ok(client, csv_bytes(rows, encoding="gbk"))

    with django_capture_on_commit_callbacks(execute=True):
        response = commit(client, customer_import)

    assert response.status_code == 302
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.DONE
    assert (customer_import.created_count, customer_import.updated_count, customer_import.skipped_count) == (
        3,
        0,
        0,
    )
    assert customer_import.processed_rows == 3 and customer_import.percent == 100
    yunfan = Customer.objects.get(name="杭州云帆科技有限公司")
    assert yunfan.owner == rep and yunfan.team == rep.team and yunfan.created_by == rep
    assert yunfan.industry.name == "信息技术" and yunfan.source.name == "展会"
    assert yunfan.first_contact_date == datetime.date(2024, 3, 1)
    assert yunfan.expected_annual_value == Decimal("500000.00") and yunfan.value_class == "A"
    assert yunfan.stage == "intent" and yunfan.review_status == Customer.ReviewStatus.PENDING
    assert yunfan.phone_key == "13800138000" and yunfan.name_key
    assert "王经理" in yunfan.search_text and "13800138000" in yunfan.search_text
    assert list(yunfan.tags.values_list("name", flat=True)) == ["重点客户"]
    contact = Contact.objects.get(customer=yunfan)
    assert (contact.name, contact.title, contact.is_primary, contact.phone_key) == (
        "王经理",
        "采购经理",
        True,
        "13800138000",
    )
    assert StageChange.objects.get(customer=yunfan).to_stage == "intent"
    entry = CustomerChange.objects.get(customer=yunfan)
    assert entry.action == CustomerChange.Action.IMPORTED and entry.actor == rep and entry.note == "客户.csv"
    person = Customer.objects.get(name="上海星河贸易有限公司")
    assert person.kind == "individual" and not person.contacts.exists()
    assert Customer.objects.get(name="广州明珠餐饮").value_class == "C"
    numbers = list(Customer.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 3 and all(number.startswith("C") for number in numbers)


def test_english_headers_and_semicolons_are_understood(client, rep):
    client.force_login(rep)
    content = csv_bytes(
        [EN_HEADERS, good_row("Acme Trading Co., Ltd.", kind="enterprise", industry="Information technology",
                              source="Trade show", stage="deal", value="¥1,200,000", date="2024-03-01")],
        delimiter=";",
    )  # fmt: skip

    customer_import = upload_ok(client, content, "customers.csv")

    assert all(column["field"] for column in customer_import.mapping["columns"])
    assert customer_import.problems == []
    services.import_commit(actor=rep, customer_import=customer_import, mode="skip")
    run(customer_import)
    acme = Customer.objects.get(name="Acme Trading Co., Ltd.")
    assert acme.industry.name == "信息技术" and acme.source.name == "展会" and acme.stage == "deal"
    assert acme.expected_annual_value == Decimal("1200000.00")


def test_tab_separated_utf16_text_from_excel_is_read(client, rep):
    client.force_login(rep)
    content = "\ufeff" + "客户名称\t电话\r\n" + "深圳前海科技\t13800138000\r\n"

    customer_import = upload_ok(client, content.encode("utf-16-le"), "客户.txt")

    assert customer_import.encoding == "utf-16"
    assert customer_import.preview[0]["values"] == ["深圳前海科技", "13800138000"]


def test_xlsx_with_excel_dates_numbers_and_a_title_row(client, lead, teammate):
    client.force_login(lead)
    content = xlsx_bytes(
        [
            ["客户信息导入模板"],
            ["客户名称*", "电话（必填）", "首次接触时间", "生日", "预计年合作额", "负责人", "人数"],
            [
                "苏州工业园区精密制造有限公司",
                13800138000,
                datetime.datetime(2024, 3, 1),
                None,
                150000,
                "teammate",
                120,
            ],
            ["李娜", 13900139000, 45352, datetime.date(1990, 5, 6), "12万", "", "500人"],
        ]
    )

    customer_import = upload_ok(client, content, "客户.xlsx")

    assert customer_import.file_format == "xlsx" and customer_import.encoding == ""
    assert customer_import.mapping["header_line"] == 2
    assert customer_import.problems == []
    services.import_commit(actor=lead, customer_import=customer_import, mode="skip")
    assert run(customer_import).created_count == 2
    factory = Customer.objects.get(name="苏州工业园区精密制造有限公司")
    assert factory.phone == "13800138000" and factory.first_contact_date == datetime.date(2024, 3, 1)
    assert factory.owner == teammate and factory.team == teammate.team and factory.created_by == lead
    assert factory.employee_band == "50-199" and factory.value_class == "B"
    person = Customer.objects.get(name="李娜")
    assert person.first_contact_date == datetime.date(2024, 3, 1)  # Excel serial 45352
    assert person.birthday == datetime.date(1990, 5, 6) and person.owner == lead
    assert person.employee_band == "200-999" and person.expected_annual_value == Decimal("120000.00")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
            "客户.csv",
            "This file is not an Excel workbook (.xlsx) nor a CSV file.",
        ),
        (
            "<html><body>客户名称</body></html>".encode(),
            "客户.csv",
            "This file is not an Excel workbook (.xlsx) nor a CSV file.",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
            "客户.xls",
            "Old Excel files (.xls) cannot be read.",
        ),
        (b"", "empty.csv", "The submitted file is empty."),
    ],
)
def test_other_files_are_refused_by_content_with_a_translated_message(client, rep, content, name, message):
    client.force_login(rep)

    response = upload(client, content, name, **EN)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CustomerImport.objects.exists()


def test_zip_renamed_to_xlsx_is_refused_in_chinese(client, rep):
    client.force_login(rep)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")

    response = upload(client, buffer.getvalue(), "客户.xlsx")

    assert "此文件既不是 Excel 工作簿（.xlsx）也不是 CSV 文件。" in response.content.decode()


def test_an_xlsx_that_unpacks_to_too_much_is_refused(client, rep, settings):
    settings.IMPORT_MAX_MB = 1
    client.force_login(rep)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * (21 * 2**20))

    response = upload(client, buffer.getvalue(), "炸弹.xlsx", **EN)

    assert "too big once unpacked" in response.content.decode()
    assert not CustomerImport.objects.exists()


def test_too_big_files_are_refused(client, rep, settings):
    settings.IMPORT_MAX_MB = 1
    client.force_login(rep)

    response = upload(client, csv_bytes([["客户名称"], *[["某公司" * 30]] * 12000]), **EN)

    assert "import files may be at most 1.0\xa0MB" in response.content.decode()
    assert not CustomerImport.objects.exists()


def test_a_file_broken_further_down_is_refused_and_not_kept(client, rep, tmp_path):
    client.force_login(rep)
    content = csv_bytes([["客户名称", "电话"], ["甲", "13800138000"], ["乙", "x" * 200_000]])

    response = upload(client, content, **EN)

    assert "Line 3 of the file cannot be read" in response.content.decode()
    assert not CustomerImport.objects.exists()
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_a_file_without_known_headers_is_refused_and_the_form_keeps_its_error(client, rep):
    client.force_login(rep)

    response = upload(client, csv_bytes([["foo", "bar"], ["1", "2"]]), **EN)

    assert "No column header was recognised" in response.content.decode()
    assert not CustomerImport.objects.exists()


def test_delimiter_and_encoding_detection():
    assert reading.sniff_delimiter("a;b;c\n1;2;3") == ";"
    assert reading.sniff_delimiter("a\tb\n") == "\t"
    assert reading.sniff_delimiter("a,b;c,d") == ","
    assert reading.sniff_delimiter("name") == ","
    assert reading.detect_encoding("客户".encode("gbk")) == "gb18030"
    assert reading.detect_encoding("客户".encode()) == "utf-8"
    assert reading.detect_encoding("客户".encode("utf-8-sig")) == "utf-8-sig"


@pytest.mark.parametrize(
    ("text", "amount"),
    [("50万", "500000"), ("¥500,000", "500000"), ("500000", "500000"), ("￥1.2亿元", "120000000"),
     ("RMB 3,000.50", "3000.50"), (80000.0, "80000")],
)  # fmt: skip
def test_amounts_are_read_in_chinese_and_western_notation(text, amount):
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-03-01", (2024, 3, 1)), ("2024/3/1", (2024, 3, 1)), ("2024年3月1日", (2024, 3, 1)),
     ("2024.03.01", (2024, 3, 1)), ("20240301", (2024, 3, 1)), ("45352", (2024, 3, 1)),
     ("2024/3/1 10:30", (2024, 3, 1)), (datetime.datetime(2024, 3, 1, 9), (2024, 3, 1))],
)  # fmt: skip
def test_dates_are_read_in_each_common_format(value, expected):
    assert parse_date(value) == datetime.date(*expected)


@pytest.mark.parametrize("value", ["2024-02-30", "明天", "3/1/2024"])
def test_bad_dates_are_problems(value):
    with pytest.raises(Problem):
        parse_date(value)


def test_company_sizes_and_headers_are_recognised():
    texts = ("50-199", "10～49人", "1000人以上", "3", "19", "中型", "1000+", "2万人")
    assert [parse_employee_band(text) for text in texts] == [
        "50-199", "10-49", "1000+", "1-9", "10-49", "50-199", "1000+", "1000+",
    ]  # fmt: skip
    assert auto_mapping(["客户名称", "名称", "E-Mail Address", "联系电话", "预计年合作额(元)", "？？"]) == [
        "name", "", "email", "phone", "expected_annual_value", "",
    ]  # fmt: skip
    assert fold("Ｅ－ｍａｉｌ") == "email"


# Problems -------------------------------------------------------------------------------------


def test_every_problem_is_listed_with_its_line_number_and_reason(client, rep, other_team_rep):
    CustomerFactory(owner=rep, name="已有客户甲", phone="13600136000")
    CustomerFactory(owner=other_team_rep, name="别组客户", phone="13500135000")
    client.force_login(rep)
    rows = [
        ZH_HEADERS,  # line 1
        good_row("", "13000000001"),  # 2: missing name
        good_row("缺联系方式公司", ""),  # 3: no phone, no e-mail
        good_row("邮箱错公司", "13000000003", email="not-an-email"),  # 4
        good_row("来源错公司", "13000000004", source="抖音"),  # 5
        good_row("行业错公司", "13000000005", industry="航天"),  # 6
        good_row("阶段错公司", "13000000006", stage="热情"),  # 7
        good_row("日期错公司", "13000000007", date="2024-02-30"),  # 8
        good_row("金额错公司", "13000000008", value="很多"),  # 9
        good_row("第一家科技", "13000000009"),  # 10
        good_row("第一家科技有限公司", "13000000010"),  # 11: same name as line 10
        good_row("多行备注公司", "13000000011", notes="第一行\n第二行"),  # 12-13: a cell with a line break
        good_row("已有客户甲", "13000000012"),  # 14: matches an existing customer in scope
        good_row("撞号公司", "135 0013 5000"),  # 15: matches a customer outside the scope
        good_row("标签错公司", "13000000014", tags="重点客户"),  # 16: unknown tag (no tag exists)
    ]

    customer_import = upload_ok(client, csv_bytes(rows))

    assert problems_by_line(customer_import) == {
        2: ["missing_name"],
        3: ["missing_phone_email"],
        4: ["bad_email"],
        5: ["unknown_source"],
        6: ["unknown_industry"],
        7: ["unknown_stage"],
        8: ["bad_date"],
        9: ["bad_amount"],
        11: ["duplicate_in_file"],
        14: ["match"],
        15: ["match_outside"],
        16: ["unknown_tag"],
    }
    page = client.get(reverse("customers:import-detail", args=[customer_import.pk]), **EN).content.decode()
    for text in (
        "The customer name is missing.",
        "Both phone and e-mail are missing.",
        "“not-an-email” is not a valid e-mail address.",
        "Unknown source “抖音”.",
        "Unknown industry “航天”.",
        "Unknown stage “热情”.",
        "First contact date: “2024-02-30” is not a date",
        "Expected annual value: “很多” is not an amount",
        "Same name as line 10 of the file.",
        "Matches the existing customer 已有客户甲",
        "Matches an existing customer outside your scope.",
        "Unknown tag “重点客户”.",
    ):
        assert text in page
    assert "别组客户" not in page
    zh_page = client.get(reverse("customers:import-detail", args=[customer_import.pk]), **ZH).content.decode()
    assert "缺少客户名称。" in zh_page and "与您权限范围外的现有客户重复。" in zh_page


def test_owner_must_be_someone_the_importer_may_assign(client, rep, lead, teammate):
    client.force_login(rep)
    content = csv_bytes(
        [
            ["客户名称", "电话", "负责人"],
            ["甲公司", "13800138000", "teammate"],
            ["乙公司", "13900139000", "rep"],
        ]
    )

    customer_import = upload_ok(client, content)

    assert problems_by_line(customer_import) == {2: ["unknown_owner"]}


def test_user_fixes_the_column_mapping_and_the_file_is_checked_again(client, rep):
    client.force_login(rep)
    content = csv_bytes([["公司", "手机", "看这里"], ["甲公司", "13800138000", "not-an-email"]])
    customer_import = upload_ok(client, content)
    assert customer_import.status == CustomerImport.Status.UPLOADED  # 公司 is not a known header
    url = reverse("customers:import-detail", args=[customer_import.pk])
    assert "Choose the column that holds the customer name" not in client.get(url, **EN).content.decode()

    twice = client.post(url, {"column_0": "name", "column_1": "name", "column_2": ""}, **EN)
    assert "Customer name is chosen for more than one column." in twice.content.decode()
    assert '<option value="name" selected>' in twice.content.decode()  # what was chosen is kept

    response = client.post(url, {"column_0": "name", "column_1": "phone", "column_2": "email"}, **ZH)
    assert response.status_code == 302
    assert problems_by_line(customer_import) == {2: ["bad_email"]}
    assert customer_import.status == CustomerImport.Status.CHECKED

    client.post(url, {"column_0": "name", "column_1": "phone", "column_2": ""}, **ZH)
    customer_import.refresh_from_db()
    assert customer_import.problems == [] and customer_import.preview[0]["values"] == [
        "甲公司",
        "13800138000",
    ]


def test_a_big_file_is_checked_in_the_background(
    client, rep, monkeypatch, eager, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "INLINE_CHECK_BYTES", 0)
    client.force_login(rep)
    content = csv_bytes([ZH_HEADERS, good_row(), good_row("", "13900139000")])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        customer_import = upload_ok(client, content)
    assert customer_import.status == CustomerImport.Status.CHECKING and len(callbacks) == 1
    url = reverse("customers:import-detail", args=[customer_import.pk])
    page = client.get(url, **EN).content.decode()
    assert "Checking every row of the file" in page and f'hx-get="{url}"' in page
    commit(client, customer_import)  # not checked yet: refused
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.CHECKING

    check_customer_import(customer_import.pk)
    check_customer_import(customer_import.pk)  # delivered twice: nothing changes

    assert problems_by_line(customer_import) == {3: ["missing_name"]}
    assert customer_import.status == CustomerImport.Status.CHECKED and customer_import.total_rows == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {f"column_{n}": "" for n in range(13)} | {"column_0": "name", "column_5": "phone"}
        )
    assert response.status_code == 302
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.CHECKED  # checked again by the (eager) task
    assert customer_import.preview[0]["values"] == ["杭州云帆科技有限公司", "13800138000"]


def test_a_file_that_breaks_in_the_background_check_fails_with_the_reason(client, rep, monkeypatch):
    monkeypatch.setattr(services, "INLINE_CHECK_BYTES", 0)
    client.force_login(rep)
    content = csv_bytes([["客户名称", "电话"], ["甲", "13800138000"], ["乙", "x" * 200_000]])
    customer_import = upload_ok(client, content)

    check_customer_import(customer_import.pk)

    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.FAILED
    assert "3" in customer_import.error_message and "131072" in customer_import.error_message
    page = client.get(reverse("customers:import-detail", args=[customer_import.pk]), **EN).content.decode()
    assert "The file could not be checked." in page and "Resume the import" not in page
    commit(client, customer_import)
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.FAILED and not Customer.objects.exists()


# Duplicates: skip or update -------------------------------------------------------------------


@pytest.fixture
def matched(rep, other_team_rep):
    mine = CustomerFactory(owner=rep, name="杭州云帆科技有限公司", phone="13800138000", needs="旧需求")
    theirs = CustomerFactory(owner=other_team_rep, name="别组的客户", phone="13900139000", needs="别组需求")
    return mine, theirs


def _duplicates_file() -> bytes:
    return csv_bytes(
        [
            ["客户名称", "电话", "需求描述", "标签", "联系人", "阶段"],
            ["杭州云帆科技", "+86 138 0013 8000", "新需求", "重点客户", "赵总", "意向"],
            ["某某公司", "13900139000", "抢客户", "", "", ""],
            ["全新客户", "13700137000", "", "", "", ""],
        ]
    )


def test_skip_mode_leaves_matched_customers_alone(client, rep, matched, key_account):
    mine, _ = matched
    client.force_login(rep)
    customer_import = upload_ok(client, _duplicates_file())
    assert problems_by_line(customer_import) == {2: ["match"], 3: ["match_outside"]}

    commit(client, customer_import, "skip")
    run(customer_import)

    assert (customer_import.created_count, customer_import.updated_count, customer_import.skipped_count) == (
        1,
        0,
        2,
    )
    mine.refresh_from_db()
    assert mine.needs == "旧需求" and not mine.tags.exists()
    assert [problem["line"] for problem in customer_import.problems] == [2, 3]


def test_update_mode_changes_matched_customers_in_scope_only(client, rep, matched, key_account):
    mine, theirs = matched
    client.force_login(rep)
    customer_import = upload_ok(client, _duplicates_file())

    commit(client, customer_import, "update")
    run(customer_import)

    assert (customer_import.created_count, customer_import.updated_count, customer_import.skipped_count) == (
        1,
        1,
        1,
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.needs == "新需求" and mine.stage == "intent" and mine.version == 2
    assert mine.name == "杭州云帆科技" and mine.owner == rep
    assert list(mine.tags.values_list("name", flat=True)) == ["重点客户"]
    assert mine.contacts.get().name == "赵总" and "赵总" in mine.search_text
    assert StageChange.objects.filter(customer=mine, to_stage="intent").exists()
    entry = CustomerChange.objects.get(customer=mine, action=CustomerChange.Action.IMPORTED)
    assert entry.changes["needs"] == ["旧需求", "新需求"] and entry.changes["tags"] == ["", "重点客户"]
    assert theirs.needs == "别组需求" and theirs.name == "别组的客户"
    assert customer_import.problems == [
        {"line": 3, "reasons": [{"code": "match_outside", "params": {}}]},
    ]


def test_a_manager_updates_customers_of_the_team_they_lead(client, lead, rep, matched):
    mine, _ = matched
    client.force_login(lead)
    content = csv_bytes(
        [["客户名称", "电话", "需求描述"], ["杭州云帆科技有限公司", "13800138000", "经理补充"]]
    )
    customer_import = upload_ok(client, content)

    commit(client, customer_import, "update")
    run(customer_import)

    mine.refresh_from_db()
    assert mine.needs == "经理补充" and customer_import.updated_count == 1


def test_two_rows_matching_one_customer_update_it_once(client, rep, teammate):
    shared = CustomerFactory(owner=teammate, collaborators=[rep], name="共享客户", phone="13800138000")
    shared.email = "boss@example.com"
    shared.save()
    refresh_keys(shared)
    client.force_login(rep)
    content = csv_bytes(
        [
            ["客户名称", "电话", "邮箱", "联系人", "需求描述"],
            ["共享客户", "13800138000", "", "钱经理", "第一行"],
            ["别名", "", "BOSS@example.com", "孙经理", "第二行"],
        ]
    )
    customer_import = upload_ok(client, content)
    assert problems_by_line(customer_import) == {2: ["match"], 3: ["same_match_as_line"]}

    commit(client, customer_import, "update")
    run(customer_import)

    shared.refresh_from_db()
    assert customer_import.updated_count == 1 and customer_import.skipped_count == 1
    assert shared.needs == "第一行" and shared.owner == teammate
    assert list(shared.contacts.values_list("name", "is_primary")) == [("钱经理", True)]


# Committing and running -----------------------------------------------------------------------


def test_committing_twice_imports_once(client, rep, eager, django_capture_on_commit_callbacks):
    client.force_login(rep)
    customer_import = upload_ok(
        client, csv_bytes([ZH_HEADERS, good_row(), good_row("第二家", "13900139000")])
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = commit(client, customer_import)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = commit(client, customer_import, **EN)

    assert first.status_code == second.status_code == 302
    assert callbacks == []  # the second commit enqueued nothing
    assert "This import has already been started." in client.get(second.url, **EN).content.decode()
    run(customer_import)  # the task delivered again
    assert Customer.objects.count() == 2
    assert customer_import.created_count == 2 and customer_import.status == CustomerImport.Status.DONE


def test_a_crashed_task_resumes_after_the_last_finished_batch(client, rep, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    client.force_login(rep)
    rows = [ZH_HEADERS, *(good_row(f"客户{index}号公司", f"1380013800{index}") for index in range(5))]
    customer_import = upload_ok(client, csv_bytes(rows))
    services.import_commit(actor=rep, customer_import=customer_import, mode="skip")

    services.import_run(customer_import.pk, max_batches=1)  # the worker dies after the first batch

    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.IMPORTING
    assert (customer_import.processed_rows, customer_import.created_count) == (2, 2)
    run(customer_import)
    run(customer_import)
    assert customer_import.status == CustomerImport.Status.DONE
    assert (customer_import.processed_rows, customer_import.created_count) == (5, 5)
    assert Customer.objects.count() == 5
    assert Customer.objects.values("number").distinct().count() == 5
    assert CustomerChange.objects.filter(action="imported").count() == 5


def test_a_batch_that_another_run_already_wrote_is_not_written_again(rep):
    customer_import = services.import_upload(
        actor=rep,
        upload=SimpleUploadedFile("a.csv", csv_bytes([["客户名称", "电话"], ["甲", "13800138000"]])),
        file_format="csv",
    )
    services.import_commit(actor=rep, customer_import=customer_import, mode="skip")
    plan = services.plan_rows(rep, services._open_table(customer_import), ["name", "phone"])

    assert services.import_batch(customer_import.pk, rep, plan, first=0, count=10) is True
    assert services.import_batch(customer_import.pk, rep, plan, first=0, count=10) is False
    assert Customer.objects.count() == 1


def test_a_broker_outage_is_logged_and_the_page_still_answers(
    client, rep, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(run_customer_import, "apply_async", down)
    client.force_login(rep)
    customer_import = upload_ok(client, csv_bytes([ZH_HEADERS, good_row()]))

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = commit(client, customer_import)

    assert response.status_code == 302
    assert "Could not enqueue customers.tasks.imports.run_customer_import" in caplog.text
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.IMPORTING


def test_a_failing_task_marks_the_import_failed_and_it_can_be_resumed(client, rep, monkeypatch):
    client.force_login(rep)
    customer_import = upload_ok(client, csv_bytes([ZH_HEADERS, good_row()]))
    services.import_commit(actor=rep, customer_import=customer_import, mode="skip")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("customers.tasks.imports.import_run", broken)
    assert run(customer_import).status == CustomerImport.Status.FAILED
    page = client.get(reverse("customers:import-detail", args=[customer_import.pk]), **EN).content.decode()
    assert "The import stopped before the end." in page and "Resume the import" in page

    monkeypatch.undo()
    commit(client, customer_import)
    assert run(customer_import).status == CustomerImport.Status.DONE
    assert Customer.objects.count() == 1


def test_progress_is_shown_and_polled_while_importing(client, rep):
    client.force_login(rep)
    customer_import = upload_ok(
        client, csv_bytes([ZH_HEADERS, *(good_row(f"公司{i}", f"1380013800{i}") for i in range(4))])
    )
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        status="importing", processed_rows=1, created_count=1
    )
    url = reverse("customers:import-detail", args=[customer_import.pk])

    page = client.get(url, **ZH).content.decode()
    fragment = client.get(url, headers={"HX-Request": "true"}, **ZH)

    assert '<progress class="w-100" value="1" max="4">25%</progress>' in page
    assert f'hx-get="{url}"' in page and "导入中" in page
    assert fragment.content.decode().lstrip().startswith('<div id="import-progress"')
    assert "HX-Request" in fragment["Vary"] and "HX-Refresh" not in fragment
    CustomerImport.objects.filter(pk=customer_import.pk).update(status="done", processed_rows=4)
    done = client.get(url, headers={"HX-Request": "true"}, **ZH)
    assert done["HX-Refresh"] == "true" and "hx-get" not in done.content.decode()


def test_the_final_report_links_counts(client, rep):
    client.force_login(rep)
    customer_import = upload_ok(client, csv_bytes([ZH_HEADERS, good_row(), good_row("", "13900139000")]))
    commit(client, customer_import)
    run(customer_import)

    page = client.get(reverse("customers:import-detail", args=[customer_import.pk]), **ZH).content.decode()

    assert reverse("customers:import-errors", args=[customer_import.pk, "xlsx"]) in page
    assert "已跳过的行" in page and "已新建的客户" in page
    assert customer_import.skipped_count == 1 and customer_import.created_count == 1


# Errors and template files --------------------------------------------------------------------


def test_errors_file_lists_problem_rows_with_reason_and_neutralised_formulas(client, rep):
    client.force_login(rep)
    content = csv_bytes(
        [
            ["客户名称", "电话", "备注"],
            ['=HYPERLINK("http://evil","x")', "", "@SUM(1)"],
            ["好公司", "13800138000", ""],
        ]
    )
    customer_import = upload_ok(client, content)

    response = client.get(reverse("customers:import-errors", args=[customer_import.pk, "csv"]), **ZH)

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "原因", "客户名称", "电话", "备注"]
    assert rows[1][0] == "2" and "缺少电话和电子邮箱。" in rows[1][1]
    assert rows[1][2] == '\'=HYPERLINK("http://evil","x")' and rows[1][4] == "'@SUM(1)"
    assert len(rows) == 2

    workbook = load_workbook(
        io.BytesIO(
            client.get(reverse("customers:import-errors", args=[customer_import.pk, "xlsx"]), **EN).content
        )
    )
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == ["Line", "Reason", "客户名称", "电话", "备注"]
    assert sheet["C2"].value.startswith("'=") and sheet["C2"].data_type == "s"


def test_a_fixed_errors_file_can_be_uploaded_again(client, rep):
    client.force_login(rep)
    customer_import = upload_ok(client, csv_bytes([["客户名称", "电话"], ["=1+1公司", ""]]))
    errors = client.get(reverse("customers:import-errors", args=[customer_import.pk, "csv"]), **ZH).content
    fixed = errors.decode("utf-8-sig").replace(",\r\n", ",13800138000\r\n").encode("utf-8-sig")

    again = upload_ok(client, fixed, "fixed.csv")

    assert again.problems == [] and again.preview[0]["values"] == ["=1+1公司", "13800138000"]


@pytest.mark.parametrize(("headers", "first"), [(ZH, "客户名称"), (EN, "Customer name")])
def test_template_has_the_recognised_headers_in_the_users_language(client, rep, headers, first):
    client.force_login(rep)

    response = client.get(reverse("customers:import-template", args=["xlsx"]), **headers)

    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header[0] == first and sheet.max_row == 1
    assert all(auto_mapping(header))  # every template column maps back to its field
    csv_response = client.get(reverse("customers:import-template", args=["csv"]), **headers)
    assert csv_response.content.startswith(b"\xef\xbb\xbf" + first.encode())


def test_zh_template_headers_are_the_chinese_ones(client, rep):
    client.force_login(rep)
    content = client.get(reverse("customers:import-template", args=["csv"]), **ZH).content.decode("utf-8-sig")
    assert content.strip().split(",") == [
        "客户名称", "客户类型", "所属行业", "企业规模", "年营业额", "联系人", "职务", "电话", "邮箱",
        "需求描述", "信息来源", "首次接触时间", "地区", "省份", "城市", "地址", "网址", "备注",
        "预计年合作额", "阶段", "标签", "性别", "生日", "年龄", "职业", "负责人",
    ]  # fmt: skip


def test_unknown_download_format_is_404(client, rep):
    client.force_login(rep)
    customer_import = upload_ok(client, csv_bytes([["客户名称", "电话"], ["甲", ""]]))
    assert client.get(reverse("customers:import-template", args=["pdf"])).status_code == 404
    assert client.get(reverse("customers:import-errors", args=[customer_import.pk, "exe"])).status_code == 404


# Access ---------------------------------------------------------------------------------------


@pytest.fixture
def reps_import(rep):
    return services.import_upload(
        actor=rep,
        upload=SimpleUploadedFile(
            "a.csv", csv_bytes([["客户名称", "电话"], ["甲", ""], ["乙", "13800138000"]])
        ),
        file_format="csv",
    )


def _object_urls(customer_import: CustomerImport) -> list[tuple[str, str]]:
    pk = customer_import.pk
    return [
        ("get", reverse("customers:import-detail", args=[pk])),
        ("post", reverse("customers:import-commit", args=[pk])),
        ("get", reverse("customers:import-errors", args=[pk, "csv"])),
        ("get", reverse("customers:import-errors", args=[pk, "xlsx"])),
    ]


@pytest.mark.parametrize("persona", ["other_team_rep", "teammate", "lead"])
def test_another_users_import_is_404_even_for_their_manager(client, reps_import, persona, request):
    client.force_login(request.getfixturevalue(persona))
    for method, url in _object_urls(reps_import):
        assert getattr(client, method)(url).status_code == 404, url
    reps_import.refresh_from_db()
    assert reps_import.status == CustomerImport.Status.CHECKED


@pytest.mark.parametrize("persona", ["director", "agent"])
def test_users_who_may_not_import_get_403(client, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for name, args in (("import-list", []), ("import-create", []), ("import-template", ["csv"])):
        assert client.get(reverse(f"customers:{name}", args=args)).status_code == 403
    assert upload(client, csv_bytes([["客户名称"], ["甲"]])).status_code == 403
    own = CustomerImport.objects.create(
        created_by=user, original_name="x.csv", file_format="csv", status="checked"
    )
    for method, url in _object_urls(own):
        assert getattr(client, method)(url).status_code == 403, url
    own.refresh_from_db()
    assert own.status == CustomerImport.Status.CHECKED and not Customer.objects.exists()


def test_import_list_shows_only_ones_own_imports(client, rep, teammate, reps_import):
    services.import_upload(
        actor=teammate,
        upload=SimpleUploadedFile("同事的.csv", csv_bytes([["客户名称", "电话"], ["丙", "13800138000"]])),
        file_format="csv",
    )
    client.force_login(rep)

    page = client.get(reverse("customers:import-list"), **ZH).content.decode()

    assert "a.csv" in page and "同事的.csv" not in page and "可以导入" in page


@pytest.mark.parametrize("count", [1, 31])
def test_import_list_query_count_does_not_grow(client, rep, count, django_assert_max_num_queries):
    CustomerImport.objects.bulk_create(
        [CustomerImport(created_by=rep, original_name=f"{n}.csv", file_format="csv") for n in range(count)]
    )
    client.force_login(rep)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("customers:import-list"), **EN)
    assert response.content.decode().count('href="/customers/imports/') == min(count, 25) + 1
    assert ("Page 1 of 2" in response.content.decode()) == (count > 25)


@pytest.mark.parametrize("count", [1, 40])
def test_import_detail_query_count_does_not_grow(client, rep, count, django_assert_max_num_queries):
    client.force_login(rep)
    rows = [["客户名称", "电话"], *([f"公司{n}", ""] for n in range(count))]
    customer_import = upload_ok(client, csv_bytes(rows))
    assert len(customer_import.problems) == count
    with django_assert_max_num_queries(8):
        assert client.get(reverse("customers:import-detail", args=[customer_import.pk])).status_code == 200


# Size -----------------------------------------------------------------------------------------


def test_a_large_xlsx_imports_with_a_bounded_number_of_queries(
    rep, key_account, django_assert_max_num_queries
):
    rows = [
        ["客户名称", "电话", "邮箱", "所属行业", "信息来源", "首次接触时间", "联系人", "标签", "预计年合作额"]
    ]
    rows += [
        [f"批量客户{n}有限公司", f"139{n:08d}", f"c{n}@example.com", "制造业", "电话",
         datetime.datetime(2024, 1, 1) + datetime.timedelta(days=n % 300), f"联系人{n}", "重点客户", 1000 * n]
        for n in range(1200)
    ]  # fmt: skip
    upload_file = SimpleUploadedFile("big.xlsx", xlsx_bytes(rows))
    with django_assert_max_num_queries(40):
        customer_import = services.import_upload(actor=rep, upload=upload_file, file_format="xlsx")
    assert customer_import.total_rows == 1200 and customer_import.problems == []
    services.import_commit(actor=rep, customer_import=customer_import, mode="skip")

    with django_assert_max_num_queries(60):  # 3 batches of bulk statements, not 1,200 × N
        services.import_run(customer_import.pk)

    customer_import.refresh_from_db()
    assert customer_import.created_count == 1200
    assert Customer.objects.values("number").distinct().count() == 1200
    assert Contact.objects.count() == 1200 and StageChange.objects.count() == 1200
    assert Customer.tags.through.objects.count() == 1200
    assert Customer.objects.filter(value_class="A").count() == 1200 - 500  # ≥ ¥500,000 from n = 500

    rows = [
        rows[0],
        *([*row[:3], "信息技术", *row[4:]] for row in rows[1:]),
    ]  # the same ones, another industry
    again = services.import_upload(
        actor=rep, upload=SimpleUploadedFile("again.xlsx", xlsx_bytes(rows)), file_format="xlsx"
    )
    assert len(again.problems) == 1200
    services.import_commit(actor=rep, customer_import=again, mode="update")
    with django_assert_max_num_queries(60):
        services.import_run(again.pk)
    again.refresh_from_db()
    assert again.updated_count == 1200 and Customer.objects.filter(industry__name="信息技术").count() == 1200
    assert (
        CustomerChange.objects.filter(action="imported", changes__industry=["制造业", "信息技术"]).count()
        == 1200
    )


def test_users_a_manager_may_assign(lead, rep, teammate, other_team_rep):
    from customers.importing.rows import assignable_users

    assert set(assignable_users(lead)) == {lead, rep, teammate}
    assert assignable_users(rep) == [rep]
    inactive = UserFactory(username="gone", team=lead.team)
    inactive.is_active = False
    inactive.save()
    assert inactive not in assignable_users(lead)


@pytest.mark.parametrize(
    ("cell", "band"),
    [
        ("3000万", "5m-50m"),
        ("¥2,000,000", "<5m"),
        ("5亿", "500m+"),
        ("¥5000万-5亿", None),
        ("5000万-5亿元", "50m-500m"),
    ],
)
def test_annual_revenue_column_takes_amounts_and_band_labels(client, rep, cell, band):
    client.force_login(rep)
    content = csv_bytes(
        [["客户名称", "电话", "信息来源", "年营业额"], ["宁波测试营收有限公司", "13800138000", "展会", cell]]
    )
    customer_import = upload_ok(client, content)
    assert customer_import.mapping["columns"][3]["field"] == "revenue_band"
    if band is None:
        assert problems_by_line(customer_import) == {2: ["unknown_revenue"]}
        return
    assert customer_import.problems == []
    services.import_commit(actor=rep, customer_import=customer_import, mode="skip")
    run(customer_import)
    assert Customer.objects.get(name="宁波测试营收有限公司").revenue_band == band
