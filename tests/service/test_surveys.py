"""Satisfaction surveys (满意度): one tokenised invitation per closed ticket, mailed with a fresh
token, a public page without login that takes one answer, expires, is rate-limited and reveals
nothing else; a low score opens an improvement task for the service manager."""

import datetime
import re
import zoneinfo

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.models import Notification
from customers.models import Contact
from interactions.models import FollowUpTask, Holiday
from service.models import SurveyInvitation, TicketEvent
from service.services import surveys
from tests.factories.customers import CustomerFactory
from tests.factories.service import TicketFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LINK = re.compile(r"/s/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()


@pytest.fixture
def ticket(service_agent, rep):
    customer = CustomerFactory(owner=rep, name="杭州云帆科技有限公司", email="info@yunfan.example.com")
    contact = Contact.objects.create(customer=customer, name="王经理", email="wang@yunfan.example.com")
    return TicketFactory(
        customer=customer,
        contact=contact,
        assignee=service_agent,
        status="closed",
        subject="打印机无法联网",
        description="客户的内部网络地址 10.1.2.3，联系人手机 13800000000",
    )


def make_survey(ticket, *, now=None):
    """An invitation with a known token (as if just mailed)."""
    link = surveys.survey_for_closed_ticket(ticket, actor=ticket.assignee, now=now)
    token = "known-token-" + "x" * 40
    SurveyInvitation.objects.filter(pk=link.invitation.pk).update(token_hash=surveys.hash_token(token))
    link.invitation.refresh_from_db()
    return link.invitation, token


def url(token: str) -> str:
    return f"/s/{token}/"


# --- Creating and sending -------------------------------------------------------------------


def test_closing_makes_one_invitation_storing_only_the_hash_and_mails_it_after_commit(
    ticket, service_agent, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        link = surveys.survey_for_closed_ticket(ticket, actor=service_agent, now=now)

    invitation = link.invitation
    assert link.url is None  # the e-mail carries it
    assert invitation.kind == "ticket" and invitation.email == "wang@yunfan.example.com"
    assert len(invitation.token_hash) == 64 and invitation.sent_at is None
    assert invitation.expires_at == now + datetime.timedelta(days=14)
    assert len(callbacks) == 1  # the send task, enqueued on commit
    # One survey per ticket: closing again after a reopen makes none.
    assert surveys.survey_for_closed_ticket(ticket, actor=service_agent) is None
    assert SurveyInvitation.objects.count() == 1


def test_send_mails_a_working_link_in_chinese_once(ticket, service_agent, mailoutbox, client, settings):
    settings.COMPANY_NAME = "云帆服务中心"
    invitation = surveys.survey_for_closed_ticket(ticket, actor=service_agent).invitation

    assert surveys.survey_send(invitation.pk) is True
    assert surveys.survey_send(invitation.pk) is False  # a second delivery sends nothing

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["wang@yunfan.example.com"]
    assert ticket.number in message.subject and "云帆服务中心" in message.subject
    token = LINK.search(message.body).group(1)
    invitation.refresh_from_db()
    assert invitation.sent_at is not None and invitation.token_hash == surveys.hash_token(token)
    response = client.get(url(token))
    assert response.status_code == 200
    assert "打印机无法联网" in response.content.decode()


def test_without_an_email_address_the_link_is_returned_to_show(service_agent, rep):
    customer = CustomerFactory(owner=rep, email="")
    ticket = TicketFactory(customer=customer, assignee=service_agent, status="closed")

    link = surveys.survey_for_closed_ticket(ticket, actor=service_agent)

    assert link.url and link.invitation.email == ""
    assert surveys.survey_by_token(LINK.search(link.url).group(1)) == link.invitation


def test_the_customers_address_is_used_when_the_contact_has_none(service_agent, rep):
    customer = CustomerFactory(owner=rep, email="office@example.com")
    contact = Contact.objects.create(customer=customer, name="李工", email="")
    ticket = TicketFactory(customer=customer, contact=contact, assignee=service_agent, status="closed")

    invitation = surveys.survey_for_closed_ticket(ticket, actor=service_agent).invitation

    assert invitation.email == "office@example.com"


def test_a_failing_mail_server_leaves_the_invitation_pending_for_the_sweep(
    ticket, service_agent, mailoutbox, monkeypatch
):
    invitation = surveys.survey_for_closed_ticket(ticket, actor=service_agent).invitation

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    assert surveys.surveys_deliver() == 0
    invitation.refresh_from_db()
    assert invitation.sent_at is None

    monkeypatch.undo()
    assert surveys.surveys_deliver() == 1
    assert surveys.surveys_deliver() == 0
    assert len(mailoutbox) == 1


# --- The public page ------------------------------------------------------------------------


def test_the_public_page_needs_no_login_and_shows_only_the_ticket_number_and_subject(ticket, client):
    _invitation, token = make_survey(ticket)

    response = client.get(url(token))

    assert response.status_code == 200
    page = response.content.decode()
    assert ticket.number in page and "打印机无法联网" in page
    for private in (
        "杭州云帆科技",
        "王经理",
        "wang@yunfan",
        "10.1.2.3",
        "13800000000",
        ticket.assignee.username,
    ):
        assert private not in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


def test_an_answer_is_recorded_once_with_a_rating_event(ticket, client):
    invitation, token = make_survey(ticket)

    response = client.post(url(token), {"rating": "4", "comment": "  处理很及时  "})

    assert response.status_code == 200 and 'data-state="thanks"' in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.rating == 4 and invitation.comment == "处理很及时" and invitation.answered_at
    event = TicketEvent.objects.get(ticket=ticket, kind="rating")
    assert event.body == "4/5\n处理很及时" and event.actor is None

    again = client.post(url(token), {"rating": "1", "comment": "改主意了"})
    assert 'data-state="answered"' in again.content.decode()
    invitation.refresh_from_db()
    assert invitation.rating == 4
    assert TicketEvent.objects.filter(ticket=ticket, kind="rating").count() == 1
    assert 'data-state="answered"' in client.get(url(token)).content.decode()


def test_an_invalid_score_keeps_the_comment_and_saves_nothing(ticket, client):
    invitation, token = make_survey(ticket)

    response = client.post(url(token), {"rating": "7", "comment": "还行"})

    assert response.status_code == 200
    assert response.context["form"].errors["rating"]
    assert "还行" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_expired_links_get_a_clear_page_and_take_no_answer(ticket, client):
    invitation, token = make_survey(ticket, now=timezone.now() - datetime.timedelta(days=15))

    assert client.get(url(token)).status_code == 410
    response = client.post(url(token), {"rating": "5"})
    assert response.status_code == 410 and 'data-state="expired"' in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


@pytest.mark.parametrize("token", ["A" * 43, "short", "not a token!" * 5, "x" * 300])
def test_unknown_or_malformed_tokens_get_404(ticket, client, token):
    make_survey(ticket)
    response = client.get(url(token))
    assert response.status_code == 404 and 'data-state="unknown"' in response.content.decode()


def test_posting_without_the_csrf_token_is_refused(ticket):
    invitation, token = make_survey(ticket)
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(url(token), {"rating": "1"}).status_code == 403
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_the_page_is_rate_limited_per_address(ticket, client, settings):
    settings.SURVEY_RATE_LIMIT = 3
    _invitation, token = make_survey(ticket)

    codes = [client.get(url(token), REMOTE_ADDR="203.0.113.7").status_code for _ in range(4)]
    guessing = client.get(url("B" * 43), REMOTE_ADDR="203.0.113.7")

    assert codes == [200, 200, 200, 429] and guessing.status_code == 429
    assert 'data-state="limited"' in guessing.content.decode() and guessing["Retry-After"]
    assert client.get(url(token), REMOTE_ADDR="198.51.100.1").status_code == 200  # another address


def test_the_page_works_while_the_cache_is_down(ticket, client, monkeypatch):
    _invitation, token = make_survey(ticket)

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "add", down)
    assert client.get(url(token)).status_code == 200


# --- Low scores -----------------------------------------------------------------------------


def test_a_low_score_opens_an_improvement_task_for_the_lead_of_the_tickets_team(
    ticket, client, service_manager, mailoutbox
):
    invitation, _token = make_survey(ticket)
    # A Friday afternoon answer: the task is due Monday 10:00 (not Saturday).
    friday = datetime.datetime(2026, 3, 6, 15, 0, tzinfo=SHANGHAI)

    surveys.survey_answer(invitation, rating=2, comment="等了太久", now=friday)

    task = FollowUpTask.objects.get(care_key=f"survey:{invitation.pk}")
    assert task.owner == service_manager and task.customer == ticket.customer
    assert task.contact == ticket.contact and task.priority == FollowUpTask.Priority.HIGH
    assert task.due_at == datetime.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)
    assert "2" in task.content and "打印机无法联网" in task.content
    notification = Notification.objects.get(recipient=service_manager, kind="survey_low_score")
    assert notification.url == task.get_absolute_url()
    assert [message.to for message in mailoutbox] == [[service_manager.email]]


