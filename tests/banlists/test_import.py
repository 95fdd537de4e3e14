"""A list's import (CSV or JSON of id, reason, date): strict (one bad row refuses the file, nothing written), one
change of the list (one version, one history row, one audit row, one log post), owed at once only to the users core
knows as current members of the list's groups; and the export, streamed, not enveloped, that imports back."""

import json

import pytest

from apps.audit.models import AuditEvent
from apps.banlists import statements
from apps.banlists.bans import ban_list_ban, ban_list_unban
from apps.banlists.imports import import_parse
from apps.banlists.models import Ban, BanList, Change, Propagation
from apps.common.prepared import PreparedQuery
from apps.groups.services import membership_set
from apps.logchannel.models import LogEntry
from tests.banlists.ban_world import error_of, list_admin, make_list, subscribed_groups
from tests.factories import grant, make_member, make_user

pytestmark = pytest.mark.django_db


def import_url(ban_list) -> str:
    return f"/api/banlists/{ban_list.pk}/import"


def do_import(api, ban_list, content, format="csv", **extra):
    return api.post(import_url(ban_list), {"format": format, "content": content, **extra})


def bans(ban_list) -> dict:
    return {ban.telegram_user_id: (ban.reason, ban.banned_at.isoformat(), ban.active, ban.source)
            for ban in Ban.objects.filter(ban_list=ban_list)}


def test_a_csv_with_header_lands_as_one_change_of_the_list(api):
    ban_list = make_list(name="CAS mirror", log_chat_id=-1009999000088)
    admin = list_admin(ban_list)
    content = ("telegram_user_id,reason,date\n"
               "101,crypto spam,2024-05-01T10:00:00Z\n"
               "102,,1714557600\n"
               "103,\"links, lots\",2024-05-01 12:30:00\n")
    response = do_import(api, ban_list, content, actor_user_id=str(admin.pk))
    assert response.status_code == 200, response.json()
    assert response.json()["data"] == {"added": 3, "updated": 0, "unchanged": 0, "version": 2, "propagations": 0}
    assert bans(ban_list) == {101: ("crypto spam", "2024-05-01T10:00:00+00:00", True, "import"),
                              102: ("", "2024-05-01T10:00:00+00:00", True, "import"),
                              103: ("links, lots", "2024-05-01T12:30:00+00:00", True, "import")}
    assert Ban.objects.filter(banned_by=admin).count() == 3
    assert BanList.objects.get(pk=ban_list.pk).version == 2
    change = Change.objects.get()
    assert (change.kind, change.count, change.actor_id, change.details["added"]) == ("import", 3, admin.pk, 3)
    audit = AuditEvent.objects.get(action="banlist.import")
    assert (audit.target_id, audit.actor_user_id, audit.details["rows"]) == (str(ban_list.pk), str(admin.pk), 3)
    post = LogEntry.objects.get(kind="banlist")
    assert "#FEDIMPORT" in post.text and "<b>Added:</b> 3" in post.text


@pytest.mark.parametrize(("format", "content"), [
    ("csv", "201\n202\n\n203\n"),  # CAS's export: ids, one a line (blank lines skipped)
    ("csv", "\ufeffid\n201\n202\n203"),  # a header naming the id column id, a byte-order mark
    ("csv", "username,user_id,reason,firstname\nx,201,,a\ny,202,,b\nz,203,,c\n"),  # Rose-like: other columns ignored
    ("json", "[201, 202, 203]"),
    ("json", '[{"telegram_user_id": 201}, {"user_id": 202, "reason": null}, {"id": 203, "date": null}]'),
])
def test_the_accepted_shapes_of_a_file(api, format, content):
    ban_list = make_list()
    data = do_import(api, ban_list, content, format=format).json()["data"]
    assert (data["added"], sorted(bans(ban_list))) == (3, [201, 202, 203])


def test_one_bad_row_refuses_the_file_naming_the_rows_and_nothing_is_written(api):
    ban_list = make_list()
    ban_list_ban(ban_list=ban_list, telegram_user_id=1)
    before = bans(ban_list)
    content = "telegram_user_id,reason,date\n10,ok,\nabc,spam,\n11,ok,\n-5,,\n12,,not-a-date\n13,,2999-01-01\n"
    body = error_of(do_import(api, ban_list, content), 400, "validation_error")
    assert body["details"]["fault_count"] == 4
    assert [fault["row"] for fault in body["details"]["faults"]] == [3, 5, 6, 7]
    assert "abc" in body["details"]["faults"][0]["error"] and "future" in body["details"]["faults"][3]["error"]
    assert body["message"].startswith("4 rows are invalid, nothing was imported (row 3:")
    assert bans(ban_list) == before
    assert BanList.objects.get(pk=ban_list.pk).version == 2
    assert not Change.objects.filter(kind="import").exists()
    assert not AuditEvent.objects.filter(action="banlist.import").exists()


