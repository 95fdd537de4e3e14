"""What the bot's cache asks core: the versions of its lists, and a list's banned ids (all, or the change since the
version it holds). Each ban, unban and import is one version of the list."""

import pytest

from apps.banlists.bans import ban_list_ban, ban_list_unban
from apps.banlists.imports import ban_list_import, import_parse
from apps.banlists.models import BanList
from tests.banlists.ban_world import error_of, make_list

pytestmark = pytest.mark.django_db


def ids(api, ban_list, since=None):
    path = f"/api/banlists/{ban_list.pk}/ids" + (f"?since={since}" if since is not None else "")
    response = api.get(path)
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def test_a_new_list_is_version_1_and_empty(api):
    ban_list = make_list()
    assert ids(api, ban_list) == {"version": 1, "full": True, "banned": [], "unbanned": []}


def test_since_0_answers_every_active_ban_ascending_and_a_delta_after_a_version(api):
    ban_list = make_list()
    for telegram_user_id in (30, 10, 20):
        ban_list_ban(ban_list=ban_list, telegram_user_id=telegram_user_id, reason="spam")
    assert ids(api, ban_list) == {"version": 4, "full": True, "banned": [10, 20, 30], "unbanned": []}
    ban_list_unban(ban_list=ban_list, telegram_user_id=20)
    ban_list_ban(ban_list=ban_list, telegram_user_id=5)
    assert ids(api, ban_list, since=4) == {"version": 6, "full": False, "banned": [5], "unbanned": [20]}
    assert ids(api, ban_list, since=5) == {"version": 6, "full": False, "banned": [5], "unbanned": []}
    assert ids(api, ban_list, since=6) == {"version": 6, "full": False, "banned": [], "unbanned": []}
    assert ids(api, ban_list, since=0)["banned"] == [5, 10, 30]
    # A version the list never reached: the caller's copy is not of this list, the whole list it is.
    assert ids(api, ban_list, since=99) == {"version": 6, "full": True, "banned": [5, 10, 30], "unbanned": []}


def test_a_ban_again_with_the_same_reason_is_no_new_version_but_a_new_reason_is(api):
    ban_list = make_list()
    ban_list_ban(ban_list=ban_list, telegram_user_id=10, reason="spam")
    assert ban_list_ban(ban_list=ban_list, telegram_user_id=10, reason="spam")["version"] == 2
    assert BanList.objects.get(pk=ban_list.pk).version == 2
    assert ban_list_ban(ban_list=ban_list, telegram_user_id=10, reason="scam")["version"] == 3
    assert ids(api, ban_list, since=2) == {"version": 3, "full": False, "banned": [10], "unbanned": []}
    # Unbanning someone not banned writes nothing.
    assert ban_list_unban(ban_list=ban_list, telegram_user_id=11)["removed"] is False
    assert BanList.objects.get(pk=ban_list.pk).version == 3


def test_an_import_is_one_version_whatever_its_size(api):
    ban_list = make_list()
    ban_list_ban(ban_list=ban_list, telegram_user_id=7)
    rows = import_parse(format="csv", content="\n".join(str(number) for number in range(100, 1100)))
    assert ban_list_import(ban_list=ban_list, rows=rows)["version"] == 3
    delta = ids(api, ban_list, since=2)
    assert (delta["version"], delta["full"], len(delta["banned"]), delta["banned"][:2]) == (3, False, 1000,
                                                                                              [100, 101])
    assert ids(api, ban_list)["banned"][:2] == [7, 100]


def test_versions_answers_the_active_lists_among_those_asked_with_their_names(api):
    first, second, deleted = make_list(name="One"), make_list(name="Two"), make_list(name="Gone", is_active=False)
    ban_list_ban(ban_list=second, telegram_user_id=1)
    unknown = str(int(second.pk) + 1000) if str(second.pk).isdigit() else "0" * 24
    response = api.get(f"/api/banlists/versions?ids={first.pk},{second.pk},{deleted.pk},{unknown}")
    assert response.status_code == 200
    assert response.json()["data"] == {"lists": {str(first.pk): {"version": 1, "name": "One"},
                                                 str(second.pk): {"version": 2, "name": "Two"}}}
    assert api.get("/api/banlists/versions?ids=").json()["data"] == {"lists": {}}
    # An id in the other store's form (24 hex digits on SQL, a number on MongoDB) is an id, of no list here.
    other_form = "0" * 24 if str(first.pk).isdigit() else "12"
    assert api.get(f"/api/banlists/versions?ids={first.pk},{other_form}").json()["data"] == {
        "lists": {str(first.pk): {"version": 1, "name": "One"}}}


def test_versions_refuses_more_than_100_ids_and_ids_that_are_no_list_id(api):
    ban_list = make_list()
    many = ",".join([str(ban_list.pk)] * 101)
    error_of(api.get(f"/api/banlists/versions?ids={many}"), 400, "validation_error")
    error_of(api.get("/api/banlists/versions?ids=not-an-id"), 400, "validation_error")
    error_of(api.get(f"/api/banlists/versions?ids={ban_list.pk},,{ban_list.pk}"), 400, "validation_error")
    error_of(api.get("/api/banlists/versions"), 400, "validation_error")


def test_ids_of_a_deleted_or_unknown_list_is_404_and_a_bad_since_is_400(api):
    deleted = make_list(is_active=False)
    error_of(api.get(f"/api/banlists/{deleted.pk}/ids"), 404, "not_found")
    error_of(api.get("/api/banlists/nope/ids"), 404, "not_found")
    ban_list = make_list()
    for since in ("-1", "x", "1.5", str(2**64)):
        error_of(api.get(f"/api/banlists/{ban_list.pk}/ids?since={since}"), 400, "validation_error")
