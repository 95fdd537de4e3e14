"""/admin: a superuser may read the audit trail and nothing else, not even a superuser may change it."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.users.models import User
from tests.factories import make_user

BASE = "/admin/audit/auditevent/"


@pytest.fixture
def admin_client(db):
    make_user("someone")  # one audit event to look at
    superuser = User.objects.create_superuser(username="boss", password="Unused-pass-1")
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def event(admin_client):
    return AuditEvent.objects.get()


def rows():
    return list(AuditEvent.objects.values())


def test_changelist_renders_for_a_superuser(admin_client, event):
    response = admin_client.get(BASE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "user.create" in content
    assert f"{BASE}add/" not in content  # no "Add" button
    assert "delete_selected" not in content  # no bulk delete action


def test_changelist_search_and_filter(admin_client, event):
    assert admin_client.get(BASE, {"q": event.request_id or "x"}).status_code == 200
    assert admin_client.get(BASE, {"action": "user.create"}).status_code == 200


def test_detail_is_read_only(admin_client, event):
    response = admin_client.get(f"{BASE}{event.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="_save"' not in content
    assert 'name="reason"' not in content  # shown as text, not as an input


def test_add_is_forbidden(admin_client, event):
    before = rows()
    assert admin_client.get(f"{BASE}add/").status_code == 403
    assert admin_client.post(f"{BASE}add/", {"action": "user.create", "result": "success"}).status_code == 403
    assert rows() == before


def test_change_is_forbidden(admin_client, event):
    before = rows()
    response = admin_client.post(f"{BASE}{event.pk}/change/", {"reason": "edited", "result": "failure"})
    assert response.status_code == 403
    assert rows() == before


def test_delete_is_forbidden(admin_client, event):
    before = rows()
    assert admin_client.get(f"{BASE}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{BASE}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(BASE, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert response.status_code in (200, 302, 403)
    assert rows() == before


def test_non_staff_cannot_see_the_trail(db):
    user = User.objects.create_user(username="plain", password="Unused-pass-1")
    client = Client()
    client.force_login(user)
    response = client.get(BASE)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
