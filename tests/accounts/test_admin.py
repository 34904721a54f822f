from django.urls import reverse

from accounts.models import User


def test_administrator_sees_users_with_team_and_role_columns(client, administrator, rep, lead):
    client.force_login(administrator)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "华东销售一组" in page
    assert "Sales rep" in page
    assert "Sales manager" in page


def test_user_list_filters_by_team_and_role(client, administrator, rep, other_team_rep, team_b):
    client.force_login(administrator)
    response = client.get(reverse("admin:accounts_user_changelist"), {"team__id__exact": team_b.pk})
    usernames = [user.username for user in response.context["cl"].result_list]
    assert "other_team_rep" in usernames
    assert "rep" not in usernames


def test_administrator_sets_team_members_and_lead(client, administrator, team_a, rep, other_team_rep):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:accounts_team_change", args=[team_a.pk]),
        {"name": team_a.name, "lead": rep.pk, "description": "", "members": [rep.pk, other_team_rep.pk]},
    )
    assert response.status_code == 302, response.context["adminform"].errors if response.context else ""
    team_a.refresh_from_db()
    assert team_a.lead == rep
    assert set(team_a.members.values_list("username", flat=True)) == {"rep", "other_team_rep"}
    assert User.objects.get(username="lead").team is None  # taken out of the team


def test_sales_rep_cannot_open_admin(client, rep):
    client.force_login(rep)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "admin/login" in response["Location"]


def test_admin_link_shows_only_for_staff(client, rep, administrator):
    client.force_login(rep)
    assert reverse("admin:index") not in client.get(reverse("home")).content.decode()
    client.force_login(administrator)
    assert reverse("admin:index") in client.get(reverse("home")).content.decode()
