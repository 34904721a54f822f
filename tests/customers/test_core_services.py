"""The shared core of the customers app: keys, history, contacts, tags, transfer, uploads, files."""

import io
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from openpyxl import load_workbook

from accounts.errors import ConcurrentEditError
from accounts.tabular import csv_bytes, xlsx_bytes
from customers import normalize
from customers.models import Customer, CustomerChange, StageChange
from customers.services.profiles import customer_create, customer_set_stage, customer_update
from customers.services.related import contact_create, contact_delete, customers_change_tag
from customers.services.transfer import customers_transfer
from customers.uploads import check_attachment
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("（上海）华为技术有限公司", "(上海)华为技术 公司"),
        ("ＡＢＣ科技股份有限公司", "abc科技"),
        ("Acme Co., Ltd.", "ACME"),
    ],
)
def test_near_identical_names_share_a_key(one, other):
    assert normalize.name_key(one) == normalize.name_key(other)


def test_phone_key_ignores_country_code_spaces_and_dashes():
    assert normalize.phone_key("+86 138-0013-8000") == normalize.phone_key("13800138000") == "13800138000"
    assert normalize.phone_key("0086 13800138000") == "13800138000"
    assert normalize.phone_key("+86 21 6288 0001") == normalize.phone_key("021-6288 0001") == "02162880001"
    assert normalize.phone_key("（０２１）６２８８００01") == "02162880001"


def test_created_customer_gets_number_keys_class_stage_and_history(rep):
    customer = customer_create(
        actor=rep, name="杭州云帆科技有限公司", phone="+86 138 0013 8000", expected_annual_value=600000
    )
    customer.refresh_from_db()
    assert customer.number.startswith("C") and len(customer.number) == 13
    assert customer.value_class == "A"
    assert customer.phone_key == "13800138000"
    assert "13800138000" in customer.search_text and "云帆" in customer.search_text
    assert customer.review_status == Customer.ReviewStatus.PENDING
    assert StageChange.objects.get(customer=customer).to_stage == "potential"
    assert CustomerChange.objects.get(customer=customer).action == "created"


def test_update_records_old_and_new_and_refuses_a_stale_version(rep):
    customer = customer_create(actor=rep, name="老名字", expected_annual_value=50000)
    customer_update(actor=rep, customer=customer, version=1, name="新名字", expected_annual_value=200000)
    entry = CustomerChange.objects.filter(action="updated").get()
    assert entry.changes["name"] == ["老名字", "新名字"]
    assert entry.changes["value_class"] == ["C", "B"]
    stale = Customer.objects.get(pk=customer.pk)
    with pytest.raises(ConcurrentEditError):
        customer_update(actor=rep, customer=stale, version=1, name="又改了")
    assert Customer.objects.get(pk=customer.pk).name == "新名字"


def test_stage_changes_keep_each_date(rep):
    customer = customer_create(actor=rep, name="甲")
    customer_set_stage(actor=rep, customer=customer, stage="intent")
    customer_set_stage(actor=rep, customer=customer, stage="deal")
    assert list(
        StageChange.objects.filter(customer=customer)
        .order_by("changed_at")
        .values_list("to_stage", flat=True)
    ) == [
        "potential",
        "intent",
        "deal",
    ]


def test_first_contact_is_primary_and_deleting_it_promotes_the_next(rep):
    customer = customer_create(actor=rep, name="乙")
    first = contact_create(actor=rep, customer=customer, name="王经理", phone="021-5555 0001")
    second = contact_create(actor=rep, customer=customer, name="李工")
    assert first.is_primary and not second.is_primary
    contact_delete(actor=rep, contact=first)
    second.refresh_from_db()
    customer.refresh_from_db()
    assert second.is_primary
    assert "王经理" not in customer.search_text and "李工" in customer.search_text


def test_bulk_tag_changes_only_what_differs(rep):
    tag = TagFactory()
    tagged, untagged = CustomerFactory(owner=rep, tags=[tag]), CustomerFactory(owner=rep)
    assert customers_change_tag(actor=rep, customers=[tagged, untagged], tag=tag, add=True) == 1
    assert set(untagged.tags.all()) == {tag}
    assert customers_change_tag(actor=rep, customers=[tagged, untagged], tag=tag, add=False) == 2


def test_transfer_moves_owner_and_team_and_records_it(rep, other_team_rep, lead):
    customer = CustomerFactory(owner=rep)
    assert customers_transfer(actor=lead, customers=[customer], new_owner=other_team_rep, note="调岗") == 1
    customer.refresh_from_db()
    assert (customer.owner, customer.team) == (other_team_rep, other_team_rep.team)
    entry = CustomerChange.objects.get(customer=customer, action="transferred")
    assert entry.actor == lead and entry.note == "调岗"


def test_private_numbers_are_encrypted_in_the_column(rep):
    customer = customer_create(actor=rep, kind="individual", name="张三", id_card_number="110101199003071234")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_card_number FROM customers_customer WHERE id = %s", [customer.pk])
        (raw,) = cursor.fetchone()
    assert raw.startswith("enc1:") and "1234" not in raw
    assert Customer.objects.get(pk=customer.pk).id_card_number == "110101199003071234"
    assert customer.id_card_masked == "110***********1234"


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><script>alert(1)</script>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        b"MZ\x90\x00\x03",
    ],
)
def test_disguised_markup_and_binaries_are_refused(content):
    with pytest.raises(ValidationError):
        check_attachment(SimpleUploadedFile("名片.png", content, content_type="image/png"))


def test_real_png_and_gbk_text_are_accepted():
    assert (
        check_attachment(SimpleUploadedFile("a.bin", b"\x89PNG\r\n\x1a\n" + b"\0" * 10)).content_type
        == "image/png"
    )
    assert (
        check_attachment(SimpleUploadedFile("需求.txt", "需求说明".encode("gbk"))).content_type
        == "text/plain"
    )


def test_exports_neutralise_formulas():
    rows = [['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "正常"]]
    text = csv_bytes(["名称", "b", "c", "d"], rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1" in text and "'@SUM" in text
    sheet = load_workbook(io.BytesIO(xlsx_bytes(["名称", "b", "c", "d"], rows))).active
    assert [cell.value for cell in sheet[2]] == ['\'=HYPERLINK("http://x")', "'+1", "'@SUM(A1)", "正常"]


@pytest.mark.django_db(transaction=True)  # threads need committed rows; pytest-django runs it last
@pytest.mark.usefixtures("migration_data")
def test_two_reps_saving_at_once_get_different_numbers():
    # Plain users: a transactional test cannot rely on the groups of the data migrations.
    rep, teammate = UserFactory(username="rep_a"), UserFactory(username="rep_b")
    numbers, errors = [], []

    def save(user):
        try:
            numbers.append(customer_create(actor=user, name=f"并发{user.pk}").number)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(user,)) for user in (rep, teammate) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(numbers)) == 8


def test_history_is_described_in_the_readers_language(rep):
    from django.utils import translation

    from customers.services.history import describe

    customer = customer_create(actor=rep, name="丙", expected_annual_value=50000)
    customer_update(actor=rep, customer=customer, version=1, expected_annual_value=800000)
    entry = CustomerChange.objects.get(action="updated")
    with translation.override("en"):
        assert ("value class", "C", "A") in describe(entry)
    with translation.override("zh-hans"):
        assert ("价值分类", "C类", "A类") in describe(entry)
