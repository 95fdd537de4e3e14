"""What ban lists (federations) need of the sandbox, as the Bot API does it: banning and unbanning people who are not
in the chat (a ban stops them joining until it is lifted), `until_date` and `revoke_messages`, the flood limit on
member actions (off by default, switched on by the control API), and a document a bot uploads (the /fbanlist file),
read back by a test, by getFile and the file URL, and by botchat."""

import csv
import io
import time

import pytest
import telegram
from telegram.error import BadRequest, RetryAfter

from tgsandbox.botchat import run_botchat
from tgsandbox.client import SandboxClient
from tgsandbox.errors import SandboxError
from tgsandbox.world.model import RateLimits

from .conftest import retry_seconds, telegram_error
from .test_botchat import scripted

pytestmark = pytest.mark.anyio


@pytest.fixture
def client(demo):
    with SandboxClient(demo.url, timeout=10) as sandbox:
        yield sandbox


def _stranger(demo, name: str):
    """Someone Telegram knows who was never in the demo group."""
    return demo.world.create_user(name.capitalize(), username=name)


async def test_a_person_who_is_not_in_the_group_can_be_banned_and_then_cannot_join(demo, client):
    stranger = _stranger(demo, "stranger")
    assert demo.world.member(demo.group, stranger.id).status == "left"
    async with demo.bot() as bot:
        assert await bot.ban_chat_member(demo.group.id, stranger.id)
        member = await bot.get_chat_member(demo.group.id, stranger.id)
        assert member.status == "kicked" and member.until_date.timestamp() == 0  # forever
        # Banning again is no error (a list's ban reaching a group twice is harmless).
        assert await bot.ban_chat_member(demo.group.id, stranger.id, revoke_messages=True)
    with pytest.raises(SandboxError, match="@stranger is banned in Sandbox Group") as refused:
        client.add_member("Sandbox Group", "stranger")
    assert refused.value.status == 403
    with pytest.raises(SandboxError, match="only an admin can add them back"):
        client.add_member("Sandbox Group", "stranger", by="carol")
    # Nobody left the chat: no service message, and the member count is unchanged.
    assert not any(m.service.get("left_chat_member") == stranger.id for m in demo.world.messages(demo.group))


async def test_an_unknown_user_id_cannot_be_banned(demo):
    async with demo.bot() as bot:
        with telegram_error(BadRequest, "Participant_id_invalid"):
            await bot.ban_chat_member(demo.group.id, 987654321)
        with telegram_error(BadRequest, "Invalid user_id specified"):
            await bot.ban_chat_member(demo.group.id, 0)


async def test_a_basic_group_has_no_ban_list_for_non_members(demo):
    stranger = _stranger(demo, "outsider")
    demo.world.promote(demo.basic, "@sandbox_mod_bot")
    async with demo.bot() as bot:
        with telegram_error(BadRequest, "User_not_participant"):
            await bot.ban_chat_member(demo.basic.id, stranger.id)
        # A present member is removed; revoke_messages is accepted.
        assert await bot.ban_chat_member(demo.basic.id, demo.carol.id, revoke_messages=False)
    assert demo.world.member(demo.basic, demo.carol.id).status == "left"


async def test_a_timed_ban_of_a_non_member_ends_and_they_may_join(demo, client):
    stranger = _stranger(demo, "visitor")
    async with demo.bot() as bot:
        until = demo.world.now() + 120
        assert await bot.ban_chat_member(demo.group.id, stranger.id, until_date=until)
        member = await bot.get_chat_member(demo.group.id, stranger.id)
        assert member.status == "kicked" and int(member.until_date.timestamp()) == until
        with pytest.raises(SandboxError, match="is banned"):
            client.add_member("Sandbox Group", "visitor")
        client.advance_time(121)
        assert (await bot.get_chat_member(demo.group.id, stranger.id)).status == "left"
    assert client.add_member("Sandbox Group", "visitor")["status"] == "member"


async def test_unbanning_with_only_if_banned_lifts_a_ban_and_touches_nobody_else(demo, client):
    stranger = _stranger(demo, "roamer")
    async with demo.bot() as bot:
        assert await bot.ban_chat_member(demo.group.id, stranger.id)
        # Unbanning someone banned: they may join again; they are not added back.
        assert await bot.unban_chat_member(demo.group.id, stranger.id, only_if_banned=True)
        assert (await bot.get_chat_member(demo.group.id, stranger.id)).status == "left"
        # A member, and someone never there, are left as they are.
        assert await bot.unban_chat_member(demo.group.id, demo.carol.id, only_if_banned=True)
        assert (await bot.get_chat_member(demo.group.id, demo.carol.id)).status == "member"
        never = _stranger(demo, "never_here")
        assert await bot.unban_chat_member(demo.group.id, never.id, only_if_banned=True)
        assert (await bot.get_chat_member(demo.group.id, never.id)).status == "left"
        # Without only_if_banned, Telegram's trap: the member is removed.
        assert await bot.unban_chat_member(demo.group.id, demo.dave.id)
        assert (await bot.get_chat_member(demo.group.id, demo.dave.id)).status == "left"
        with telegram_error(BadRequest, "Method is available for supergroup and channel chats only"):
            await bot.unban_chat_member(demo.basic.id, stranger.id, only_if_banned=True)
    assert client.add_member("Sandbox Group", "roamer")["status"] == "member"