def test_the_first_20_faults_are_listed_and_all_counted(api):
    ban_list = make_list()
    body = error_of(do_import(api, ban_list, json.dumps(["x"] * 30 + [5]), format="json"), 400,
                    "validation_error")
    assert (len(body["details"]["faults"]), body["details"]["fault_count"]) == (20, 30)
    assert body["details"]["faults"][0] == {"row": 1, "error": "the Telegram user id must be a whole number, not 'x'"}


@pytest.mark.parametrize(("format", "content", "fault"), [
    ("csv", "", "No rows"),
    ("csv", "\n\n", "No rows"),
    ("json", "[]", "No rows"),
    ("json", "{", "not JSON"),
    ("json", '{"ids": [1]}', "JSON list"),
    ("json", "[true]", "whole number"),
    ("json", "[1.5]", "whole number"),
    ("json", '[{"id": 1, "user_id": 2}]', "exactly one"),
    ("json", '[{"id": 1, "reason": 5}]', "reason must be text"),
    ("json", f'[{2**63}]', "positive 64-bit"),
    ("csv", "name,reason\nx,y\n", "no id column"),
    ("csv", "1,a,2024-01-01,extra\n", "columns"),
    ("csv", "1," + "r" * 1025 + "\n", "longer than 1024"),
    ("csv", "1,\x00\n", "Null characters"),
    ("csv", '1,"unclosed\n', "not CSV"),
    ("csv", "1,,1990-01-01\n", "before 2000"),
])
def test_invalid_files_are_400_with_the_fault(api, format, content, fault):
    ban_list = make_list()
    body = error_of(do_import(api, ban_list, content, format=format), 400, "validation_error")
    assert fault in json.dumps(body), body
    assert not Ban.objects.exists()


def test_added_updated_unchanged_and_an_unbanned_user_back_on_the_list(api):
    ban_list = make_list()
    ban_list_ban(ban_list=ban_list, telegram_user_id=1, reason="old")
    ban_list_ban(ban_list=ban_list, telegram_user_id=2, reason="same")
    ban_list_ban(ban_list=ban_list, telegram_user_id=3, reason="kept")
    ban_list_ban(ban_list=ban_list, telegram_user_id=4)
    ban_list_unban(ban_list=ban_list, telegram_user_id=4)
    content = "1,new\n2,same\n3,\n4,back\n5,fresh\n5,fresher\n"  # a repeated id: its last row counts
    data = do_import(api, ban_list, content).json()["data"]
    assert data == {"added": 2, "updated": 1, "unchanged": 2, "version": 7, "propagations": 0}
    assert {tid: (reason, active) for tid, (reason, _, active, _) in bans(ban_list).items()} == {
        1: ("new", True), 2: ("same", True), 3: ("kept", True), 4: ("back", True), 5: ("fresher", True)}
    delta = api.get(f"/api/banlists/{ban_list.pk}/ids?since=6").json()["data"]
    assert delta["banned"] == [1, 4, 5]
    assert Change.objects.get(kind="import").count == 3


def test_imported_bans_are_owed_now_only_to_known_current_members(api):
    ban_list = make_list()
    group, other = subscribed_groups(ban_list, 2)
    member, approved, left, stranger = make_user(), make_user(), make_user(), make_user()
    make_member(member, group)
    make_member(approved, other)
    grant(approved, "approved", other)
    membership_set(group=group, user=left, status="left")
    content = "\n".join(str(user.telegram_user_id) for user in (member, approved, left, stranger)) + "\n999\n"
    assert do_import(api, ban_list, content).json()["data"]["propagations"] == 2
    rows = {(row.telegram_user_id, row.group_id): row for row in Propagation.objects.all()}
    assert set(rows) == {(member.telegram_user_id, group.pk), (approved.telegram_user_id, other.pk)}
    assert rows[(member.telegram_user_id, group.pk)].action == "ban"
    assert rows[(member.telegram_user_id, group.pk)].moderation_action.rule == "banlist"
    assert rows[(approved.telegram_user_id, other.pk)].action == "notify"


def test_an_import_needs_ban_list_ban(api):
    ban_list = make_list()
    viewer = make_user()
    body = error_of(do_import(api, ban_list, "1\n", actor_user_id=str(viewer.pk)), 403, "permission_denied")
    assert body["details"]["permission"] == "BAN_LIST_BAN"
    assert not Ban.objects.exists()


