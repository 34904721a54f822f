"""Profile review (建档审核): the lead's queue, approve/return, and the 24-hour incomplete sweep."""

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime

from customers.models import Customer, CustomerChange
from customers.services.review import customer_review, customer_review_recheck, customers_flag_incomplete
from customers.tasks.review import flag_incomplete_profiles
from tests.factories.accounts import UserFactory
from tests.factories.customers import ContactFactory, CustomerFactory
from tests.factories.customers_lifecycle import complete_customer, incomplete_customer

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def review_url(customer: Customer) -> str:
    return reverse("customers:customer-review", args=[customer.pk])


# --- The queue -----------------------------------------------------------------------------


def test_lead_sees_pending_profiles_of_own_team_oldest_first_with_what_is_missing(
    client, lead, rep, other_team_rep
):
    newer = incomplete_customer(owner=rep, name="后建的甲公司", hours_old=1)
    older = incomplete_customer(owner=rep, name="先建的乙公司", hours_old=5)
    incomplete_customer(owner=other_team_rep, name="华南的客户")
    CustomerFactory(owner=rep, name="已审核的客户")  # approved
    client.force_login(lead)

    page = client.get(reverse("customers:review-list"), **ZH).content.decode()

    assert page.index("先建的乙公司") < page.index("后建的甲公司")
    assert "华南的客户" not in page and "已审核的客户" not in page
    assert "员工规模" in page and "需求描述" in page  # what is missing, in zh-hans
    assert str(rep) in page
    assert older.number in page and newer.number in page


def test_queue_filters_returned_and_flagged_profiles(client, lead, rep):
    incomplete_customer(owner=rep, name="待审核甲")
    incomplete_customer(owner=rep, name="已退回乙", review_status=Customer.ReviewStatus.RETURNED)
    flagged = incomplete_customer(owner=rep, name="超时丙", hours_old=30)
    customers_flag_incomplete()
    client.force_login(lead)
    url = reverse("customers:review-list")

    returned_page = client.get(url, {"status": "returned"}).content.decode()
    flagged_page = client.get(url, {"status": "flagged"}).content.decode()

    assert "已退回乙" in returned_page and "待审核甲" not in returned_page
    assert "超时丙" in flagged_page and "待审核甲" not in flagged_page and "已退回乙" not in flagged_page
    assert f'id="review-{flagged.pk}" class="table-warning"' in flagged_page


def test_director_may_not_open_the_review_queue(client, director):
    client.force_login(director)
    assert client.get(reverse("customers:review-list")).status_code == 403


@pytest.mark.parametrize("rows", [1, 30])
def test_review_queue_query_count_does_not_grow_with_rows(
    client, lead, rep, rows, django_assert_max_num_queries
):
    for index in range(rows):
        customer = incomplete_customer(owner=rep, hours_old=index)
        if index % 2:
            ContactFactory(customer=customer, is_primary=True, title="")
    client.force_login(lead)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("customers:review-list"))
    assert response.content.decode().count('name="decision" value="approve"') == rows


def test_rep_gets_403_for_the_review_queue(client, rep):
    client.force_login(rep)
    assert client.get(reverse("customers:review-list")).status_code == 403


# --- Decisions -----------------------------------------------------------------------------


def test_lead_of_team_b_gets_404_reviewing_a_team_a_profile(client, other_lead, rep):
    customer = complete_customer(owner=rep)
    client.force_login(other_lead)
    assert client.post(review_url(customer), {"decision": "approve"}).status_code == 404
    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.PENDING


def test_other_team_rep_gets_404_for_the_review_action(client, other_team_rep, rep):
    customer = complete_customer(owner=rep)
    client.force_login(other_team_rep)
    assert client.post(review_url(customer), {"decision": "approve"}).status_code == 404


def test_rep_gets_403_reviewing_their_own_profile(client, rep):
    customer = complete_customer(owner=rep)
    client.force_login(rep)
    assert client.post(review_url(customer), {"decision": "approve"}).status_code == 403
    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.PENDING