async def test_an_admin_lifts_a_ban_by_hand(demo, client):
    stranger = _stranger(demo, "wanderer")
    async with demo.bot() as bot:
        await bot.ban_chat_member(demo.group.id, stranger.id)
    with pytest.raises(SandboxError, match="cannot unban"):
        client.unban("Sandbox Group", "wanderer", by="carol")
    assert client.unban("Sandbox Group", "wanderer", by="alice")["status"] == "left"
    assert client.unban("Sandbox Group", "carol")["status"] == "member"  # not banned: unchanged
    with pytest.raises(SandboxError, match="only supergroups"):
        client.unban("Basic Group", "carol")
    assert client.add_member("Sandbox Group", "wanderer")["status"] == "member"


async def test_the_bot_hears_a_ban_and_its_lifting_as_chat_member_updates(demo):
    stranger = _stranger(demo, "heard")
    bot_state = demo.world.bot()
    bot_state.allowed_updates = ["chat_member"]
    async with demo.bot() as bot:
        await bot.ban_chat_member(demo.group.id, stranger.id)
        await bot.unban_chat_member(demo.group.id, stranger.id, only_if_banned=True)
        updates = await bot.get_updates(timeout=0)
    changes = [(u.chat_member.old_chat_member.status, u.chat_member.new_chat_member.status) for u in updates
               if u.chat_member and u.chat_member.new_chat_member.user.id == stranger.id]
    assert changes == [("left", "kicked"), ("kicked", "left")]


async def test_member_actions_are_not_limited_until_the_control_api_says_so(demo, client, http):
    assert RateLimits().actions_per_second == 0
    people = [_stranger(demo, f"mass{number}") for number in range(8)]
    async with demo.bot() as bot:
        for person in people[:4]:  # a burst, not limited by default
            assert await bot.ban_chat_member(demo.group.id, person.id)
        limits = client.set_rate_limits(enabled=True, actions_per_second=3)
        assert limits["actions_per_second"] == 3
        assert http.get(f"{demo.url}/sandbox/rate_limits").json()["result"]["actions_per_second"] == 3
        refused = None
        for person in people[4:]:
            try:
                await bot.ban_chat_member(demo.group.id, person.id)
            except RetryAfter as exc:
                refused = (person, exc)
                break
        assert refused is not None, "the fourth action within a second was let through"
        person, error = refused
        assert retry_seconds(error) == 1
        assert demo.world.member(demo.group, person.id).status == "left"  # refused: not done
        # The raw answer, as Telegram sends it.
        body = http.post(f"{demo.url}/bot{demo.token}/unbanChatMember",
                         json={"chat_id": demo.group.id, "user_id": people[0].id, "only_if_banned": True}).json()
        assert body == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1}}
        client.advance_time(1.01)
        assert await bot.ban_chat_member(demo.group.id, person.id)
    client.set_rate_limits(actions_per_second=0)


async def test_a_paced_bot_gets_every_ban_through_the_limit(demo, client):
    """A bot honouring retry_after bans everyone (real time here: the limit is per wall-clock second)."""
    people = [_stranger(demo, f"paced{number}") for number in range(7)]
    client.set_rate_limits(enabled=True, actions_per_second=5)
    started = time.monotonic()
    refusals = 0
    async with demo.bot() as bot:
        for person in people:
            while True:
                try:
                    await bot.ban_chat_member(demo.group.id, person.id)
                    break
                except RetryAfter as exc:
                    refusals += 1
                    time.sleep(min(retry_seconds(exc), 1))
    assert refusals >= 1 and time.monotonic() - started >= 0.9
    assert all(demo.world.member(demo.group, p.id).status == "kicked" for p in people)


