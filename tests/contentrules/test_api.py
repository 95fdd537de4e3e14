"""Core's content-rule endpoints (locks, blocklist, filters, notes, the test of a message): every write versioned,
audited once and checked for MANAGE_SETTINGS; bad input a 400 naming the field, nothing written; the limits held.
Every answer is checked against core's OpenAPI schema by the test client."""

import pytest

from apps.audit.models import AuditEvent
from apps.contentrules.models import BlocklistEntry, ChatFilter, Lock, Note
from apps.groups.models import Group
from tests.factories import grant, make_group, make_member, make_user


@pytest.fixture
def scene(db):
    group, admin, member = make_group(), make_user(), make_user()
    make_member(admin, group)
    make_member(member, group)
    grant(admin, "admin", group)
    return group, admin, member


LOOKALIKE_SPAM = "\u0405\u0420\u0410\u041c"  # "SPAM" in Cyrillic capitals: Dze, Er, A, Em


def url(group, tail: str) -> str:
    return f"/api/groups/{group.pk}/{tail}"


def version(group) -> int:
    return Group.objects.get(pk=group.pk).settings_version


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["data"]


def refused(response, status: int, code: str) -> dict:
    body = response.json()
    assert (response.status_code, body["success"], body["error"]) == (status, False, code), body
    return body


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


# -- locks

def test_locking_and_unlocking_bumps_the_version_audits_and_shows_in_the_settings(api, scene):
    group, admin, _ = scene
    data = ok(api.patch(url(group, "locks"), {"locks": {
        "sticker": {"mode": "delete"}, "url": {"mode": "tmute", "duration_seconds": 3600, "reason": "no links"},
        "invite": {}}, "actor_user_id": str(admin.pk)}))
    assert data == {"version": 2, "locks": {
        "invitelink": {"mode": "delete", "duration_seconds": None, "reason": ""},
        "sticker": {"mode": "delete", "duration_seconds": None, "reason": ""},
        "url": {"mode": "tmute", "duration_seconds": 3600, "reason": "no links"}}}
    event = audits("protection.lock")[0]
    assert (event.actor_user_id, event.group_id, event.details["version"]) == (str(admin.pk), str(group.pk), 2)
    assert sorted(event.details["locked"]) == ["invitelink", "sticker", "url"]
    settings = ok(api.get(url(group, "protection")))
    assert settings["locks"] == data["locks"] and settings["version"] == 2
    # The same again changes nothing; null unlocks (an unlocked type too: nothing to do for it).
    assert ok(api.patch(url(group, "locks"), {"locks": {"sticker": {"mode": "delete"}}}))["version"] == 2
    data = ok(api.patch(url(group, "locks"), {"locks": {"sticker": None, "gif": None}}))
    assert (data["version"], sorted(data["locks"])) == (3, ["invitelink", "url"])
    assert audits("protection.lock")[-1].details["unlocked"] == ["sticker"]
    assert len(audits("protection.lock")) == 2
    assert ok(api.get(url(group, "locks"))) == data


@pytest.mark.parametrize("locks, field", [
    ({"stickerz": {"mode": "delete"}}, "locks.stickerz"),
    ({"sticker": {"mode": "explode"}}, "locks.sticker.mode"),
    ({"sticker": {"mode": "tban"}}, "locks.sticker.duration_seconds"),
    ({"sticker": {"mode": "tban", "duration_seconds": 10}}, "locks.sticker.duration_seconds"),
    ({"sticker": {"mode": "ban", "duration_seconds": 3600}}, "locks.sticker.duration_seconds"),
    ({"sticker": {"mode": "delete", "reason": "x" * 513}}, "locks.sticker.reason"),
    ({"sticker": {"mode": "delete", "colour": "red"}}, "locks.sticker"),
    ({"sticker": "delete"}, "locks.sticker"),
])
def test_bad_locks_are_a_400_naming_the_field_and_nothing_is_written(api, scene, locks, field):
    group, _, _ = scene
    body = refused(api.patch(url(group, "locks"), {"locks": {"photo": {"mode": "delete"}, **locks}}), 400,
                   "validation_error")
    assert field in body["details"], body
    assert (version(group), Lock.objects.count()) == (1, 0)


def test_an_unknown_lock_type_is_refused_with_the_known_ones(api, scene):
    group, _, _ = scene
    body = refused(api.patch(url(group, "locks"), {"locks": {"stickerz": None}}), 400, "validation_error")
    assert "sticker" in body["message"] and "anonchannel" in body["message"]