def test_lead_who_only_collaborates_on_another_teams_customer_gets_403(client, lead, other_team_rep):
    customer = complete_customer(owner=other_team_rep, collaborators=[lead])
    client.force_login(lead)
    assert client.post(review_url(customer), {"decision": "approve"}).status_code == 403


def test_review_is_post_only(client, lead, rep):
    customer = complete_customer(owner=rep)
    client.force_login(lead)
    assert client.get(review_url(customer)).status_code == 405


def test_approve_is_refused_while_information_is_missing(client, lead, rep):
    customer = incomplete_customer(owner=rep, name="缺资料的客户")
    client.force_login(lead)

    response = client.post(review_url(customer), {"decision": "approve", "note": "看过了"}, **ZH)

    assert response.status_code == 200
    page = response.content.decode()
    assert "员工规模" in page and "需求描述" in page
    assert "看过了" in page  # what was typed is kept
    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.PENDING
    assert customer.reviewed_by is None
    assert not CustomerChange.objects.filter(customer=customer, action="reviewed").exists()


def test_lead_approves_a_complete_profile(client, lead, rep):
    customer = complete_customer(owner=rep, hours_old=2)
    client.force_login(lead)

    response = client.post(review_url(customer), {"decision": "approve"})

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:review-list")
    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.APPROVED
    assert customer.reviewed_by == lead and customer.reviewed_at is not None
    entry = CustomerChange.objects.get(customer=customer, action="reviewed")
    assert entry.actor == lead
    assert entry.changes == {"review_status": ["pending", "approved"]}


def test_approval_lifts_the_incomplete_flag(rep, lead):
    customer = incomplete_customer(owner=rep, hours_old=30)
    customers_flag_incomplete()
    ContactFactory(customer=customer, is_primary=True, title="总经理")
    Customer.objects.filter(pk=customer.pk).update(
        employee_band="10-49", needs="要", first_contact_date="2026-01-01"
    )
    customer.refresh_from_db()
    customer_review(actor=lead, customer=customer, approve=True)
    customer.refresh_from_db()
    assert customer.review_flagged_at is None


def test_returning_needs_a_note(client, lead, rep):
    customer = incomplete_customer(owner=rep)
    client.force_login(lead)
    response = client.post(review_url(customer), {"decision": "return", "note": "  "})
    assert response.status_code == 200
    assert 'class="form-control form-control-sm mb-1 is-invalid"' in response.content.decode()
    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.PENDING


def test_lead_returns_a_profile_with_a_note_the_owner_sees(client, lead, rep):
    customer = incomplete_customer(owner=rep)
    client.force_login(lead)

    client.post(review_url(customer), {"decision": "return", "note": "请补充联系人职务和企业规模"})

    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.RETURNED
    assert customer.review_note == "请补充联系人职务和企业规模"
    entry = CustomerChange.objects.get(customer=customer, action="reviewed")
    assert entry.note == "请补充联系人职务和企业规模"
    client.force_login(rep)
    detail = client.get(reverse("customers:customer-detail", args=[customer.pk]), **ZH).content.decode()
    assert "请补充联系人职务和企业规模" in detail


def test_htmx_review_returns_the_row_fragment(client, lead, rep):
    customer = complete_customer(owner=rep, name="快速审核")
    client.force_login(lead)
    response = client.post(review_url(customer), {"decision": "approve"}, HTTP_HX_REQUEST="true", **ZH)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    fragment = response.content.decode()
    assert fragment.lstrip().startswith("<tr") and "<html" not in fragment
    assert '<span class="badge text-bg-success">' in fragment and 'name="decision"' not in fragment
    assert "企业客户" in fragment  # rendered in zh-hans
    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.APPROVED


def test_an_unsafe_next_url_is_ignored(client, lead, rep):
    customer = complete_customer(owner=rep)
    client.force_login(lead)
    response = client.post(review_url(customer), {"decision": "approve", "next": "https://evil.example/"})
    assert response["Location"] == reverse("customers:review-list")


