"""Segments (客户分组): saved list filters, own or shared with the team, always applied in scope."""

import pytest
from django.urls import reverse

from customers.models import Segment
from customers.services.segments import segment_create
from tests.factories.accounts import UserFactory
from tests.factories.customers import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:customer-list")
CREATE = reverse("customers:segment-create")


def _delete_url(segment: Segment) -> str:
    return reverse("customers:segment-delete", args=[segment.pk])


def test_rep_saves_the_current_filters_as_a_segment(client, rep):
    client.force_login(rep)
    response = client.post(
        CREATE, {"name": "A类意向客户", "query": "q=&value_class=A&stage=intent&page=4", "shared": ""}
    )
    segment = Segment.objects.get(owner=rep)
    assert (segment.name, segment.query, segment.shared, segment.team) == (
        "A类意向客户",
        "value_class=A&stage=intent",
        False,
        None,
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?value_class=A&stage=intent"
    page = client.get(response["Location"]).content.decode()
    assert "A类意向客户" in page


def test_shared_segment_is_tied_to_the_team(client, rep, team_a):
    client.force_login(rep)
    client.post(CREATE, {"name": "团队分组", "query": "kind=individual", "shared": "on"})
    segment = Segment.objects.get()
    assert segment.shared and segment.team == team_a


def test_duplicate_name_is_a_form_error_and_keeps_the_input(client, rep):
    SegmentFactory(owner=rep, name="重点客户")
    client.force_login(rep)
    response = client.post(CREATE, {"name": "重点客户", "query": "value_class=A"})
    assert response.status_code == 200
    assert response.context["segment_form"].errors["name"]
    page = response.content.decode()
    assert 'value="重点客户"' in page
    assert '<details class="position-relative" open>' in page
    assert Segment.objects.count() == 1


def test_same_name_is_fine_for_another_user(client, rep, teammate):
    SegmentFactory(owner=teammate, name="重点客户")
    segment = segment_create(actor=rep, name="重点客户", query="value_class=A")
    assert segment.owner == rep


def test_sharing_without_a_team_is_refused(client, director):
    client.force_login(director)
    response = client.post(CREATE, {"name": "全部", "query": "", "shared": "on"})
    assert response.status_code == 200
    assert response.context["segment_form"].errors["shared"]
    assert not Segment.objects.exists()


def test_menu_lists_own_and_team_shared_segments_only(client, rep, teammate, other_team_rep, team_a, team_b):
    SegmentFactory(owner=rep, name="我的分组")
    SegmentFactory(owner=teammate, name="同事共享", shared=True, team=team_a)
    SegmentFactory(owner=teammate, name="同事私有")
    SegmentFactory(owner=other_team_rep, name="别组共享", shared=True, team=team_b)
    client.force_login(rep)
    assert {segment.name for segment in client.get(LIST).context["segments"]} == {"我的分组", "同事共享"}


def test_applying_a_shared_segment_stays_in_the_viewers_scope(client, rep, teammate, team_a):
    segment = SegmentFactory(owner=rep, name="A类", query="value_class=A", shared=True, team=team_a)
    mine = CustomerFactory(owner=rep, name="代表的A类", value_class="A")
    theirs = CustomerFactory(owner=teammate, name="同事的A类", value_class="A")
    CustomerFactory(owner=teammate, name="同事的C类", value_class="C")
    client.force_login(teammate)
    page = client.get(LIST).content.decode()
    assert f'href="{LIST}?{segment.query}"' in page
    shown = {customer.name for customer in client.get(f"{LIST}?{segment.query}").context["customers"]}
    assert shown == {theirs.name}
    assert mine.name not in shown


def test_owner_deletes_own_segment(client, rep):
    segment = SegmentFactory(owner=rep)
    client.force_login(rep)
    response = client.post(_delete_url(segment), {"query": "kind=enterprise"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?kind=enterprise"
    assert not Segment.objects.exists()


def test_teammate_gets_404_deleting_a_shared_segment(client, rep, teammate, team_a):
    segment = SegmentFactory(owner=rep, shared=True, team=team_a)
    client.force_login(teammate)
    assert client.post(_delete_url(segment)).status_code == 404
    assert Segment.objects.filter(pk=segment.pk).exists()


@pytest.mark.parametrize("persona", ["other_team_rep", "lead", "director"])
def test_others_get_404_deleting_a_segment(client, rep, persona, request):
    segment = SegmentFactory(owner=rep)
    client.force_login(request.getfixturevalue(persona))
    assert client.post(_delete_url(segment)).status_code == 404
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_segment_urls_need_post(client, rep):
    segment = SegmentFactory(owner=rep)
    client.force_login(rep)
    assert client.get(CREATE).status_code == 405
    assert client.get(_delete_url(segment)).status_code == 405


def test_user_without_view_permission_cannot_save_segments(client, db):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    assert client.post(CREATE, {"name": "x", "query": ""}).status_code == 403
