import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from tests.factories.accounts import PASSWORD


def login(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_anonymous_user_is_sent_to_login_from_every_page(client, db):
    for url in [reverse("home"), reverse("accounts:preferences"), reverse("password_change")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_rep_logs_in_and_lands_on_workbench_in_chinese(client, rep):
    response = login(client, "rep", PASSWORD, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    page = response.content.decode()
    assert "工作台" in page
    assert "销售代表" in page  # the role, translated
    assert "华东销售一组" in page


def test_wrong_password_shows_translated_error_and_keeps_username(client, rep):
    response = login(client, "rep", "wrong-password")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="rep"' in page
    assert "请输入一个正确的" in page  # Django's own zh-hans message for invalid credentials


def test_five_failures_lock_the_account_for_this_address(client, rep):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "rep", "wrong-password")
    response = login(client, "rep", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "登录失败次数过多" in page
    assert "请在 15 分钟后重试" in page
    assert "_auth_user_id" not in client.session


def test_lockout_page_states_the_configured_lockout_length(client, rep, settings):
    import datetime

    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=40)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "rep", "wrong-password")
    assert "请在 40 分钟后重试" in login(client, "rep", PASSWORD).content.decode()


def test_lockout_is_per_address_so_another_office_can_still_log_in(client, rep):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "rep", "wrong-password")
    response = login(client, "rep", PASSWORD, REMOTE_ADDR="10.0.0.99")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(rep.pk)


def test_a_successful_login_resets_the_failure_count(client, rep):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "rep", "wrong-password")
    assert login(client, "rep", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "rep", "wrong-password")
    assert login(client, "rep", PASSWORD).status_code == 302


def test_login_rotates_the_session_key(client, rep):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    login(client, "rep", PASSWORD)
    assert client.session.session_key != before


def test_logout_needs_post_and_ends_the_session(client, rep):
    client.force_login(rep)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_change_rejects_weak_password_and_keeps_user_logged_in(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "这个密码太常见了" in response.content.decode()
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-pass-42",
            "new_password2": "a-much-better-pass-42",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("a-much-better-pass-42")
    assert client.get(reverse("home")).status_code == 200


def test_password_change_logs_out_other_sessions(client, rep, django_user_model):
    from django.test import Client

    other_device = Client()
    other_device.force_login(rep)
    client.force_login(rep)
    client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-pass-42",
            "new_password2": "a-much-better-pass-42",
        },
    )
    assert other_device.get(reverse("home")).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client, rep, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": rep.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [rep.email]
    assert "重置" in mail.subject
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-secret-77", "new_password2": "brand-new-secret-77"},
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("brand-new-secret-77")


def test_password_reset_for_unknown_address_reveals_nothing(client, db, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_session_expires_after_the_configured_age(client, rep):
    client.force_login(rep)
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60


@pytest.mark.parametrize(("url_name", "heading"), [("login", "登录"), ("password_reset", "重置密码")])
def test_public_auth_pages_open_without_login(client, db, url_name, heading):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert f'<h1 class="h4 mb-3">{heading}</h1>' in response.content.decode()


def test_inactive_user_cannot_log_in(client, rep):
    User.objects.filter(pk=rep.pk).update(is_active=False)
    response = login(client, "rep", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