def test_a_write_needs_manage_settings_of_the_actor(api, scene):
    group, admin, member = scene
    grant(member, "moderator", group)  # moderates, but does not change settings
    for method, tail, body in [
        ("patch", "locks", {"locks": {"photo": {"mode": "delete"}}}),
        ("post", "blocklist", {"entries": [{"pattern": "spam"}]}),
        ("post", "blocklist/remove", {"patterns": ["spam"]}),
        ("post", "blocklist/clear", {}),
        ("post", "filters", {"trigger": "hi", "text": "Hello"}),
        ("post", "filters/remove", {"triggers": ["hi"]}),
        ("post", "filters/clear", {}),
        ("post", "notes", {"name": "rules", "text": "Be kind"}),
        ("post", "notes/remove", {"names": ["rules"]}),
        ("post", "notes/clear", {}),
    ]:
        by_telegram = {**body, "actor_telegram_user_id": member.telegram_user_id}
        answer = refused(getattr(api, method)(url(group, tail), by_telegram), 403, "permission_denied")
        assert answer["details"]["permission"] == "MANAGE_SETTINGS", tail
        as_member = {"HTTP_X_ACTING_USER_ID": str(member.pk)}
        refused(getattr(api, method)(url(group, tail), body, **as_member), 403, "permission_denied")
    assert version(group) == 1
    assert not AuditEvent.objects.filter(action__startswith="protection.").exists()
    ok(api.patch(url(group, "locks"), {"locks": {"photo": {"mode": "delete"}}},
                 HTTP_X_ACTING_USER_ID=str(admin.pk)))
    assert audits("protection.lock")[0].actor_user_id == str(admin.pk)


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(api, scene):
    group, _, _ = scene
    ok(api.post(url(group, "notes"), {"name": "rules", "text": "Be kind", "expected_version": 1}))
    body = refused(api.post(url(group, "blocklist"), {"entries": [{"pattern": "spam"}], "expected_version": 1}),
                   409, "conflict")
    assert body["details"]["version"] == 2
    assert not BlocklistEntry.objects.exists()


# -- blocklist

def test_blocklist_entries_upsert_by_their_normalized_pattern(api, scene):
    group, _, _ = scene
    added = ok(api.post(url(group, "blocklist"), {"entries": [
        {"pattern": "buy*now"}, {"pattern": "Spam", "mode": "ban", "reason": "spam"},
        {"pattern": "casino", "mode": "tmute", "duration_seconds": 600}]}))
    assert added == {"version": 2, "added": 3, "updated": 0}
    # Cyrillic look-alikes and another case are the same pattern: an update, not a new entry.
    again = ok(api.post(url(group, "blocklist"), {"entries": [{"pattern": LOOKALIKE_SPAM, "mode": "kick"},
                                                              {"pattern": "casino", "mode": "tmute",
                                                               "duration_seconds": 600}]}))
    assert again == {"version": 3, "added": 0, "updated": 1}
    items = ok(api.get(url(group, "blocklist")))
    assert items["version"] == 3
    assert [(item["pattern"], item["mode"], item["duration_seconds"], item["reason"]) for item in items["items"]] == [
        ("buy*now", None, None, ""), (LOOKALIKE_SPAM, "kick", None, ""), ("casino", "tmute", 600, "")]
    assert ok(api.get(url(group, "protection")))["blocklist"] == items["items"]
    events = audits("protection.blocklist")
    assert [event.details["added"] for event in events] == [3, 0]
    assert events[0].details["patterns"] == ["buy*now", "Spam", "casino"]
    # Nothing new: nothing written.
    assert ok(api.post(url(group, "blocklist"), {"entries": [{"pattern": "casino", "mode": "tmute",
                                                              "duration_seconds": 600}]}))["version"] == 3
    assert len(audits("protection.blocklist")) == 2


def test_blocklist_remove_and_clear(api, scene):
    group, _, _ = scene
    ok(api.post(url(group, "blocklist"), {"entries": [{"pattern": p} for p in ("one", "two", "three")]}))
    assert ok(api.post(url(group, "blocklist/remove"), {"patterns": ["ONE", "four"]})) == {"version": 3,
                                                                                         "removed": 1}
    assert ok(api.post(url(group, "blocklist/remove"), {"patterns": ["four"]})) == {"version": 3, "removed": 0}
    assert ok(api.post(url(group, "blocklist/clear"), {})) == {"version": 4, "removed": 2}
    assert ok(api.post(url(group, "blocklist/clear"), {})) == {"version": 4, "removed": 0}
    details = [event.details for event in audits("protection.blocklist")]
    assert [(d.get("removed"), d.get("cleared")) for d in details] == [(None, None), (1, False), (2, True)]
    assert details[2]["patterns"] == ["two", "three"]


