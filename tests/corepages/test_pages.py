"""Core's pages for people: the landing page at /, the favicon, the API docs for a visitor without credentials
(a login link, not a bare 401), the schema in the browsable API, and one "Groups" entry in the admin."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group as AuthGroup
from django.test import Client

from apps.users.models import User

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
PASSWORD = "correct-Horse-battery-9"
ICON_LINK = re.compile(r'<link rel="icon" href="/static/common/favicon\.svg" type="image/svg\+xml">')


def browser(user: User | None = None) -> Client:
    client = Client(HTTP_ACCEPT=BROWSER_ACCEPT)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(username="operator", password=PASSWORD)


def _text(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


# -- the landing page


def test_landing_page_instead_of_a_404(db):
    response = browser().get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'href="/static/admin/css/base.css"' in html  # the admin's own look
    for link in ("/api/docs", "/api/groups", "/api/schema", "/admin/", "/api/health", "/metrics"):
        assert f'href="{link}"' in html, link
    assert '<strong id="version">1.0.0</strong>' in html
    assert 'href="/admin/login/?next=/"' in html  # a visitor is told where to log in


def test_every_link_on_the_landing_page_answers_for_staff(staff):
    client = browser(staff)
    html = client.get("/").content.decode()
    assert "Log out" in html and "/admin/login/" not in html
    links = re.findall(r'<th scope="row"><a href="([^"]+)"', html)
    assert len(links) == 6
    for link in links:
        assert client.get(link).status_code == 200, link


def test_landing_page_answers_only_reads(db):
    assert Client().post("/").status_code == 405
    assert Client().head("/").status_code == 200


# -- favicon


def test_favicon_ico(db):
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header: one image follows
    assert b"PNG" in response.content[:40]
    assert "max-age" in response["Cache-Control"]
    assert Client().post("/favicon.ico").status_code == 405


def test_the_svg_icon_is_served_by_core_itself(db):
    response = Client().get("/static/common/favicon.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert _text(response).startswith("<svg")


@pytest.mark.parametrize("path", ["/", "/api/docs", "/admin/login/", "/api-auth/login/", "/api/groups"])
def test_pages_link_the_icon_for_a_visitor(db, path):
    assert ICON_LINK.search(browser().get(path).content.decode()), path


@pytest.mark.parametrize("path", ["/", "/api/docs", "/admin/", "/admin/groups/group/", "/api/groups", "/api/schema"])
def test_pages_link_the_icon_for_staff(staff, path):
    response = browser(staff).get(path)
    assert response.status_code == 200, path
    assert ICON_LINK.search(response.content.decode()), path


# -- the API docs


def test_docs_for_a_visitor_without_credentials_is_a_page_with_a_login_link(db):
    response = browser().get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'href="/api-auth/login/?next=/api/docs"' in html
    assert "swagger-ui" not in html.lower()  # no docs (nor the schema's address) before logging in
    assert 'href="/static/admin/css/base.css"' in html


def test_the_login_link_leads_back_to_the_docs(staff):
    client = browser()
    login = client.get("/api-auth/login/?next=/api/docs")
    assert login.status_code == 200
    response = client.post("/api-auth/login/?next=/api/docs",
                           {"username": "operator", "password": PASSWORD, "next": "/api/docs"})
    assert (response.status_code, response["Location"]) == (302, "/api/docs")
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert 'id="swagger-ui"' in docs.content.decode()


def test_docs_for_a_signed_in_non_staff_user_say_why(db):
    user = User.objects.create_user(username="member")
    response = browser(user).get("/api/docs")
    assert response.status_code == 403
    html = response.content.decode()
    assert "not a staff account" in html and 'href="/api-auth/login/?next=/api/docs"' in html


def test_a_wrong_key_is_still_refused(db):
    response = Client(HTTP_X_API_KEY="wrong").get("/api/docs")
    assert response.status_code == 401
    assert b"swagger" not in response.content.lower()


def test_docs_load_swagger_ui_from_core_itself(staff):
    client = browser(staff)
    html = client.get("/api/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in asset for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    script = client.get("/api/docs?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_schema_in_the_browsable_api(staff):
    response = browser(staff).get("/api/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "openapi: 3." in response.content.decode()


# -- the admin's one "Groups"


def test_the_admin_has_one_groups_entry_for_telegram_groups(staff):
    assert not admin.site.is_registered(AuthGroup)
    html = browser(staff).get("/admin/").content.decode()
    entries = re.findall(r'<a href="([^"]+)"[^>]*>Groups</a>', html)
    assert entries == ["/admin/groups/group/"]
    assert browser(staff).get("/admin/auth/group/").status_code == 404


def test_the_user_form_has_no_auth_groups(staff):
    html = browser(staff).get(f"/admin/users/user/{staff.pk}/change/").content.decode()
    assert 'name="is_superuser"' in html
    assert 'name="groups"' not in html
