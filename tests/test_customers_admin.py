from django.urls import reverse
from django.utils import translation

from customers.models import Source


def test_administrator_adds_a_source_that_shows_in_the_users_language(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:customers_source_add"),
        {"name": "抖音直播", "name_en": "Douyin live stream", "order": 5, "active": "on"},
    )
    assert response.status_code == 302
    source = Source.objects.get(name="抖音直播")
    assert str(source) == "抖音直播"  # zh-hans is active in tests
    with translation.override("en"):
        assert str(source) == "Douyin live stream"


def test_sales_rep_cannot_edit_sources(client, rep):
    client.force_login(rep)
    response = client.get(reverse("admin:customers_source_changelist"))
    assert response.status_code == 302
    assert "admin/login" in response["Location"]


def test_administrator_adds_a_tag_dimension_with_its_tags(client, administrator):
    from customers.models import Tag, TagDimension

    client.force_login(administrator)
    response = client.post(
        reverse("admin:customers_tagdimension_add"),
        {
            "name": "预算",
            "name_en": "Budget",
            "order": 50,
            "active": "on",
            "tags-TOTAL_FORMS": "2",
            "tags-INITIAL_FORMS": "0",
            "tags-0-name": "预算充足",
            "tags-0-order": 10,
            "tags-0-active": "on",
            "tags-1-name": "预算紧张",
            "tags-1-order": 20,
            "tags-1-active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    dimension = TagDimension.objects.get(name="预算")
    assert set(Tag.objects.filter(dimension=dimension).values_list("name", flat=True)) == {
        "预算充足",
        "预算紧张",
    }
    listing = client.get(reverse("admin:customers_tag_changelist"), {"dimension__id__exact": dimension.pk})
    assert "预算充足" in listing.content.decode()


def test_sales_manager_cannot_edit_tags_in_admin(client, lead):
    client.force_login(lead)
    response = client.get(reverse("admin:customers_tag_changelist"))
    assert response.status_code == 302
