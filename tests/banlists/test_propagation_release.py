"""A stopping bot gives back what it claimed and has not started (`POST /api/banlists/propagations/release`): the
pending rows lose their lease and the next claim takes them at once, rows done or failed (or unknown) are left as
they are, releasing twice changes nothing, bad bodies are a 400, and the bot's key (its scope) may call it through
the core client while web's may not."""

import pytest
from django.utils import timezone

from apps.banlists.bans import ban_list_ban
from apps.banlists.models import Propagation
from apps.coreclient import CoreClient, CoreError
from tests.banlists.ban_world import error_of, make_list, subscribed_groups

pytestmark = pytest.mark.django_db
CLAIM = "/api/banlists/propagations/claim"
RELEASE = "/api/banlists/propagations/release"


def claim(api, **body):
    response = api.post(CLAIM, body)
    assert response.status_code == 200, response.json()
    return response.json()["data"]["results"]


def release(api, ids):
    response = api.post(RELEASE, {"ids": ids})
    assert response.status_code == 200, response.json()
    return response.json()["data"]["released"]


def owed(count: int = 3):
    ban_list = make_list()
    subscribed_groups(ban_list, count)
    ban_list_ban(ban_list=ban_list, telegram_user_id=501, reason="spam")
    return ban_list


def test_released_rows_are_claimable_at_once_and_the_others_stay_leased(api):
    owed(3)
    first, second, third = claim(api, limit=3, lease_seconds=600)
    assert claim(api) == []  # all leased for ten minutes
    assert release(api, [first["id"], second["id"]]) == 2
    assert {row.pk for row in Propagation.objects.filter(claimed_until__isnull=True)} == {
        Propagation.objects.get(pk=first["id"]).pk, Propagation.objects.get(pk=second["id"]).pk}
    again = claim(api, limit=50, lease_seconds=60)
    assert sorted(row["id"] for row in again) == sorted([first["id"], second["id"]])
    assert all(Propagation.objects.get(pk=row["id"]).claims == 2 for row in again)
    still = Propagation.objects.get(pk=third["id"])
    assert still.claimed_until > timezone.now() and still.claims == 1  # not named: its lease stands


def test_releasing_twice_done_failed_or_unknown_rows_changes_nothing(api):
    owed(3)
    done, failed, leased = claim(api, limit=3, lease_seconds=600)
    assert api.post(f"/api/banlists/propagations/{done['id']}/complete", {}).status_code == 200
    assert api.post(f"/api/banlists/propagations/{failed['id']}/complete", {"error": "Forbidden"}).status_code == 200
    unknown = "999999999" if isinstance(Propagation.objects.first().pk, int) else "0123456789abcdef01234567"
    assert release(api, [done["id"], failed["id"], unknown]) == 0
    assert [(row.status, row.claimed_until) for row in Propagation.objects.filter(
        pk__in=[Propagation.objects.get(pk=done["id"]).pk, Propagation.objects.get(pk=failed["id"]).pk])
        .order_by("status")] == [("done", None), ("failed", None)]
    assert release(api, [leased["id"], leased["id"]]) == 1  # named twice: released once
    assert release(api, [leased["id"]]) == 0  # already released
    assert Propagation.objects.get(pk=leased["id"]).status == "pending"


@pytest.mark.parametrize("body", [
    {}, {"ids": []}, {"ids": "1"}, {"ids": ["not-an-id"]}, {"ids": [None]}, {"ids": [True]}, {"ids": [{"id": 1}]},
    {"ids": ["1"] * 1001},
])
def test_a_bad_body_is_a_400_and_changes_nothing(api, body):
    owed(1)
    (row,) = claim(api, lease_seconds=600)
    error_of(api.post(RELEASE, body), 400, "validation_error")
    assert Propagation.objects.get(pk=row["id"]).claimed_until is not None


def test_the_bots_core_client_releases_and_webs_key_is_refused(core_app):
    owed(2)
    core = CoreClient("http://testserver", "bot-key", transport=core_app)
    rows = core.ban_propagations_claim(limit=2, lease_seconds=600)["results"]
    with pytest.raises(CoreError) as refused:
        CoreClient("http://testserver", "web-key", transport=core_app).ban_propagations_release([rows[0]["id"]])
    assert refused.value.status_code == 403
    assert core.ban_propagations_release([row["id"] for row in rows]) == {"released": 2}
    assert core.ban_propagations_release([row["id"] for row in rows]) == {"released": 0}
    assert sorted(row["id"] for row in core.ban_propagations_claim(limit=5, lease_seconds=60)["results"]) == sorted(
        row["id"] for row in rows)
