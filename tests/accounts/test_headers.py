import re

from django.urls import reverse


def test_pages_send_a_strict_csp_and_security_headers(client, rep):
    client.force_login(rep)
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_and_load_assets_from_our_static_files(client, rep):
    client.force_login(rep)
    page = client.get(reverse("home")).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts, "the base layout loads htmx, Bootstrap and crm.js"
    for attributes, body in scripts:
        assert body.strip() == ""
        assert 'src="/static/' in attributes
    assert "cdn" not in page.lower()
    assert re.search(r'src="/static/vendor/htmx\.org-2\.[0-9.]+/htmx\.min\.js"', page)
