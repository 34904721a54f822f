"""Merging two customers: the choose and compare screens, the merge service and its hooks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from accounts.errors import ConcurrentEditError, DomainError
from customers import hooks
from customers.models import Attachment, Contact, Customer, CustomerChange, StageChange
from customers.selectors import customer_merged_target
from customers.services.history import record_change
from customers.services.merge import customer_merge
from customers.services.profiles import customer_update
from tests.factories.customers import AttachmentFactory, TagFactory
from tests.factories.customers_merge import unique_contact, unique_customer

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def pair(rep, teammate):
    """Two records of one company: the older (kept by default) and a newer duplicate."""
    now = timezone.now()
    older = unique_customer(
        rep,
        name="杭州云帆科技有限公司",
        phone="+86 138 0013 8000",
        website="",
        notes="老客户",
        expected_annual_value=Decimal("50000"),
        created_at=now - timedelta(days=30),
    )
    newer = unique_customer(
        teammate,
        name="杭州云帆科技公司",
        phone="13800138000",
        website="https://yunfan.example.com",
        notes="展会认识",
        expected_annual_value=Decimal("600000"),
        stage=Customer.Stage.INTENT,
        created_at=now,
    )
    return older, newer


def compare_url(one: Customer, other: Customer) -> str:
    return reverse("customers:customer-merge-compare", args=[one.pk, other.pk])


def merge_post(survivor: Customer, other: Customer, **choices) -> dict:
    return {
        "survivor": survivor.pk,
        "survivor_version": survivor.version,
        "other_version": other.version,
        **choices,
    }


# The service -----------------------------------------------------------------------------------


def test_merge_moves_every_related_record_to_the_survivor(pair, rep, teammate, lead, director):
    older, newer = pair
    kept_primary = unique_contact(older, is_primary=True)
    moved_primary = unique_contact(newer, is_primary=True)
    moved_other = unique_contact(newer, name="赵工")
    AttachmentFactory(customer=older)
    AttachmentFactory(customer=newer)
    AttachmentFactory(customer=newer)
    record_change(customer=newer, actor=teammate, action=CustomerChange.Action.UPDATED, note="展会后更新")
    StageChange.objects.create(customer=newer, from_stage="potential", to_stage="intent", changed_by=teammate)
    shared_tag, older_tag, newer_tag = TagFactory(), TagFactory(), TagFactory()
    older.tags.set([shared_tag, older_tag])
    newer.tags.set([shared_tag, newer_tag])
    older.collaborators.set([teammate])
    newer.collaborators.set([director, rep])

    customer_merge(
        actor=lead,
        survivor=older,
        merged=newer,
        choices={"website": "other", "notes": "both", "expected_annual_value": "other"},
        expected_versions={older.pk: older.version, newer.pk: newer.version},
    )

    older.refresh_from_db()
    newer.refresh_from_db()
    assert set(Contact.objects.filter(customer=older)) == {kept_primary, moved_primary, moved_other}
    assert list(Contact.objects.filter(customer=older, is_primary=True)) == [kept_primary]
    assert Attachment.objects.filter(customer=older).count() == 3
    assert CustomerChange.objects.filter(customer=older, note="展会后更新").exists()
    assert StageChange.objects.filter(customer=older, to_stage="intent").exists()
    assert not StageChange.objects.filter(customer=newer).exists()
    assert set(older.tags.all()) == {shared_tag, older_tag, newer_tag}
    assert not newer.tags.exists()
    # Unioned, but the survivor's owner (rep) is never its own collaborator.
    assert set(older.collaborators.all()) == {teammate, director}
    # Chosen values applied, the class recomputed from the chosen expected value.
    assert older.website == "https://yunfan.example.com"
    assert older.notes == "老客户\n\n展会认识"
    assert older.expected_annual_value == Decimal("600000") and older.value_class == "A"
    assert older.name == "杭州云帆科技有限公司" and older.owner == rep
    assert "赵工" in older.search_text  # the moved contacts are searchable on the survivor
    # The merged one is soft-deleted and points at the survivor.
    assert newer.merged_into == older and newer.deleted_by == lead and newer.deleted_at is not None
    assert customer_merged_target(lead, newer.pk) == older


def test_merge_writes_a_history_entry_on_both(pair, lead):
    older, newer = pair
    unique_contact(newer)
    with translation.override("zh-hans"):
        customer_merge(
            actor=lead,
            survivor=older,
            merged=newer,
            choices={"website": "other"},
            expected_versions={older.pk: older.version, newer.pk: newer.version},
        )
    entry = CustomerChange.objects.get(customer=older, action="merged")
    assert entry.actor == lead
    assert entry.changes["website"] == ["", "https://yunfan.example.com"]
    assert newer.number in entry.note and newer.name in entry.note
    assert "联系人 1" in entry.note  # the moved counts, in the actor's language
    gone = CustomerChange.objects.get(customer=newer, action="merged")
    assert gone.changes["merged_into"] == ["", str(older)]
    assert older.number in gone.note


def test_owner_chosen_from_the_other_brings_its_team_and_runs_transfer_hooks(
    pair, lead, teammate, monkeypatch
):
    older, newer = pair
    transfers = []
    monkeypatch.setattr(
        hooks, "_transfer", {"fake": lambda ids, owner, actor: transfers.append((ids, owner))}
    )
    customer_merge(
        actor=lead,
        survivor=older,
        merged=newer,
        choices={"owner": "other", "stage": "other"},
        expected_versions={older.pk: older.version, newer.pk: newer.version},
    )
    older.refresh_from_db()
    assert older.owner == teammate and older.team == teammate.team
    assert older.stage == "intent"
    assert StageChange.objects.filter(customer=older, from_stage="potential", to_stage="intent").exists()
    assert transfers == [([older.pk], teammate)]


def test_a_stale_version_refuses_the_merge_and_changes_nothing(pair, lead, teammate):
    older, newer = pair
    contact = unique_contact(newer)
    seen = {older.pk: older.version, newer.pk: newer.version}
    customer_update(actor=teammate, customer=newer, version=newer.version, notes="刚刚改过")
    with pytest.raises(ConcurrentEditError):
        customer_merge(
            actor=lead, survivor=older, merged=newer, choices={"notes": "other"}, expected_versions=seen
        )
    older.refresh_from_db()
    newer.refresh_from_db()
    contact.refresh_from_db()
    assert newer.merged_into is None and newer.deleted_at is None
    assert older.notes == "老客户" and contact.customer == newer
    assert not CustomerChange.objects.filter(action="merged").exists()


@pytest.mark.parametrize("state", ["deleted", "merged"])
def test_a_deleted_or_merged_customer_cannot_be_merged(pair, lead, rep, state):
    older, newer = pair
    if state == "deleted":
        Customer.objects.filter(pk=newer.pk).update(deleted_at=timezone.now())
    else:
        Customer.objects.filter(pk=newer.pk).update(
            merged_into=unique_customer(rep), deleted_at=timezone.now()
        )
    with pytest.raises(DomainError):
        customer_merge(
            actor=lead,
            survivor=older,
            merged=newer,
            choices={},
            expected_versions={older.pk: older.version, newer.pk: newer.version},
        )
    older.refresh_from_db()
    assert not CustomerChange.objects.filter(customer=older, action="merged").exists()


def test_a_customer_cannot_be_merged_with_itself(pair, lead):
    older, _newer = pair
    with pytest.raises(DomainError):
        customer_merge(
            actor=lead, survivor=older, merged=older, choices={}, expected_versions={older.pk: older.version}
        )


def test_registered_handlers_run_inside_the_transaction_and_a_failure_rolls_everything_back(
    pair, lead, monkeypatch
):
    older, newer = pair
    contact = unique_contact(newer)
    calls = []

    def move(survivor, merged, actor):
        calls.append((survivor.pk, merged.pk, actor, connection.in_atomic_block))
        raise RuntimeError("the tickets app could not move its records")

    fake = hooks.MergeHandler("tickets", "工单", move, lambda customer: 0)
    monkeypatch.setattr(hooks, "_merge", {**hooks._merge, "tickets": fake})
    with pytest.raises(RuntimeError):
        customer_merge(
            actor=lead,
            survivor=older,
            merged=newer,
            choices={"website": "other"},
            expected_versions={older.pk: older.version, newer.pk: newer.version},
        )
    assert calls == [(older.pk, newer.pk, lead, True)]
    older.refresh_from_db()
    newer.refresh_from_db()
    contact.refresh_from_db()
    assert contact.customer == newer  # the contacts handler ran before, and was rolled back
    assert older.website == "" and older.version == 1
    assert newer.merged_into is None and newer.deleted_at is None
    assert not CustomerChange.objects.filter(action="merged").exists()


def test_a_registered_handler_moves_its_records_and_is_counted(pair, lead, client, monkeypatch):
    older, newer = pair
    moved = []
    fake = hooks.MergeHandler(
        "tickets", "工单", lambda survivor, merged, actor: moved.append(merged.pk) or 4, lambda customer: 4
    )
    monkeypatch.setattr(hooks, "_merge", {**hooks._merge, "tickets": fake})
    client.force_login(lead)
    page = client.get(compare_url(older, newer), **ZH).content.decode()
    assert "工单" in page
    client.post(compare_url(older, newer), merge_post(older, newer))
    assert moved == [newer.pk]
    assert "工单 4" in CustomerChange.objects.get(customer=older, action="merged").note


# The pages -------------------------------------------------------------------------------------


def test_lead_merges_through_the_compare_screen_and_lands_on_the_survivor(pair, lead, client):
    older, newer = pair
    client.force_login(lead)
    response = client.post(
        compare_url(newer, older),
        merge_post(older, newer, website="other", notes="both", name="other"),
        **ZH,
    )
    assert response.status_code == 302
    assert response.url == reverse("customers:customer-detail", args=[older.pk])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert newer.merged_into == older and newer.deleted_at is not None
    assert older.name == "杭州云帆科技公司" and older.website == "https://yunfan.example.com"
    assert older.notes == "老客户\n\n展会认识"
    assert older.name_key == "杭州云帆科技"  # keys recomputed after the chosen name
    messages = [str(message) for message in response.wsgi_request._messages]
    assert messages == [f"{newer}已合并到{older}。"]


def test_compare_screen_defaults_to_the_older_customer_and_fills_its_gaps(pair, lead, client):
    older, newer = pair
    client.force_login(lead)
    response = client.get(compare_url(newer, older), **ZH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "比较并合并" in page and "保留" in page
    form = response.context["form"]
    assert form["survivor"].value() == older.pk
    assert form["website"].value() == "other"  # the survivor has none
    assert form["notes"].value() == "survivor"
    with translation.override("zh-hans"):
        amount = f"¥{intcomma(600000)}"  # grouped as the zh-hans locale groups numbers
    assert "https://yunfan.example.com" in page and amount in page
    labels = [label for label, _kept, _moving in response.context["counts"]]
    assert {"联系人", "附件", "历史记录", "标签", "协作人"} <= set(labels)


def test_compare_screen_can_keep_the_newer_customer(pair, lead, client):
    older, newer = pair
    client.force_login(lead)
    response = client.get(compare_url(older, newer), {"survivor": newer.pk}, **ZH)
    assert response.context["survivor"] == newer
    response = client.post(compare_url(older, newer), merge_post(newer, older))
    assert response.status_code == 302
    older.refresh_from_db()
    assert older.merged_into == newer


def test_compare_screen_shows_the_counts_of_records_that_move(pair, lead, client):
    older, newer = pair
    unique_contact(newer)
    unique_contact(newer)
    AttachmentFactory(customer=newer)
    client.force_login(lead)
    counts = {
        label: moving
        for label, _kept, moving in client.get(compare_url(older, newer), **ZH).context["counts"]
    }
    assert counts["联系人"] == 2 and counts["附件"] == 1


def test_private_numbers_are_masked_for_a_merger_who_may_not_see_them(rep, teammate, client):
    """A rep given the merge permission, but not view_private_data, comparing a shared customer."""
    rep.user_permissions.add(Permission.objects.get(codename="merge_customer"))
    own = unique_customer(rep, kind="individual", id_card_number="110101199003071234")
    shared = unique_customer(
        teammate, kind="individual", id_card_number="310101198001015678", collaborators=[rep]
    )
    client.force_login(rep)
    page = client.get(compare_url(own, shared), **ZH).content.decode()
    assert "110101199003071234" in page  # the rep owns this one
    assert "310101198001015678" not in page and "310***********5678" in page


def test_stale_compare_screen_shows_an_error_and_the_current_values(pair, lead, teammate, client):
    older, newer = pair
    client.force_login(lead)
    data = merge_post(older, newer, notes="other")
    customer_update(actor=teammate, customer=newer, version=newer.version, notes="刚刚改过")
    response = client.post(compare_url(older, newer), data, **ZH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "刚刚改过" in page and "比较" in page
    assert response.context["form"].non_field_errors()
    newer.refresh_from_db()
    assert newer.merged_into is None
    # The form now carries the current versions: posting again merges.
    response = client.post(compare_url(older, newer), merge_post(older, newer, notes="other"))
    assert response.status_code == 302
    older.refresh_from_db()
    assert older.notes == "刚刚改过"


def test_merging_a_customer_with_itself_goes_back_with_a_message(pair, lead, client):
    older, _newer = pair
    client.force_login(lead)
    response = client.get(compare_url(older, older), **ZH, follow=True)
    assert "不能与自身合并" in response.content.decode()


def test_choose_screen_lists_likely_duplicates_and_searches_the_scope(pair, lead, rep, client):
    older, newer = pair
    by_contact = unique_customer(rep)
    unique_contact(by_contact, email="BOSS@YUNFAN.example.com")
    older.email = "boss@yunfan.example.com"
    older.save()
    from customers.services.profiles import refresh_keys

    refresh_keys(older)
    unrelated = unique_customer(rep, name="宁波海达贸易有限公司")
    client.force_login(lead)
    url = reverse("customers:customer-merge", args=[older.pk])
    response = client.get(url, **ZH)
    page = response.content.decode()
    assert "可能重复" in page
    assert {customer.pk for customer in response.context["duplicates"]} == {newer.pk, by_contact.pk}
    duplicate = next(customer for customer in response.context["duplicates"] if customer.pk == newer.pk)
    assert duplicate.same_name and duplicate.same_phone and not duplicate.same_email
    assert compare_url(older, newer) in page
    response = client.get(url, {"q": "海达"}, **ZH)
    assert [customer.pk for customer in response.context["results"]] == [unrelated.pk]
    assert compare_url(older, unrelated) in response.content.decode()


@pytest.mark.parametrize("count", [1, 30])
def test_choose_screen_query_count_does_not_depend_on_the_duplicates(
    lead, rep, client, count, django_assert_max_num_queries
):
    customer = unique_customer(rep, phone="13966667777")
    unique_contact(customer, email="cai.gou@example.com")
    for n in range(count):
        twin = unique_customer(rep, phone="+86 139 6666 7777" if n % 2 else "")
        if not n % 2:
            unique_contact(twin, email="CAI.GOU@example.com")
    client.force_login(lead)
    url = reverse("customers:customer-merge", args=[customer.pk])
    client.get(url)  # warm the session and permission caches out of the budget
    with django_assert_max_num_queries(10):
        response = client.get(url, {"q": "独特测试客户"}, **ZH)
    assert len(response.context["duplicates"]) == min(count, 20)
    assert len(response.context["results"]) == min(count, 20)


def test_choose_screen_search_answers_htmx_with_the_results_fragment(pair, lead, client):
    older, newer = pair
    client.force_login(lead)
    response = client.get(
        reverse("customers:customer-merge", args=[older.pk]),
        {"q": newer.number},
        HTTP_HX_REQUEST="true",
        **ZH,
    )
    page = response.content.decode()
    assert "<html" not in page and 'id="merge-results"' in page and newer.name in page
    assert "HX-Request" in response["Vary"]


def test_search_does_not_reach_outside_the_scope(pair, lead, other_team_rep, client):
    older, _newer = pair
    stranger = unique_customer(other_team_rep, name="宁波海达贸易有限公司")
    client.force_login(lead)
    response = client.get(reverse("customers:customer-merge", args=[older.pk]), {"q": "海达"}, **ZH)
    assert response.context["results"] == []
    assert stranger.name not in response.content.decode()


# Scope and permission --------------------------------------------------------------------------


def test_other_team_rep_gets_404_on_every_merge_url(pair, other_team_rep, client):
    older, newer = pair
    own = unique_customer(other_team_rep)
    client.force_login(other_team_rep)
    assert client.get(reverse("customers:customer-merge", args=[older.pk])).status_code == 404
    assert client.get(compare_url(older, newer)).status_code == 404
    assert client.get(compare_url(own, older)).status_code == 404
    assert client.post(compare_url(own, older), merge_post(own, older)).status_code == 404
    older.refresh_from_db()
    assert older.merged_into is None


def test_lead_gets_404_when_only_one_of_the_two_is_in_scope(pair, lead, other_team_rep, client):
    older, _newer = pair
    stranger = unique_customer(other_team_rep)
    client.force_login(lead)
    assert client.get(compare_url(older, stranger)).status_code == 404
    assert client.get(compare_url(stranger, older)).status_code == 404
    assert client.post(compare_url(older, stranger), merge_post(older, stranger)).status_code == 404
    assert client.get(reverse("customers:customer-merge", args=[stranger.pk])).status_code == 404
    stranger.refresh_from_db()
    assert stranger.merged_into is None and stranger.deleted_at is None


def test_a_merged_customer_is_404_on_the_merge_urls(pair, lead, client):
    older, newer = pair
    client.force_login(lead)
    client.post(compare_url(older, newer), merge_post(older, newer))
    assert client.get(reverse("customers:customer-merge", args=[newer.pk])).status_code == 404
    assert client.get(compare_url(older, newer)).status_code == 404


def test_rep_without_the_merge_permission_gets_403(pair, rep, client):
    older, _newer = pair
    own = unique_customer(rep)
    client.force_login(rep)
    assert client.get(reverse("customers:customer-merge", args=[own.pk])).status_code == 403
    assert client.get(compare_url(own, older)).status_code == 403
    assert client.post(compare_url(own, older), merge_post(own, older)).status_code == 403
    assert client.get(reverse("customers:dedupe-scan")).status_code == 403
    own.refresh_from_db()
    assert own.merged_into is None


@pytest.mark.parametrize("persona", ["director", "agent", "administrator"])
def test_roles_without_the_merge_permission_get_403_or_404(pair, client, persona, request):
    older, newer = pair
    client.force_login(request.getfixturevalue(persona))
    assert client.get(compare_url(older, newer)).status_code in (403, 404)
    assert client.get(reverse("customers:dedupe-scan")).status_code == 403