def test_completed_returned_profile_goes_back_to_pending(rep, lead):
    customer = incomplete_customer(owner=rep, review_status=Customer.ReviewStatus.RETURNED)
    assert customer_review_recheck(customer, actor=rep) is False  # still incomplete
    ContactFactory(customer=customer, is_primary=True, title="总经理")
    customer.employee_band, customer.needs, customer.first_contact_date = "10-49", "要", "2026-01-01"
    customer.save()

    assert customer_review_recheck(customer, actor=rep) is True

    customer.refresh_from_db()
    assert customer.review_status == Customer.ReviewStatus.PENDING
    assert CustomerChange.objects.get(customer=customer, action="reviewed").changes == {
        "review_status": ["returned", "pending"]
    }


# --- The 24-hour sweep -----------------------------------------------------------------------


def test_sweep_flags_once_and_mails_each_lead_one_digest_in_their_language(
    lead, rep, teammate, other_lead, other_team_rep, mailoutbox
):
    lead.language = "zh-hans"
    lead.save()
    other_lead.language, other_lead.time_zone = "en", "America/New_York"
    other_lead.save()
    first = incomplete_customer(owner=rep, name="甲公司", hours_old=30)
    second = incomplete_customer(owner=teammate, name="乙公司", hours_old=25)
    south = incomplete_customer(owner=other_team_rep, name="丙公司", hours_old=48)

    assert flag_incomplete_profiles() == 3
    assert flag_incomplete_profiles() == 0

    assert len(mailoutbox) == 2
    by_recipient = {message.to[0]: message for message in mailoutbox}
    zh = by_recipient[lead.email]
    assert "2" in zh.subject and "\n" not in zh.subject
    assert "甲公司" in zh.body and "乙公司" in zh.body and "丙公司" not in zh.body
    assert "员工规模" in zh.body and "需求描述" in zh.body
    html = zh.alternatives[0][0]
    assert "甲公司" in html and f"/customers/{first.pk}/" in html
    en = by_recipient[other_lead.email]
    assert "丙公司" in en.body and "甲公司" not in en.body
    assert "employees" in en.body and "primary contact" in en.body
    with translation.override("en"):
        created = date_format(
            localtime(south.created_at, ZoneInfo("America/New_York")), "SHORT_DATETIME_FORMAT"
        )
    assert created in en.body  # in the lead's time zone
    for customer in (first, second, south):
        customer.refresh_from_db()
        assert customer.review_flagged_at is not None
        assert CustomerChange.objects.filter(customer=customer, action="flagged").count() == 1


def test_sweep_leaves_complete_recent_deleted_and_approved_profiles_alone(lead, rep, mailoutbox):
    complete = complete_customer(owner=rep, hours_old=30)
    recent = incomplete_customer(owner=rep, hours_old=2)
    deleted = incomplete_customer(owner=rep, hours_old=30)
    Customer.objects.filter(pk=deleted.pk).update(deleted_at="2026-01-01T00:00:00Z")
    approved = CustomerFactory(owner=rep)  # approved, though incomplete
    Customer.objects.filter(pk=approved.pk).update(created_at="2025-01-01T00:00:00Z")

    assert flag_incomplete_profiles() == 0

    assert mailoutbox == []
    for customer in (complete, recent, deleted, approved):
        customer.refresh_from_db()
        assert customer.review_flagged_at is None


def test_customer_completed_before_the_sweep_is_not_flagged(client, lead, rep, mailoutbox):
    customer = incomplete_customer(owner=rep, hours_old=30, kind=Customer.Kind.INDIVIDUAL)
    customer.gender, customer.occupation, customer.age = "female", "教师", 35
    customer.needs, customer.first_contact_date = "保险咨询", "2026-01-02"
    customer.save()

    flag_incomplete_profiles()

    customer.refresh_from_db()
    assert customer.review_flagged_at is None
    assert mailoutbox == []


def test_sweep_respects_the_configured_hours(settings, lead, rep):
    settings.CUSTOMER_REVIEW_HOURS = 48
    customer = incomplete_customer(owner=rep, hours_old=30)
    assert customers_flag_incomplete() == []
    settings.CUSTOMER_REVIEW_HOURS = 24
    assert customers_flag_incomplete() == [customer.pk]


