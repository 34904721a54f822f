"""The dedupe scan: likely duplicate pairs across the manager's scope, computed in the database."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from customers.services.merge import duplicate_pairs
from tests.factories.customers_merge import unique_contact, unique_customer

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
SCAN = "/customers/duplicates/"


def pairs_of(user) -> dict[tuple[int, int], list[str]]:
    return {(pair.left.pk, pair.right.pk): pair.reasons for pair in duplicate_pairs(user).pairs}


def test_scan_url_is_the_one_of_the_url_map():
    assert reverse("customers:dedupe-scan") == SCAN


def test_scan_finds_a_pair_by_phone_ignoring_country_code_and_spaces(lead, rep, teammate, client):
    one = unique_customer(rep, phone="+86 139 1234 5678")
    other = unique_customer(teammate, phone="139-1234-5678")
    client.force_login(lead)
    response = client.get(SCAN, **ZH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "重复客户" in page and "电话相同" in page and "比较并合并" in page
    assert reverse("customers:customer-merge-compare", args=[one.pk, other.pk]) in page
    assert pairs_of(lead) == {(one.pk, other.pk): ["phone"]}


def test_scan_finds_a_pair_by_email_whatever_the_case(lead, rep):
    one = unique_customer(rep, email="Boss@YunFan.example.com")
    other = unique_customer(rep, email="boss@yunfan.example.com")
    assert pairs_of(lead) == {(one.pk, other.pk): ["email"]}


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("ＡＢＣ科技有限公司", "ABC科技公司"),
        ("（上海）华为技术有限公司", "(上海)华为技术 股份有限公司"),
        ("Acme Co., Ltd.", "ACME"),
    ],
)
def test_scan_finds_a_pair_by_near_identical_name(lead, rep, name, variant):
    one = unique_customer(rep, name=name)
    other = unique_customer(rep, name=variant)
    assert pairs_of(lead) == {(one.pk, other.pk): ["name"]}


def test_scan_finds_pairs_through_contacts(lead, rep):
    one = unique_customer(rep, phone="135-1234-5678")
    by_contact_phone = unique_customer(rep)
    unique_contact(by_contact_phone, phone="+86 135 1234 5678")
    shared_email_a, shared_email_b = unique_customer(rep), unique_customer(rep)
    unique_contact(shared_email_a, email="Li.Gong@example.com")
    unique_contact(shared_email_b, email="li.gong@EXAMPLE.com")
    assert pairs_of(lead) == {
        (one.pk, by_contact_phone.pk): ["phone"],
        (shared_email_a.pk, shared_email_b.pk): ["email"],
    }


def test_each_pair_is_listed_once_with_all_its_reasons(lead, rep):
    one = unique_customer(rep, name="宁波海达贸易有限公司", phone="13912340000", email="hd@example.com")
    other = unique_customer(rep, name="宁波海达贸易公司", phone="+8613912340000", email="HD@example.com")
    unique_contact(one, phone="13912340000")  # the same phone again, through a contact
    unique_contact(other, phone="13912340000")
    third = unique_customer(rep, phone="139 1234 0000")
    assert pairs_of(lead) == {
        (one.pk, other.pk): ["email", "name", "phone"],
        (one.pk, third.pk): ["phone"],
        (other.pk, third.pk): ["phone"],
    }


def test_short_phones_deleted_and_merged_customers_are_not_pairs(lead, rep):
    unique_customer(rep, phone="8001")
    unique_customer(rep, phone="8001")
    alive = unique_customer(rep, email="same@example.com")
    deleted = unique_customer(rep, email="same@example.com")
    Customer.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    merged = unique_customer(rep, email="same@example.com")
    Customer.objects.filter(pk=merged.pk).update(merged_into=alive, deleted_at=timezone.now())
    assert pairs_of(lead) == {}


def test_scan_shows_nothing_outside_the_scope(lead, rep, other_lead, other_team_rep, client):
    ours = unique_customer(rep, phone="13955556666")
    theirs = unique_customer(other_team_rep, phone="13955556666")
    their_twin = unique_customer(other_team_rep, email="twin@example.com")
    our_twin = unique_customer(rep, email="twin@example.com")
    assert pairs_of(lead) == {}
    assert pairs_of(other_lead) == {}
    client.force_login(lead)
    page = client.get(SCAN, **ZH).content.decode()
    assert "未发现可能重复的记录" in page
    for customer in (ours, theirs, their_twin, our_twin):
        assert customer.number not in page


def test_lead_sees_the_pairs_of_their_own_team_only(lead, rep, teammate, other_lead, other_team_rep):
    ours = (unique_customer(rep, phone="13811112222"), unique_customer(teammate, phone="13811112222"))
    theirs = (
        unique_customer(other_lead, phone="13833334444"),
        unique_customer(other_team_rep, phone="13833334444"),
    )
    assert set(pairs_of(lead)) == {(ours[0].pk, ours[1].pk)}
    assert set(pairs_of(other_lead)) == {(theirs[0].pk, theirs[1].pk)}


def test_rep_gets_403_and_other_team_rep_too(rep, other_team_rep, client):
    for user in (rep, other_team_rep):
        client.force_login(user)
        assert client.get(SCAN).status_code == 403


def _make_pairs(owner, count: int) -> None:
    for n in range(count):
        unique_customer(owner, phone=f"1360000{n:04d}")
        unique_customer(owner, phone=f"+86 1360000{n:04d}")


@pytest.mark.parametrize("count", [1, 30])
def test_scan_query_count_does_not_depend_on_the_pairs(
    lead, rep, client, count, django_assert_max_num_queries
):
    _make_pairs(rep, count)
    client.force_login(lead)
    client.get(SCAN)  # warm the session and permission caches out of the budget
    with django_assert_max_num_queries(8):
        response = client.get(SCAN, **ZH)
    assert len(response.context["pairs"]) == count


def test_scan_is_one_query_for_the_pairs_and_one_for_their_customers(lead, rep):
    _make_pairs(rep, 3)
    lead.has_perm("customers.merge_customer")  # scope: permissions cached on the user
    with CaptureQueriesContext(connection) as queries:
        assert len(duplicate_pairs(lead).pairs) == 3
    assert len(queries) <= 3  # the led teams, the pairs with their total, their customers


def test_scan_pages_by_fifty_pairs(lead, rep, client):
    for _ in range(11):  # eleven customers with one phone: 55 pairs
        unique_customer(rep, phone="13977778888")
    client.force_login(lead)
    first = client.get(SCAN, **ZH)
    assert len(first.context["pairs"]) == 50
    assert first.context["page"].total == 55 and first.context["page"].num_pages == 2
    assert "第 1 页，共 2 页" in first.content.decode()
    second = client.get(SCAN, {"page": 2})
    assert len(second.context["pairs"]) == 5
    shown = {
        (pair.left.pk, pair.right.pk) for pair, _reasons in first.context["pairs"] + second.context["pairs"]
    }
    assert len(shown) == 55
    for page in ("99", "abc"):
        assert client.get(SCAN, {"page": page}).context["page"].number == 1


def test_the_sqlite_quick_start_finds_the_same_pairs_as_postgresql(lead, rep, teammate, other_team_rep):
    from customers.services.merge import _pair_rows, _pair_rows_portable

    one = unique_customer(rep, name="宁波海达贸易有限公司", phone="13912340000", email="hd@example.com")
    other = unique_customer(teammate, name="宁波海达贸易公司", phone="+8613912340000", email="HD@example.com")
    unique_contact(one, phone="13812345678")
    unique_contact(unique_customer(rep), phone="138 1234 5678")
    for _short in range(2):
        unique_customer(rep, phone="8001")
    unique_customer(other_team_rep, email="hd@example.com")  # outside the lead's scope
    assert (one.pk, other.pk) in {
        (left, right) for left, right, _reasons, _total in _pair_rows(lead, limit=50, offset=0)
    }
    for offset in (0, 1):
        database = [
            (a, b, sorted(reasons), total)
            for a, b, reasons, total in _pair_rows(lead, limit=2, offset=offset)
        ]
        assert _pair_rows_portable(lead, limit=2, offset=offset) == database


def test_a_key_shared_by_very_many_customers_and_namesakes_are_not_pairs(lead, rep, monkeypatch):
    from customers.services import merge

    monkeypatch.setattr(merge, "MAX_CLUSTER", 3)
    switchboard = [unique_customer(rep, phone="400 800 8888") for _ in range(4)]  # a hotline, not a duplicate
    first = unique_customer(rep, kind=Customer.Kind.INDIVIDUAL, name="张伟")
    second = unique_customer(rep, kind=Customer.Kind.INDIVIDUAL, name="张伟")
    assert pairs_of(lead) == {}
    switchboard[0].delete()  # three left: within the limit again
    pairs = pairs_of(lead)
    assert len(pairs) == 3 and (first.pk, second.pk) not in pairs