@pytest.mark.parametrize("entry, field", [
    ({"pattern": ""}, "entries[1].pattern"),
    ({"pattern": "*"}, "entries[1].pattern"),
    ({"pattern": "a*b*c*d*e*f"}, "entries[1].pattern"),
    ({"pattern": "x" * 101}, "entries[1].pattern"),
    ({"pattern": "spam", "mode": "tban"}, "entries[1].duration_seconds"),
    ({"pattern": "spam", "duration_seconds": 600}, "entries[1].duration_seconds"),
    ({"pattern": "spam", "mode": "zap"}, "entries[1].mode"),
    ({"pattern": 5}, "entries[1].pattern"),
])
def test_a_bad_blocklist_entry_refuses_the_whole_call(api, scene, entry, field):
    group, _, _ = scene
    body = refused(api.post(url(group, "blocklist"), {"entries": [{"pattern": "fine"}, entry]}), 400,
                   "validation_error")
    assert any(key.startswith(field.split("[")[0]) for key in body["details"]) and "1" in body["message"], body
    assert (version(group), BlocklistEntry.objects.count()) == (1, 0)


def test_a_pattern_the_engine_refuses_is_named(api, scene):
    group, _, _ = scene
    body = refused(api.post(url(group, "blocklist"), {"entries": [{"pattern": "** *"}]}), 400, "validation_error")
    assert "entries[0].pattern" in body["details"]


def test_the_blocklist_holds_at_most_5000_entries(api, scene):
    group, _, _ = scene
    first = ok(api.post(url(group, "blocklist"), {"entries": [{"pattern": f"word{n}"} for n in range(4999)]}))
    assert (first["added"], BlocklistEntry.objects.filter(group=group).count()) == (4999, 4999)
    body = refused(api.post(url(group, "blocklist"), {"entries": [{"pattern": "one"}, {"pattern": "two"}]}), 400,
                   "validation_error")
    assert "5000" in body["message"] and "entries" in body["details"]
    assert BlocklistEntry.objects.filter(group=group).count() == 4999
    # An update of an entry it holds is not a new one; the 5000th fits.
    assert ok(api.post(url(group, "blocklist"), {"entries": [{"pattern": "WORD1", "mode": "ban"},
                                                             {"pattern": "one"}]}))["added"] == 1
    refused(api.post(url(group, "blocklist"), {"entries": [{"pattern": f"w{n}"} for n in range(5001)]}), 400,
            "validation_error")


# -- filters

def test_filters_save_upsert_by_trigger_and_match(api, scene):
    group, admin, _ = scene
    buttons = [[{"text": "Docs", "url": "https://example.com/docs"}, {"text": "Chat", "url": "tg://resolve?domain=x"}]]
    saved = ok(api.post(url(group, "filters"), {"trigger": "Hello there", "text": "<b>Hi</b> {first}",
                                                "buttons": buttons, "actor_user_id": str(admin.pk)}))
    assert {key: saved[key] for key in ("trigger", "match", "text", "media_type", "media_file_id", "buttons",
                                        "version")} == {
        "trigger": "Hello there", "match": "word", "text": "<b>Hi</b> {first}", "media_type": None,
        "media_file_id": "", "buttons": buttons, "version": 2}
    ok(api.post(url(group, "filters"), {"trigger": "hello", "match": "prefix", "media_type": "sticker",
                                        "media_file_id": "CAACAgIAAxkBAAE"}))
    replaced = ok(api.post(url(group, "filters"), {"trigger": "HELLO THERE", "text": "Hey"}))
    assert (replaced["id"], replaced["version"], replaced["text"], replaced["buttons"]) == (saved["id"], 4, "Hey", [])
    items = ok(api.get(url(group, "filters")))["items"]
    assert [(item["trigger"], item["match"]) for item in items] == [("hello", "prefix"), ("HELLO THERE", "word")]
    assert ok(api.get(url(group, "protection")))["filters"] == items
    assert [event.details["created"] for event in audits("protection.filter")] == [True, True, False]


