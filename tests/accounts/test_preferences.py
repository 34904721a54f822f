from django.urls import reverse

from accounts.models import User


def test_language_switcher_remembers_the_choice_on_the_user(client, rep):
    client.force_login(rep)
    response = client.post(reverse("accounts:set-language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    rep.refresh_from_db()
    assert rep.language == "en"
    page = client.get(reverse("home")).content.decode()
    assert "Workbench" in page
    assert "工作台" not in page


def test_preferred_language_follows_the_user_to_a_new_browser(client, rep):
    User.objects.filter(pk=rep.pk).update(language="en")
    client.force_login(rep)
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in response.content.decode()


def test_anonymous_visitor_can_switch_the_login_page_to_english(client, db):
    client.post(reverse("accounts:set-language"), {"language": "en", "next": reverse("login")})
    page = client.get(reverse("login")).content.decode()
    assert "Log in" in page


def test_language_switcher_ignores_unknown_languages_and_foreign_redirects(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("accounts:set-language"), {"language": "xx", "next": "https://evil.example.com/"}
    )
    assert response["Location"] == "/"
    rep.refresh_from_db()
    assert rep.language == ""


def test_language_switch_needs_post(client, rep):
    client.force_login(rep)
    assert client.get(reverse("accounts:set-language")).status_code == 405


def test_preferences_save_time_zone_and_show_times_in_it(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("accounts:preferences"),
        {
            "display_name": "李娜",
            "email": "lina@example.com",
            "phone": "13800000000",
            "language": "",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.time_zone == "Europe/Berlin"
    assert "Europe/Berlin" in client.get(reverse("home")).content.decode()


def test_preferences_reject_bad_input_and_keep_what_was_typed(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("accounts:preferences"),
        {
            "display_name": "新名字",
            "email": "not-an-email",
            "phone": "",
            "language": "",
            "time_zone": "Mars/Olympus",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "新名字" in page
    assert "not-an-email" in page
    assert "输入一个有效的 Email 地址" in page
    assert "Mars/Olympus 不在可用的选项中" in page
    rep.refresh_from_db()
    assert rep.display_name != "新名字"