# --- The lead's workbench ------------------------------------------------------------------


def test_leads_home_shows_reviews_waiting_with_the_oldest_flagged(client, lead, rep, other_team_rep):
    incomplete_customer(owner=rep, name="刚建的客户")
    old = incomplete_customer(owner=rep, name="超时的客户", hours_old=40)
    incomplete_customer(owner=other_team_rep, name="别组超时", hours_old=40)
    customers_flag_incomplete()
    client.force_login(lead)

    page = client.get(reverse("home")).content.decode()

    assert 'id="workbench-reviews-heading"' in page
    assert "超时的客户" in page and reverse("customers:customer-detail", args=[old.pk]) in page
    assert "别组超时" not in page and "刚建的客户" not in page
    assert '<span class="fs-4 fw-semibold">2</span>' in page  # waiting
    assert '<span class="fs-4 fw-semibold">1</span>' in page  # flagged


def test_reps_home_has_no_review_panel(client, rep):
    incomplete_customer(owner=rep, hours_old=40)
    customers_flag_incomplete()
    client.force_login(rep)
    page = client.get(reverse("home")).content.decode()
    assert 'id="workbench-reviews-heading"' not in page


def test_a_superuser_reviews_every_teams_profiles(client, rep, other_team_rep):
    incomplete_customer(owner=rep, name="华东待审")
    incomplete_customer(owner=other_team_rep, name="华南待审")
    client.force_login(UserFactory(username="root", is_superuser=True))
    page = client.get(reverse("customers:review-list")).content.decode()
    assert "华东待审" in page and "华南待审" in page


def test_after_a_refused_decision_the_next_one_returns_to_the_queue_it_came_from(client, lead, rep):
    customer = incomplete_customer(owner=rep)
    client.force_login(lead)
    queue = reverse("customers:review-list") + "?status=pending"
    page = client.post(review_url(customer), {"decision": "approve", "next": queue}).content.decode()
    assert f'name="next" value="{reverse("customers:review-list")}?status=pending"' in page


def test_a_digest_that_failed_to_send_goes_out_on_the_next_sweep_once(lead, rep, mailoutbox, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    from customers.models import ReviewNotice

    customer = incomplete_customer(owner=rep, name="失败重发公司", hours_old=30)
    real_send = EmailMultiAlternatives.send

    def smtp_down(self, *args, **kwargs):
        raise ConnectionRefusedError("SMTP is down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", smtp_down)
    assert flag_incomplete_profiles() == 1
    assert mailoutbox == []
    assert ReviewNotice.objects.get(customer=customer).state == "pending"

    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert flag_incomplete_profiles() == 0  # nothing new to flag, but the digest goes out
    assert flag_incomplete_profiles() == 0
    assert len(mailoutbox) == 1 and "失败重发公司" in mailoutbox[0].body
    assert ReviewNotice.objects.get(customer=customer).state == "sent"


def test_a_notice_left_sending_by_a_dead_worker_is_sent_after_its_lease(lead, rep, mailoutbox):
    from datetime import timedelta

    from django.utils import timezone

    from customers.models import ReviewNotice
    from customers.services.review import NOTICE_LEASE, review_digests_send

    customer = incomplete_customer(owner=rep, name="中断公司", hours_old=30)
    customers_flag_incomplete()
    # The worker claimed the notice and died before sending.
    ReviewNotice.objects.update(state="sending", claimed_at=timezone.now())
    assert review_digests_send() == 0  # still within its lease: not sent twice meanwhile
    assert mailoutbox == []
    later = timezone.now() + NOTICE_LEASE + timedelta(minutes=1)
    assert review_digests_send(now=later) == 1
    assert review_digests_send(now=later) == 0
    assert len(mailoutbox) == 1 and "中断公司" in mailoutbox[0].body
    assert ReviewNotice.objects.get(customer=customer).state == "sent"