def test_filters_remove_by_trigger_and_match_and_clear(api, scene):
    group, _, _ = scene
    for match in ("word", "prefix", "exact"):
        ok(api.post(url(group, "filters"), {"trigger": "hi", "match": match, "text": match}))
    ok(api.post(url(group, "filters"), {"trigger": "bye", "text": "Bye"}))
    assert ok(api.post(url(group, "filters/remove"), {"triggers": ["prefix:HI"]}))["removed"] == 1
    assert ok(api.post(url(group, "filters/remove"), {"triggers": ["hi"]}))["removed"] == 2
    assert ok(api.post(url(group, "filters/clear"), {}))["removed"] == 1
    assert not ChatFilter.objects.exists()
    assert ok(api.post(url(group, "filters/clear"), {}))["version"] == version(group) == 8


@pytest.mark.parametrize("body, field", [
    ({"trigger": "hi"}, "text"),
    ({"trigger": " ", "text": "x"}, "trigger"),
    ({"trigger": "hi", "text": "x" * 4097}, "text"),
    ({"trigger": "hi", "media_type": "photo"}, "media_file_id"),
    ({"trigger": "hi", "media_file_id": "abc"}, "media_type"),
    ({"trigger": "hi", "media_type": "hologram", "media_file_id": "abc"}, "media_type"),
    ({"trigger": "hi", "text": "x", "match": "fuzzy"}, "match"),
    ({"trigger": "hi", "text": "x", "buttons": [[{"text": "A", "url": "javascript:alert(1)"}]]}, "buttons"),
    ({"trigger": "hi", "text": "x", "buttons": [[{"text": "A", "url": "ftp://example.com"}]]}, "buttons"),
    ({"trigger": "hi", "text": "x", "buttons": [[{"text": "", "url": "https://example.com"}]]}, "buttons"),
    ({"trigger": "hi", "text": "x", "buttons": [[{"text": "A", "url": "https://example.com"}]] * 101}, "buttons"),
    ({"trigger": "hi", "text": "x", "buttons": [{"text": "A", "url": "https://example.com"}]}, "buttons"),
])
def test_a_bad_filter_is_a_400_naming_the_field(api, scene, body, field):
    group, _, _ = scene
    answer = refused(api.post(url(group, "filters"), body), 400, "validation_error")
    assert any(key.startswith(field) for key in answer["details"]), answer
    assert (version(group), ChatFilter.objects.count()) == (1, 0)


def test_a_group_holds_at_most_300_filters(api, scene):
    group, _, _ = scene
    ChatFilter.objects.bulk_create([ChatFilter(group=group, trigger=f"t{n}", normalized=f"t{n}", text="x")
                                    for n in range(300)])
    body = refused(api.post(url(group, "filters"), {"trigger": "one more", "text": "x"}), 400, "validation_error")
    assert "300" in body["message"]
    assert ok(api.post(url(group, "filters"), {"trigger": "T1", "text": "changed"}))["text"] == "changed"


# -- notes

def test_notes_save_get_list_remove_clear(api, scene):
    group, _, _ = scene
    saved = ok(api.post(url(group, "notes"), {"name": "#Rules", "text": "Be <i>kind</i>",
                                              "buttons": [[{"text": "More", "url": "https://example.com"}]]}))
    assert (saved["name"], saved["version"], saved["text"]) == ("rules", 2, "Be <i>kind</i>")
    ok(api.post(url(group, "notes"), {"name": "welcome-pic", "media_type": "photo", "media_file_id": "AgACAgQ"}))
    note = ok(api.get(url(group, "notes/RULES")))
    assert {key: note[key] for key in ("name", "text", "buttons")} == {
        "name": "rules", "text": "Be <i>kind</i>", "buttons": [[{"text": "More", "url": "https://example.com"}]]}
    refused(api.get(url(group, "notes/missing")), 404, "not_found")
    listed = ok(api.get(url(group, "notes")))
    assert [item["name"] for item in listed["items"]] == ["rules", "welcome-pic"]
    assert ok(api.get(url(group, "protection")))["notes"] == ["rules", "welcome-pic"]
    assert ok(api.post(url(group, "notes"), {"name": "rules", "text": "Be nice"}))["version"] == 4
    assert ok(api.post(url(group, "notes/remove"), {"names": ["#RULES", "nope"]})) == {"version": 5, "removed": 1}
    assert ok(api.post(url(group, "notes/clear"), {})) == {"version": 6, "removed": 1}
    assert [event.details.get("removed") for event in audits("protection.note")] == [None, None, None, 1, 1]