def test_the_improvement_task_skips_holidays(ticket, service_manager):
    invitation, _token = make_survey(ticket)
    Holiday.objects.create(name="清明节", date=datetime.date(2026, 4, 6), active=True)
    friday = datetime.datetime(2026, 4, 3, 15, 0, tzinfo=SHANGHAI)

    surveys.survey_answer(invitation, rating=1, now=friday)

    task = FollowUpTask.objects.get(care_key=f"survey:{invitation.pk}")
    assert timezone.localtime(task.due_at, SHANGHAI).date() == datetime.date(2026, 4, 7)


def test_good_scores_open_no_task(ticket, service_manager, settings):
    settings.SURVEY_LOW_SCORE = 2
    invitation, _token = make_survey(ticket)
    surveys.survey_answer(invitation, rating=3)
    assert not FollowUpTask.objects.exists() and not Notification.objects.exists()


def test_without_a_team_lead_any_active_service_manager_gets_the_task(service_manager, rep):
    customer = CustomerFactory(owner=rep, email="boss@example.com", stage="deal")
    invitation = SurveyInvitation.objects.create(
        kind="quarterly",
        token_hash="0" * 64,
        customer=customer,
        period="2026Q1",
        email="boss@example.com",
        expires_at=timezone.now() + datetime.timedelta(days=3),
    )

    surveys.survey_answer(invitation, rating=1)

    task = FollowUpTask.objects.get(care_key=f"survey:{invitation.pk}")
    assert task.owner == service_manager and customer.name in task.content


def test_a_failing_notification_email_does_not_cost_the_customer_their_answer(
    ticket, service_manager, monkeypatch
):
    invitation, _token = make_survey(ticket)

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    surveys.survey_answer(invitation, rating=1)

    invitation.refresh_from_db()
    assert invitation.rating == 1
    assert FollowUpTask.objects.filter(care_key=f"survey:{invitation.pk}").exists()


# --- Resending ------------------------------------------------------------------------------


def test_resend_rotates_the_token_so_only_the_new_link_works(ticket, service_agent, client, mailoutbox):
    invitation, old = make_survey(ticket)

    link = surveys.survey_resend(invitation, actor=service_agent)

    new = LINK.search(link.url).group(1)
    assert client.get(url(old)).status_code == 404
    assert client.get(url(new)).status_code == 200
    assert len(mailoutbox) == 1 and new in mailoutbox[0].body