def test_the_import_takes_bodies_over_the_platforms_limit_and_only_it(api):
    ban_list = make_list()
    ban_list_ban(ban_list=ban_list, telegram_user_id=10_000_000, reason="old")
    reason = "r" * 1000
    content = "\n".join(f"{10_000_000 + number},{reason}" for number in range(1100))  # about 1.1 MB
    assert len(content) > 1024 * 1024
    data = do_import(api, ban_list, content).json()["data"]
    assert (data["added"], data["updated"]) == (1099, 1)  # the list read whole (over 1,000 rows) finds the one
    body = json.dumps({"telegram_user_id": 5, "reason": "x" * (1024 * 1024)})
    error_of(api.post(f"/api/banlists/{ban_list.pk}/bans", raw=body), 413, "payload_too_large")
    huge = api.client.post(import_url(ban_list), data="{}", content_type="application/json",
                           CONTENT_LENGTH=str(200 * 1024 * 1024))
    assert (huge.status_code, huge.json()["error"]) == (413, "payload_too_large")


def test_the_imports_body_must_be_json(api):
    ban_list = make_list()
    response = api.client.post(import_url(ban_list), data="format=csv", content_type="text/plain")
    assert (response.status_code, response.json()["error"]) == (415, "unsupported_media_type")
    error_of(api.post(import_url(ban_list), raw="{nope"), 400, "malformed_request")
    error_of(api.post(import_url(ban_list), raw="[]"), 400, "validation_error")
    error_of(api.post(import_url(ban_list), {"format": "xml", "content": "1"}), 400, "validation_error")
    error_of(api.post(import_url(ban_list), {"format": "csv", "content": 1}), 400, "validation_error")
    error_of(api.post("/api/banlists/nope/import", {"format": "csv", "content": "1"}), 404, "not_found")


def export(api, ban_list, format):
    response = api.client.get(f"/api/banlists/{ban_list.pk}/export?format={format}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="banlist-{ban_list.pk}.{format}"'
    return response, b"".join(response.streaming_content).decode()


def test_the_export_is_the_file_itself_and_imports_back_the_same(api):
    ban_list = make_list()
    content = ('telegram_user_id,reason,date\n3,"=HYPERLINK(""x"")",2024-05-01T10:00:00Z\n1,"a, b",1714557600\n'
               "2,,2024-05-02T00:00:00+02:00\n")
    do_import(api, ban_list, content)
    ban_list_ban(ban_list=ban_list, telegram_user_id=4)
    ban_list_unban(ban_list=ban_list, telegram_user_id=4)
    response, text = export(api, ban_list, "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines() == ["telegram_user_id,reason,date", '1,"a, b",2024-05-01T10:00:00Z',
                                 "2,,2024-05-01T22:00:00Z", "3,\"'=HYPERLINK(\"\"x\"\")\",2024-05-01T10:00:00Z"]
    response, text = export(api, ban_list, "json")
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(text)[0] == {"telegram_user_id": 1, "reason": "a, b", "date": "2024-05-01T10:00:00Z"}
    for format in ("csv", "json"):
        copy = make_list()
        do_import(api, copy, export(api, ban_list, format)[1], format=format)
        assert {tid: value[:2] for tid, value in bans(copy).items()} == {
            tid: value[:2] for tid, value in bans(ban_list).items() if value[2]}


def test_an_empty_list_exports_a_header_or_an_empty_list_and_bad_asks_are_json_errors(api):
    ban_list = make_list()
    assert export(api, ban_list, "csv")[1] == "telegram_user_id,reason,date\n"
    assert json.loads(export(api, ban_list, "json")[1]) == []
    error_of(api.get(f"/api/banlists/{ban_list.pk}/export?format=xml"), 400, "validation_error")
    gone = make_list(is_active=False)
    error_of(api.get(f"/api/banlists/{gone.pk}/export?format=csv"), 404, "not_found")


def test_the_compiled_insert_writes_what_the_orm_writes(api, monkeypatch):
    content = "1,a,2024-05-01T10:00:00Z\n2,,1714557600\n3,c,2024-05-01T10:00:00.123456+05:30\n"
    rows = import_parse(format="csv", content=content)
    compiled, plain = make_list(), make_list()
    do_import(api, compiled, content)
    monkeypatch.setattr(PreparedQuery, "get", classmethod(lambda cls, key, build, using="default": None))
    do_import(api, plain, content)
    fields = ("telegram_user_id", "reason", "active", "source", "banned_by", "banned_at", "version")
    assert len(rows) == 3 and statements.FIELDS
    assert (list(Ban.objects.filter(ban_list=compiled).order_by("telegram_user_id").values_list(*fields))
            == list(Ban.objects.filter(ban_list=plain).order_by("telegram_user_id").values_list(*fields)))
    assert Ban.objects.get(ban_list=compiled, telegram_user_id=3).updated_at is not None