def _csv_export(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["telegram_user_id", "reason", "date"])
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_a_document_a_bot_uploads_can_be_read_back(demo, client, http):
    content = _csv_export([[2000005, "spam, links", "2026-01-02T03:04:05Z"], [777, "raid", ""]])
    # A bot downloads from base_file_url (PTB's default is Telegram's own): the sandbox's file URL.
    async with telegram.Bot(demo.token, base_url=f"{demo.url}/bot", base_file_url=f"{demo.url}/file/bot") as bot:
        sent = await bot.send_document(demo.group.id, telegram.InputFile(content, filename="banlist-7.csv"),
                                       caption="Ban list <b>Spam watch</b>: 2 bans", parse_mode="HTML")
        document = sent.document
        assert (document.file_name, document.mime_type, document.file_size) == ("banlist-7.csv", "text/csv",
                                                                               len(content))
        assert document.thumbnail is None and sent.caption == "Ban list Spam watch: 2 bans"
        # getFile, then the file URL, as a bot downloads a file.
        found = await bot.get_file(document.file_id)
        assert found.file_size == len(content)
        assert found.file_path == f"{demo.url}/file/bot{demo.token}/documents/file_0.csv"  # PTB prefixes the URL
        assert bytes(await found.download_as_bytearray()) == content
        with telegram_error(BadRequest, "Invalid file_id"):
            await bot.get_file("no-such-file")
    info = client.file(document.file_id)
    assert (info["kind"], info["file_name"], info["mime_type"], info["uploaded"]) == (
        "document", "banlist-7.csv", "text/csv", True)
    assert info["text"] == content.decode()
    [message] = client.messages("Sandbox Group", since_id=sent.message_id - 1)
    rows = list(csv.DictReader(io.StringIO(client.document_text(message))))
    assert rows[0] == {"telegram_user_id": "2000005", "reason": "spam, links", "date": "2026-01-02T03:04:05Z"}
    assert http.get(f"{demo.url}/file/bot{demo.token}/documents/nothing.csv").status_code == 404
    assert http.get(f"{demo.url}/file/bot999:other/documents/file_0.csv").status_code == 404
    with pytest.raises(SandboxError, match="unknown file_id") as unknown:
        client.file("nope")
    assert unknown.value.status == 404


async def test_uploads_by_attach_name_and_json_exports_and_empty_files(demo, client, http):
    base = f"{demo.url}/bot{demo.token}"
    payload = b'[{"telegram_user_id": 2000005, "reason": "spam"}]'
    by_attach = http.post(f"{base}/sendDocument", data={"chat_id": str(demo.group.id), "document": "attach://export"},
                          files={"export": ("banlist-7.json", payload, "application/octet-stream")}).json()
    document = by_attach["result"]["document"]
    assert (document["file_name"], document["mime_type"]) == ("banlist-7.json", "application/json")
    assert client.file(document["file_id"])["text"] == payload.decode()
    # A name that says nothing: the part's own type.
    plain = http.post(f"{base}/sendDocument", data={"chat_id": str(demo.group.id)},
                      files={"document": ("EXPORT", b"1\n2\n", "text/plain")}).json()
    assert plain["result"]["document"]["mime_type"] == "text/plain"
    empty = http.post(f"{base}/sendDocument", data={"chat_id": str(demo.group.id)},
                      files={"document": ("empty.csv", b"", "text/csv")}).json()
    assert empty == {"ok": False, "error_code": 400, "description": "Bad Request: file must be non-empty"}
    # The call log shows the upload, not its bytes.
    [call] = client.calls(method="sendDocument")["calls"][:1]
    assert call["params"]["document"] == "attach://export" and call["params"]["export"] == (
        f"<file banlist-7.json, {len(payload)} bytes>")
    # A file a person posted has no bytes behind it: zeros of its size.
    posted = client.send_message("Sandbox Group", "carol", document={"file_name": "a.pdf", "file_size": 5})
    info = client.file(posted["document"]["file_id"])
    assert (info["uploaded"], info["text"], info["content_base64"]) == (False, None, "AAAAAAA=")
    too_big = client.send_message("Sandbox Group", "carol", document={"file_size": 30 * 1024 * 1024})
    async with demo.bot() as bot:
        with telegram_error(BadRequest, "File is too big"):
            await bot.get_file(too_big["document"]["file_id"])


async def test_botchat_shows_the_document_and_its_lines(demo):
    content = "\n".join(["telegram_user_id,reason,date"] + [f"{n},spam," for n in range(1, 31)]).encode()
    async with demo.bot() as bot:
        sent = await bot.send_document(demo.group.id, telegram.InputFile(content, filename="banlist-1.csv"))
    lines = scripted("/history 1", f"/file {sent.message_id}", "/file 1", "/file x")
    output: list[str] = []
    run_botchat(demo.url, input_fn=lines, output=output.append, settle=0.1, max_wait=0.3)
    text = "\n".join(output)
    shown = f"#{sent.message_id} @sandbox_mod_bot in Sandbox Group: <document banlist-1.csv, {len(content)} bytes>"
    assert shown in text
    assert f"  banlist-1.csv (text/csv, {len(content)} bytes)" in text
    assert "  | telegram_user_id,reason,date" in text and "  | 19,spam," in text
    assert "  | 20,spam," not in text and "  | ... 11 more lines" in text
    assert "  sandbox: message 1 carries no file" in text
    assert "  sandbox: usage: /file <message id>" in text
