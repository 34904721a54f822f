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