@pytest.mark.parametrize("body, field", [
    ({"name": "rules"}, "text"),
    ({"name": "no spaces", "text": "x"}, "name"),
    ({"name": "x" * 65, "text": "x"}, "name"),
    ({"name": "remove", "text": "x"}, "name"),
    ({"name": "é", "text": "x"}, "name"),
    ({"name": "rules", "text": "x" * 4097}, "text"),
])
def test_a_bad_note_is_a_400_naming_the_field(api, scene, body, field):
    group, _, _ = scene
    answer = refused(api.post(url(group, "notes"), body), 400, "validation_error")
    assert field in answer["details"], answer
    assert (version(group), Note.objects.count()) == (1, 0)


def test_a_group_holds_at_most_500_notes(api, scene):
    group, _, _ = scene
    Note.objects.bulk_create([Note(group=group, name=f"n{n}", text="x") for n in range(500)])
    refused(api.post(url(group, "notes"), {"name": "extra", "text": "x"}), 400, "validation_error")
    assert ok(api.post(url(group, "notes"), {"name": "n1", "text": "y"}))["text"] == "y"


# -- the test of a message

def test_a_message_is_explained_against_the_groups_current_rules(api, scene):
    group, _, _ = scene
    ok(api.patch(url(group, "locks"), {"locks": {"sticker": {"mode": "warn", "reason": "no stickers"},
                                                 "url": {"mode": "delete"}}}))
    ok(api.post(url(group, "blocklist"), {"entries": [{"pattern": "buy*now", "mode": "ban"}]}))
    ok(api.post(url(group, "filters"), {"trigger": "hello", "text": "Hi!"}))
    ok(api.post(url(group, "notes"), {"name": "rules", "text": "Be kind"}))
    before = version(group)

    answer = ok(api.post(url(group, "protection/test"), {"text": "please BUYIT NOW, see example.com"}))
    assert answer["version"] == before
    assert answer["locks"] == ["url"]  # the link is an entity, as Telegram would mark it
    assert answer["verdict"]["rule"] == "locks" and answer["verdict"]["kind"] == "url"
    assert answer["blocklist"] == []  # buy*now is one word: "buyit now" is two

    answer = ok(api.post(url(group, "protection/test"), {"text": "hello, buyitnow"}))
    assert answer["verdict"] == {**answer["verdict"], "rule": "blocklist", "kind": "buy*now", "mode": "ban"}
    assert answer["verdict"]["why"]
    assert (answer["blocklist"], answer["filter"], answer["note"]) == (["buy*now"], "hello", None)

    answer = ok(api.post(url(group, "protection/test"), {"message": {
        "message_id": 1, "date": 0, "chat": {"id": group.telegram_chat_id, "type": "supergroup"},
        "sticker": {"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1, "is_animated": False,
                    "is_video": False, "type": "regular"}}}))
    assert (answer["verdict"]["kind"], answer["verdict"]["mode"], answer["verdict"]["reason"]) == (
        "sticker", "warn", "no stickers")

    answer = ok(api.post(url(group, "protection/test"), {"text": "#rules"}))
    assert (answer["verdict"], answer["note"]) == (None, "rules")
    assert version(group) == before  # read-only
    assert not AuditEvent.objects.filter(action="protection.update").exists()


@pytest.mark.parametrize("body", [{}, {"text": "a", "message": {}}, {"text": 5}, {"message": "hi"},
                                  {"text": "x" * 4097}])
def test_a_bad_test_body_is_a_400(api, scene, body):
    group, _, _ = scene
    refused(api.post(url(group, "protection/test"), body), 400, "validation_error")


def test_a_garbage_message_is_explained_not_a_500(api, scene):
    group, _, _ = scene
    ok(api.patch(url(group, "locks"), {"locks": {"all": {"mode": "delete"}}}))
    answer = ok(api.post(url(group, "protection/test"), {"message": {"text": ["not", "text"], "entities": "x",
                                                                     "forward_origin": 5}}))
    assert isinstance(answer["locks"], list)


def test_an_unknown_group_is_a_404(api, db):
    refused(api.get("/api/groups/999999/locks"), 404, "not_found")
    refused(api.post("/api/groups/999999/blocklist", {"entries": [{"pattern": "x"}]}), 404, "not_found")
    refused(api.post("/api/groups/999999/protection/test", {"text": "x"}), 404, "not_found")
