"""In-app notifications: notify() and its e-mail, the bell, the notifications page (only one's own),
marking read in place and without JavaScript, and the e-mail choices on the preferences page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import notifications
from accounts.models import Notification, NotificationEmailChoice
from interactions.services.reminders import KIND_DUE_SOON, KIND_OVERDUE, register_notification_kinds
from tests.factories.accounts import UserFactory
from tests.factories.notifications import NotificationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:notification-list")
READ_ALL = reverse("accounts:notification-read-all")
PREFERENCES = reverse("accounts:preferences")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def kinds():
    register_notification_kinds()


def url(name: str, notification: Notification) -> str:
    return reverse(f"accounts:{name}", args=[notification.pk])


# --- notify() ------------------------------------------------------------------------------


def test_notify_creates_the_notification_and_mails_the_recipient(rep, mailoutbox):
    notification = notifications.notify(
        recipient=rep,
        kind=KIND_DUE_SOON,
        title="Follow-up task due tomorrow: 回访",
        body="Customer: 杭州云帆",
        url="/tasks/1/",
        email_template="task_reminder",
        email_context={"lines": ["Customer: 杭州云帆"]},
    )

    assert Notification.objects.get().pk == notification.pk
    assert notification.recipient == rep and notification.read_at is None
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [rep.email]
    assert message.subject == "Follow-up task due tomorrow: 回访"
    assert "/tasks/1/" in message.body and "杭州云帆" in message.body
    assert message.alternatives and "Follow-up task due tomorrow" in message.alternatives[0][0]


def test_notify_sends_no_email_to_a_user_who_opted_out_or_has_no_address(rep, teammate, mailoutbox):
    NotificationEmailChoice.objects.create(user=rep, kind=KIND_DUE_SOON, email=False)
    teammate.email = ""
    teammate.save()

    for user in (rep, teammate):
        notifications.notify(recipient=user, kind=KIND_DUE_SOON, title="t", email_template="task_reminder")
    # Another kind is still mailed to the user who opted out of this one.
    notifications.notify(recipient=rep, kind=KIND_OVERDUE, title="overdue", email_template="task_reminder")

    assert Notification.objects.count() == 3
    assert [message.subject for message in mailoutbox] == ["overdue"]


def test_notify_refuses_an_unregistered_kind(rep):
    with pytest.raises(LookupError):
        notifications.notify(recipient=rep, kind="no_such_kind", title="t")
    assert not Notification.objects.exists()


# --- The bell ------------------------------------------------------------------------------


def test_bell_shows_the_unread_count_of_the_user_only(client, rep, teammate):
    NotificationFactory.create_batch(3, recipient=rep)
    NotificationFactory(recipient=rep, read_at=timezone.now())
    NotificationFactory.create_batch(5, recipient=teammate)
    client.force_login(rep)

    page = client.get(reverse("accounts:preferences")).content.decode()

    bell = page[page.index('id="notification-bell"') :][:800]
    assert '<span class="badge rounded-pill text-bg-danger ms-1" aria-hidden="true">3</span>' in bell


def test_bell_costs_one_query(client, rep):
    NotificationFactory.create_batch(3, recipient=rep)
    client.force_login(rep)

    with CaptureQueriesContext(connection) as context:
        client.get(PREFERENCES)
    counts = [
        query["sql"] for query in context.captured_queries if 'FROM "accounts_notification" ' in query["sql"]
    ]
    assert len(counts) == 1 and "COUNT(" in counts[0]


# --- The notifications page ----------------------------------------------------------------


def test_page_lists_own_notifications_newest_first_unread_highlighted(client, rep, teammate):
    old = NotificationFactory(
        recipient=rep, title="较早的提醒", created_at=timezone.now() - datetime.timedelta(hours=2)
    )
    new = NotificationFactory(recipient=rep, title="最新的提醒")
    read = NotificationFactory(recipient=rep, title="已读的提醒", read_at=timezone.now())
    NotificationFactory(recipient=teammate, title="同事的提醒")
    client.force_login(rep)

    page = client.get(LIST).content.decode()

    assert page.index("最新的提醒") < page.index("较早的提醒")
    assert "同事的提醒" not in page
    assert f'id="notification-{new.pk}" data-unread="1"' in page
    assert f'id="notification-{old.pk}" data-unread="1"' in page
    assert f'id="notification-{read.pk}" data-unread="0"' in page
    assert page.count('id="notification-bell"') == 1 and "hx-swap-oob" not in page


def test_page_is_paginated(client, rep):
    NotificationFactory.create_batch(30, recipient=rep)
    client.force_login(rep)

    first = client.get(LIST).content.decode()
    second = client.get(LIST, {"page": 2}).content.decode()

    assert first.count('data-unread="1"') == 25
    assert second.count('data-unread="1"') == 5


def test_page_queries_do_not_grow_with_rows(client, rep, django_assert_max_num_queries):
    client.force_login(rep)
    NotificationFactory(recipient=rep)

    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    NotificationFactory.create_batch(24, recipient=rep)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(LIST).status_code == 200


def test_opening_marks_read_and_goes_to_its_page(client, rep):
    notification = NotificationFactory(recipient=rep, url="/tasks/42/")
    client.force_login(rep)

    response = client.post(url("notification-open", notification))

    assert response.status_code == 302 and response["Location"] == "/tasks/42/"
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize(
    "target", ["https://evil.example.com/x", "//evil.example.com/x", "javascript:alert(1)"]
)
def test_opening_never_leaves_the_site(client, rep, target):
    notification = NotificationFactory(recipient=rep, url=target)
    client.force_login(rep)

    response = client.post(url("notification-open", notification))

    assert response["Location"] == LIST


def test_opening_is_post_only(client, rep):
    notification = NotificationFactory(recipient=rep)
    client.force_login(rep)

    assert client.get(url("notification-open", notification)).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize("name", ["notification-open", "notification-read"])
def test_other_user_gets_404_for_someone_elses_notification_and_it_stays_unread(
    client, rep, other_team_rep, teammate, name
):
    notification = NotificationFactory(recipient=rep)
    for intruder in (other_team_rep, teammate):
        client.force_login(intruder)
        assert client.post(url(name, notification)).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_read_without_javascript_redirects_to_the_page(client, rep):
    notification = NotificationFactory(recipient=rep)
    client.force_login(rep)

    response = client.post(url("notification-read", notification))

    assert response.status_code == 302 and response["Location"] == LIST
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_read_in_place_returns_the_row(client, rep):
    notification = NotificationFactory(recipient=rep, title="行内标记")
    client.force_login(rep)

    response = client.post(url("notification-read", notification), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith("<li") and "行内标记" in html and 'data-unread="0"' in html
    assert "<html" not in html
    assert 'id="notification-bell" href="/accounts/notifications/" hx-swap-oob="true"' in html
    assert "text-bg-danger" not in html  # nothing unread any more: the bell shows no count
    assert "HX-Request" in response["Vary"]


def test_mark_all_read_touches_only_the_users_own(client, rep, teammate):
    mine = NotificationFactory.create_batch(3, recipient=rep)
    theirs = NotificationFactory(recipient=teammate)
    client.force_login(rep)

    response = client.post(READ_ALL, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and 'id="notifications"' in html and "<html" not in html
    assert html.count('id="notification-bell"') == 1 and 'hx-swap-oob="true"' in html
    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post(READ_ALL)["Location"] == LIST


def test_anonymous_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- E-mail choices on the preferences page ------------------------------------------------


def test_preferences_list_every_kind_ticked_by_default(client, rep):
    client.force_login(rep)

    page = client.get(PREFERENCES).content.decode()

    for kind in notifications.kinds():
        assert f'value="{kind.key}"' in page
    assert page.count('name="email_kinds"') == len(notifications.kinds())
    assert page.count("checked") >= len(notifications.kinds())


def test_preferences_save_the_email_choices(client, rep, mailoutbox):
    client.force_login(rep)
    data = {
        "display_name": "小王",
        "email": rep.email,
        "phone": "",
        "language": "",
        "time_zone": "",
        "email_kinds": [KIND_OVERDUE],
    }

    response = client.post(PREFERENCES, data)

    assert response.status_code == 302
    assert notifications.email_kinds_of(rep) == {KIND_OVERDUE}
    assert not notifications.wants_email(rep, KIND_DUE_SOON)
    # Ticking it again turns it back on.
    client.post(PREFERENCES, data | {"email_kinds": [KIND_OVERDUE, KIND_DUE_SOON]})
    assert notifications.wants_email(rep, KIND_DUE_SOON)


def test_preferences_refuse_an_unknown_kind_and_save_nothing(client, rep):
    client.force_login(rep)
    data = {"display_name": "改过的名字", "email": rep.email, "email_kinds": ["no_such_kind"]}

    response = client.post(PREFERENCES, data)

    assert response.status_code == 200
    assert "改过的名字" in response.content.decode()  # what was typed is shown again
    rep.refresh_from_db()
    assert rep.display_name != "改过的名字"
    assert not NotificationEmailChoice.objects.filter(user=rep).exists()


def test_a_new_user_wants_every_kind_by_email(db):
    register_notification_kinds()
    user = UserFactory()
    assert notifications.email_kinds_of(user) == {kind.key for kind in notifications.kinds()}


def test_marking_read_is_never_done_by_a_get(client, rep):
    notification = NotificationFactory(recipient=rep)
    client.force_login(rep)

    assert client.get(url("notification-read", notification)).status_code == 405
    assert client.get(READ_ALL).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_page_counts_unread_notifications_once(client, rep):
    NotificationFactory.create_batch(2, recipient=rep)
    client.force_login(rep)

    with CaptureQueriesContext(connection) as context:
        page = client.get(LIST).content.decode()

    unread_counts = [
        query["sql"]
        for query in context.captured_queries
        if 'FROM "accounts_notification"' in query["sql"] and '"read_at" IS NULL' in query["sql"]
    ]
    assert len(unread_counts) == 1
    assert '<span class="badge rounded-pill text-bg-danger ms-1" aria-hidden="true">2</span>' in page
