"""The bench's two bounds (bench/views.py): the same decisions as the product's check endpoints, and no audit
event. A bound that decided differently, or recorded, would measure something else than a check without its event."""

import pytest
from django.test import override_settings

from apps.audit.models import AuditEvent
from tests.factories import grant, make_group, make_member, make_user


@pytest.fixture
def checks(db):
    group, other = make_group(), make_group()
    moderator, member, stranger = make_user(), make_user(), make_user()
    for user in (moderator, member):
        make_member(user, group)
    grant(moderator, "moderator", group)
    queries = []
    for user in (moderator, member, stranger):
        for target in (group, other, None):
            for permission in ("BAN_USERS", "MANAGE_ROLES", "VIEW_GROUPS"):
                query = {"user_id": str(user.pk), "permission": permission}
                if target is not None:
                    query["group_id"] = str(target.pk)
                queries.append(query)
    queries.append({"telegram_user_id": moderator.telegram_user_id, "permission": "BAN_USERS",
                    "telegram_chat_id": group.telegram_chat_id})
    queries.append({"telegram_user_id": 987654321012, "permission": "BAN_USERS"})  # nobody on record
    return queries


@override_settings(ROOT_URLCONF="bench.urls")
def test_unrecorded_checks_decide_as_the_product_and_write_no_event(api, checks):
    recorded = [api.post("/api/rbac/check-permission", query).json()["data"] for query in checks]
    recorded_many = api.post("/api/rbac/check-permissions", {"checks": checks}).json()["data"]["results"]
    assert any(answer["allowed"] for answer in recorded) and not all(answer["allowed"] for answer in recorded)

    events = AuditEvent.objects.count()
    unrecorded = [api.post("/bench/check-unrecorded", query).json()["data"] for query in checks]
    unrecorded_many = api.post("/bench/check-many-unrecorded", {"checks": checks}).json()["data"]["results"]

    assert unrecorded == recorded
    assert unrecorded_many == recorded_many == recorded
    assert AuditEvent.objects.count() == events


@override_settings(ROOT_URLCONF="bench.urls")
def test_unrecorded_checks_refuse_bad_bodies_as_the_product_does(api, db):
    for path, product in (("/bench/check-unrecorded", "/api/rbac/check-permission"),
                          ("/bench/check-many-unrecorded", "/api/rbac/check-permissions")):
        for body in ({}, {"permission": ["BAN_USERS"]}, {"checks": []}, {"checks": [{"permission": 5}]}):
            bound, real = api.post(path, body), api.post(product, body)
            assert bound.status_code == real.status_code == 400
            assert bound.json() == real.json()
