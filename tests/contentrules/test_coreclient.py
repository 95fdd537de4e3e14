"""The core client's content-rule methods against the real core app (sync and async): what the bot's commands and
the dashboard's editors call, core's refusals as typed errors, and the settings' compiled rules."""

import asyncio

import pytest

from apps.coreclient import AsyncCoreClient, CoreClient, CoreError
from apps.coreclient.ids import InvalidId
from tests.factories import grant, make_group, make_member, make_user


@pytest.fixture
def client(core_app):
    core = CoreClient("http://testserver", "bot-key", transport=core_app)
    yield core
    core.close()


@pytest.fixture
def scene(db):
    group, admin, member = make_group(), make_user(), make_user()
    make_member(admin, group)
    make_member(member, group)
    grant(admin, "admin", group)
    return group, admin, member


def test_every_content_rule_round_trips_and_reaches_the_cached_settings(client, core_app, scene):
    group, admin, _ = scene
    gid, actor = str(group.pk), {"actor_telegram_user_id": admin.telegram_user_id}
    locked = client.locks_update(gid, locks={"sticker": {"mode": "warn"}, "links": {"mode": "delete"}}, **actor)
    assert (locked["version"], sorted(locked["locks"])) == (2, ["sticker", "url"])
    assert client.locks_get(gid) == locked
    assert client.blocklist_add(gid, entries=[{"pattern": "buy*now", "mode": "ban"}, {"pattern": "scam"}],
                                **actor) == {"version": 3, "added": 2, "updated": 0}
    assert [item["pattern"] for item in client.blocklist_get(gid)["items"]] == ["buy*now", "scam"]
    saved = client.filter_save(gid, trigger="hello", text="Hi!", buttons=[[{"text": "Site",
                                                                             "url": "https://example.com"}]], **actor)
    assert (saved["trigger"], saved["version"]) == ("hello", 4)
    assert client.filters_get(gid)["items"][0]["buttons"] == [[{"text": "Site", "url": "https://example.com"}]]
    note = client.note_save(gid, name="Rules", text="Be kind", **actor)
    assert (note["name"], note["version"]) == ("rules", 5)
    assert client.note_get(gid, "RULES")["text"] == "Be kind"
    assert [item["name"] for item in client.notes_get(gid)["items"]] == ["rules"]

    settings = client.protection_settings(group.telegram_chat_id)
    assert (settings.version, settings.notes, len(settings.blocklist), settings.blocklist_action) == (
        5, ("rules",), 2, "delete")
    assert settings.rules is settings.rules  # compiled once, on first use
    verdict = settings.rules.evaluate({"text": "please buynow", "chat": {"id": group.telegram_chat_id}})
    assert (verdict.rule, verdict.kind, verdict.mode) == ("blocklist", "buy*now", "ban")
    assert settings.rules.match_filter("well hello there")["trigger"] == "hello"
    assert settings.rules.note_request("#rules please") == "rules"

    web = CoreClient("http://testserver", "web-key", transport=core_app)  # the dashboard's "test a message"
    try:
        explained = web.protection_test(gid, text="buynow", acting_user_id=str(admin.pk))
    finally:
        web.close()
    assert (explained["verdict"]["kind"], explained["blocklist"], explained["version"]) == ("buy*now", ["buy*now"], 5)

    assert client.blocklist_remove(gid, patterns=["SCAM"], **actor) == {"version": 6, "removed": 1}
    assert client.blocklist_clear(gid, **actor)["removed"] == 1
    assert client.filters_remove(gid, triggers=["hello"], **actor)["removed"] == 1
    assert client.filters_clear(gid, **actor)["removed"] == 0
    assert client.notes_remove(gid, names=["rules"], **actor)["removed"] == 1
    assert client.notes_clear(gid, **actor) == {"version": 9, "removed": 0}
    emptied = client.protection_settings(group.telegram_chat_id)
    assert (emptied.blocklist, emptied.filters, emptied.notes, len(emptied.locks)) == ((), (), (), 2)


def test_refusals_are_typed_errors(client, scene):
    group, _, member = scene
    gid = str(group.pk)
    with pytest.raises(CoreError) as denied:
        client.locks_update(gid, locks={"photo": {"mode": "delete"}}, actor_telegram_user_id=member.telegram_user_id)
    assert (denied.value.code, denied.value.details["permission"]) == ("permission_denied", "MANAGE_SETTINGS")
    with pytest.raises(CoreError) as bad:
        client.blocklist_add(gid, entries=[{"pattern": "spam", "mode": "tban"}])
    assert bad.value.code == "validation_error" and "entries[0].duration_seconds" in bad.value.details
    with pytest.raises(CoreError) as stale:
        client.note_save(gid, name="x", text="y", expected_version=7)
    assert (stale.value.code, stale.value.details["version"]) == ("conflict", 1)
    with pytest.raises(CoreError) as missing:
        client.note_get(gid, "nothing")
    assert missing.value.code == "not_found"
    with pytest.raises(InvalidId):
        client.note_get(gid, "../locks")
    with pytest.raises(TypeError):
        client.blocklist_clear(gid, actor_id=1)  # a misspelt write argument is not silently dropped


def test_the_async_client_speaks_the_same(core_app, scene, live_server):
    group, admin, _ = scene

    async def scenario():
        core = AsyncCoreClient(live_server.url, "web-key")
        try:
            saved = await core.note_save(str(group.pk), name="faq", text="Read the pinned message",
                                         actor_user_id=str(admin.pk))
            listed = await core.notes_get(str(group.pk))
            tested = await core.protection_test(str(group.pk), text="#faq")
            return saved, listed, tested
        finally:
            await core.aclose()

    saved, listed, tested = asyncio.run(scenario())
    assert (saved["name"], [item["name"] for item in listed["items"]], tested["note"]) == ("faq", ["faq"], "faq")
