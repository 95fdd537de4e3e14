"""The /fed... commands' arguments and answers (apps/botgateway/federations/texts.py): a list id as core writes it on
either storage profile, names within core's rule, /fbanlist's arguments in either order; every answer is HTML
Telegram accepts (parsed by the sandbox's HTML parser, as Telegram parses it) with names and reasons escaped, split
under Telegram's 4,096 characters. Then the commands through the bot's real application, the Telegram sandbox and a
live core: a federation from /newfed to /delfed (refusals naming the permission, /fbanlist's uploaded file read back
from the sandbox), the rule that picks the list a command means, and core unreachable."""

import asyncio
import html
import json
import socket

import pytest

from apps.banlists.models import Ban, BanList, Subscription
from apps.botgateway.federations import commands, texts
from apps.botgateway.flows import UNAVAILABLE_REPLY
from apps.botgateway.parsing import UsageError
from apps.coreclient import AsyncCoreClient
from tgsandbox.markup import parse_html

from .content_harness import PEOPLE, Bot, Counting, core_group, sandbox_fixtures

HOSTILE = "<script>alert(1)</script> & <b>bold"
LIST = {"id": "7", "name": HOSTILE, "owner": {"id": "1", "telegram_user_id": 42, "username": "own",
                                              "display_name": "Owner <x>"},
        "log_chat_id": None, "version": 3, "bans_count": 2, "groups_count": 3, "admins_count": 1}


def accepted(text: str) -> str:
    """The text Telegram shows for this HTML (raises like Telegram's "can't parse entities" when it is not valid)."""
    assert len(text) <= texts.TELEGRAM_TEXT
    plain, _ = parse_html(text)
    return plain


@pytest.mark.parametrize("token", ["7", "123456789", "65f0c0ffee0123456789abcd", "65F0C0FFEE0123456789ABCD"])
def test_list_ids_of_both_profiles_are_read(token):
    assert texts.is_list_id(token)
    assert texts.list_id(token, "usage") == token.lower()


@pytest.mark.parametrize("token", ["", "abc", "-5", "65f0c0ffee0123456789abc", "@someone", "7x", "1" * 20])
def test_other_words_are_not_list_ids(token):
    assert not texts.is_list_id(token)
    with pytest.raises(UsageError):
        texts.list_id(token, "usage")


def test_a_name_is_one_line_of_at_most_64_characters():
    assert texts.fed_name("  Spam   watch\nnet ", "usage") == "Spam watch net"
    assert texts.fed_name("x" * 64, "usage") == "x" * 64
    with pytest.raises(UsageError, match="64"):
        texts.fed_name("x" * 65, "usage")
    with pytest.raises(UsageError, match="usage"):
        texts.fed_name("  \n ", "usage")


@pytest.mark.parametrize(("args", "expected"), [
    ([], (None, "csv")), (["json"], (None, "json")), (["7"], ("7", "csv")), (["7", "JSON"], ("7", "json")),
    (["csv", "65f0c0ffee0123456789abcd"], ("65f0c0ffee0123456789abcd", "csv")),
])
def test_fbanlist_takes_an_id_and_a_format_in_either_order(args, expected):
    assert texts.fbanlist_args(args, "usage") == expected


@pytest.mark.parametrize("args", [["xml"], ["7", "8"], ["json", "csv"], ["7", "json", "extra"]])
def test_fbanlist_refuses_anything_else(args):
    with pytest.raises(UsageError):
        texts.fbanlist_args(args, "usage")


def test_fban_answer_escapes_names_and_reason_and_says_how_far_it_reaches():
    answer = {"ban": {"reason": HOSTILE}, "created": True, "version": 4, "propagation": {"groups": 3, "exempt": 1}}
    text = texts.fban_done(LIST, "<a href=\"tg://user?id=42\">Owner</a>", "&lt;target&gt;", 555, answer, HOSTILE)
    plain = accepted(text)
    assert plain.startswith("New FedBan")
    assert f"Fed: {HOSTILE}" in plain and f"Reason: {HOSTILE}" in plain
    assert "User ID: 555" in plain
    assert "3 chats" in plain and "1 where they are exempt" in plain


def test_an_fban_in_a_federation_no_chat_has_joined_says_so():
    answer = {"ban": {"reason": ""}, "created": True, "propagation": {"groups": 0, "exempt": 0}}
    plain = accepted(texts.fban_done(LIST, "x", "y", 1, answer, ""))
    assert "No chat takes the federation's bans yet" in plain and "Reason" not in plain


def test_a_second_fban_says_the_reason_was_updated_and_reaches_nobody_again():
    answer = {"ban": {"reason": "new"}, "created": False, "propagation": {"groups": 0}}
    plain = accepted(texts.fban_done(LIST, "x", "y", 1, answer, "new"))
    assert plain.startswith("FedBan reason updated") and "Banning them" not in plain


def test_unfban_of_someone_not_banned_says_so():
    plain = accepted(texts.unfban_done(LIST, "x", "<b>y</b>", 1, {"removed": False}, ""))
    assert plain == f"y is not banned in {HOSTILE} (7)."
    plain = accepted(texts.unfban_done(LIST, "x", "y", 1, {"removed": True, "propagation": {"groups": 1}}, "sorry"))
    assert "1 chat of" in plain and "Reason: sorry" in plain


def test_fedinfo_shows_the_list_and_what_it_follows():
    follows = {"follows": [{"id": "9", "name": "<Source>"}], "followers": [{"id": "10", "name": "f"}]}
    plain = accepted(texts.fed_info({**LIST, "log_chat_id": -1001}, follows))
    assert f"Name: {HOSTILE}" in plain and "Creator: Owner <x>" in plain
    assert "Number of bans: 2" in plain and "Log chat: -1001" in plain
    assert "Subscribed to: <Source> (9)" in plain and "Subscribers: 1" in plain


def test_long_listings_are_split_under_telegrams_length_between_lines():
    admins = {"owner": LIST["owner"], "admins": [
        {"user": {"telegram_user_id": 1000 + n, "display_name": f"{HOSTILE} {n}"}, "role": "banlist_admin"}
        for n in range(400)]}
    parts = texts.fed_admins(LIST, admins)
    assert len(parts) > 1
    shown = "\n".join(accepted(part) for part in parts)
    assert shown.count(HOSTILE) == 401  # the list's name in the heading and every admin, none lost at a split
    assert "(owner)" in shown


def test_fedchats_and_myfeds_and_fedsubs_are_valid_html():
    chats = [{"telegram_chat_id": -100 - n, "title": f"<Group> {n}"} for n in range(300)]
    for part in texts.fed_chats(LIST, chats, 301):
        accepted(part)
    assert "1 more" in accepted(texts.fed_chats(LIST, chats, 301)[-1])
    assert "/joinfed 7" in accepted(texts.fed_chats(LIST, [], 0)[0])
    mine = accepted(texts.my_feds([LIST, {**LIST, "id": "8", "owner": {"telegram_user_id": 1}}], 42)[0])
    assert "owner, 2 bans, 3 chats" in mine and "admin, 2 bans" in mine
    assert "/newfed <name>" in accepted(texts.my_feds([], 42)[0])
    subs = accepted(texts.fed_subs(LIST, {"follows": [], "followers": [{"id": "3", "name": "<f>"}]})[0])
    assert "no other federation" in subs and "<f> (3)" in subs


def test_fedstat_lists_every_ban_or_the_one_asked_about():
    answer = {"bans": [{"ban_list": {"id": "7", "name": "<A>"}, "reason": "spam & scam", "banned_at": "2026-01-01"},
                       {"ban_list": {"id": "8", "name": "B"}, "reason": ""}]}
    plain = accepted(texts.fed_stat("<b>x</b>", answer)[0])
    assert plain.startswith("x is banned in 2 federations") and "<A> (7): spam & scam" in plain
    one = accepted(texts.fed_stat("x", answer, "7")[0])
    assert "Reason: spam & scam" in one and "Date: 2026-01-01" in one
    assert "not banned in the federation 9" in accepted(texts.fed_stat("x", answer, "9")[0])
    assert "not banned in any" in accepted(texts.fed_stat("x", {"bans": []})[0])


def test_the_candidates_reply_names_each_list_and_the_syntax():
    lists = [{"id": str(n), "name": f"<L{n}>"} for n in range(25)]
    plain = accepted(texts.candidates(commands.USAGE["fban"], lists))
    assert plain.startswith("Which federation? Use /fban <user> <fed id> [reason]")
    assert "<L0> (0)" in plain and "<L19> (19)" in plain and "and 5 more" in plain


def test_every_usage_and_help_line_is_valid_html_once_escaped():
    for usage in commands.USAGE.values():
        accepted(html.escape(usage))
    for line in commands.HELP_LINES:
        accepted(f"{html.escape(line.usage)}: {html.escape(line.text)}")
    names = {handler.commands and next(iter(handler.commands)) for handler in commands.handlers()
             if hasattr(handler, "commands")}
    for usage in commands.USAGE:
        assert usage in names


# -- through the bot's real application, the Telegram sandbox and a live core

sandbox, world = sandbox_fixtures()


class Talk:
    """Commands typed in the group or in private, each handed to the bot; the bot's answers read back."""

    def __init__(self, world, chat, bot):
        self.world, self.chat, self.bot = world, chat, bot
        self.update_id = 0

    def _chat_of(self, where, login):
        return self.world.private_chat(None, login, create=True) if where == "private" else self.chat

    def _bot_messages(self, chat) -> list:
        bot_id = self.world.bot().id
        return [m for m in chat.messages.values() if m.from_id == bot_id]

    async def say(self, login: str, text: str, *, where: str = "group", reply_to: int | None = None) -> str:
        chat = self._chat_of(where, login)
        before = len(self._bot_messages(chat))
        target = self.world.bot().user if where == "private" else self.chat
        message = self.world.send_message(target, login, text, reply_to=reply_to)
        self.last = message
        self.update_id += 1
        await self.bot.handle({"update_id": self.update_id, "message": self.world.message_dict(message)})
        await self.bot.settle()
        new = self._bot_messages(chat)[before:]
        self.sent = new
        return "\n".join(m.text or m.caption or "" for m in new)

    async def press(self, login: str, data: str, *, where: str = "group") -> dict:
        chat = self._chat_of(where, login)
        mine = [m for m in self._bot_messages(chat) if m.reply_markup]
        query = self.world.press_button(chat, mine[-1].message_id, login, data)
        self.update_id += 1
        await self.bot.handle({"update_id": self.update_id, "callback_query": query})
        await self.bot.settle()
        return self.world.callback_answer(query["id"])


def talk_in(world, sandbox, live_server, tmp_path, scenario):
    chat, group = core_group(world)

    async def main():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            bot.data.groups[chat.id] = str(group.pk)
            return await scenario(Talk(world, chat, bot), bot, chat, group)

    return asyncio.run(main())


def _fed_id(answer: str) -> str:
    return answer.split("FedID: ", 1)[1].split()[0]


@pytest.mark.django_db(transaction=True)
def test_a_federation_from_creation_to_deletion(world, sandbox, live_server, tmp_path):
    spammer = PEOPLE["spammer"]

    async def scenario(talk, bot, chat, group):
        said = {"group_newfed": await talk.say("alice", "/newfed Spam <Watch>")}
        said["newfed"] = await talk.say("alice", "/newfed Spam <Watch>", where="private")
        fed = said["fed"] = _fed_id(said["newfed"])
        said["join_member"] = await talk.say("dave", f"/joinfed {fed}")
        said["join"] = await talk.say("alice", f"/joinfed {fed}")
        said["cached"] = tuple(bot.data.protection.get(chat.id).ban_lists)
        said["fban_refused"] = await talk.say("bob_mod", f"/fban {spammer} spam")
        bob_says = world.send_message(chat, "bob_mod", "hello")
        said["promote"] = await talk.say("alice", "/fedpromote", reply_to=bob_says.message_id)
        said["fban"] = await talk.say("bob_mod", f"/fban {spammer} posts <b>links</b> & scams")
        said["banned"] = await asyncio.to_thread(lambda: Ban.objects.get(telegram_user_id=spammer).active)
        said["fedstat"] = await talk.say("carol", f"/fedstat {spammer}")
        said["fedinfo"] = await talk.say("carol", "/fedinfo")
        said["fedadmins"] = await talk.say("carol", f"/fedadmins {fed}")
        said["fedchats_member"] = await talk.say("carol", "/fedchats")
        said["fedchats"] = await talk.say("alice", "/fedchats")
        said["fbanlist_member"] = await talk.say("carol", "/fbanlist")
        said["fbanlist"] = await talk.say("bob_mod", "/fbanlist json")
        said["document"] = talk.sent[-1].content.get("document") if talk.sent else None
        said["unfban"] = await talk.say("bob_mod", f"/unfban {spammer} appealed")
        said["myfeds"] = await talk.say("bob_mod", "/myfeds", where="private")
        said["leave"] = await talk.say("alice", "/leavefed")
        said["delfed_admin"] = await talk.say("bob_mod", f"/delfed {fed}", where="private")
        said["delfed"] = await talk.say("alice", f"/delfed {fed}", where="private")
        said["press"] = await talk.press("alice", f"fdel:y:{fed}:{PEOPLE['alice']}", where="private")
        said["gone"] = await talk.say("alice", f"/fedinfo {fed}", where="private")
        return said

    said = talk_in(world, sandbox, live_server, tmp_path, scenario)
    fed = said["fed"]
    assert "in private" in said["group_newfed"]
    assert "Created new federation Spam <Watch>" in said["newfed"]
    assert "BAN_LIST_SUBSCRIBE" in said["join_member"]
    assert "Successfully joined the federation Spam <Watch>" in said["join"]
    assert fed in said["cached"]
    assert "BAN_LIST_BAN" in said["fban_refused"]
    assert "now an admin of Spam <Watch>" in said["promote"]
    assert said["fban"].startswith("New FedBan") and "Reason: posts <b>links</b> & scams" in said["fban"]
    assert "Banning them in 1 chat" in said["fban"]
    assert said["banned"]
    assert "is banned in 1 federation" in said["fedstat"] and "Spam <Watch>" in said["fedstat"]
    assert "Number of bans: 1" in said["fedinfo"] and "Number of connected chats: 1" in said["fedinfo"]
    assert "(owner)" in said["fedadmins"] and "bob_mod" in said["fedadmins"]
    assert "BAN_LIST_VIEW" in said["fedchats_member"] and "Sandbox Group" in said["fedchats"]
    assert "BAN_LIST_VIEW" in said["fbanlist_member"]
    assert said["document"] is not None, said["fbanlist"]
    assert said["document"].get("file_name") == f"fbanlist-{fed}.json"
    rows = json.loads(world.files.content(said["document"]["file_id"]))
    assert rows == [{"telegram_user_id": spammer, "reason": "posts <b>links</b> & scams", "date": rows[0]["date"]}]
    assert said["unfban"].startswith("New un-FedBan") and not Ban.objects.get(telegram_user_id=spammer).active
    assert "Spam <Watch>" in said["myfeds"] and "admin" in said["myfeds"]
    assert "has left the federation" in said["leave"] and not Subscription.objects.exists()
    assert "BAN_LIST_MANAGE" in said["delfed_admin"]
    assert "Are you sure" in said["delfed"]
    assert said["press"]["answered"]
    assert not BanList.objects.get(pk=fed).is_active
    assert "I don't know a federation" in said["gone"]


@pytest.mark.django_db(transaction=True)
def test_the_list_a_command_means(world, sandbox, live_server, tmp_path):
    spammer = PEOPLE["spammer"]

    async def scenario(talk, bot, chat, group):
        said = {"none": await talk.say("alice", f"/fban {spammer}", where="private")}
        first = _fed_id(await talk.say("alice", "/newfed First", where="private"))
        said["one"] = await talk.say("alice", f"/fban {spammer} one list", where="private")
        second = _fed_id(await talk.say("alice", "/newfed Second", where="private"))
        said["two"] = await talk.say("alice", f"/fban {spammer} which one", where="private")
        said["named"] = await talk.say("alice", f"/fban {spammer} {second} in the second", where="private")
        said["group_none"] = await talk.say("alice", f"/fban {spammer}")
        await talk.say("alice", f"/joinfed {first}")
        await talk.say("alice", f"/joinfed {second}")
        said["group_two"] = await talk.say("alice", "/leavefed")
        said["group_named"] = await talk.say("alice", f"/fban {spammer} {first} named here")
        third = _fed_id(await talk.say("alice", "/newfed Third", where="private"))
        said["group_elsewhere"] = await talk.say("alice", f"/fban {spammer} {third} named elsewhere")
        return said, first, second

    said, first, second = talk_in(world, sandbox, live_server, tmp_path, scenario)
    assert "You don't own or admin any federation" in said["none"]
    assert said["one"].startswith("New FedBan") and "Fed: First" in said["one"] and "Reason: one list" in said["one"]
    assert said["two"].startswith("Which federation?") and f"First ({first})" in said["two"]
    assert f"Second ({second})" in said["two"]
    assert "Fed: Second" in said["named"] and "Reason: in the second" in said["named"]
    assert "hasn't joined any federation" in said["group_none"]
    assert said["group_two"].startswith("Which federation?")
    assert "Fed: First" in said["group_named"] and "Reason: named here" in said["group_named"]
    assert "Fed: Third" in said["group_elsewhere"] and "Reason: named elsewhere" in said["group_elsewhere"]
    assert set(Ban.objects.filter(telegram_user_id=spammer).values_list("ban_list__name", flat=True)) == {
        "First", "Second", "Third"}


@pytest.mark.django_db(transaction=True)
def test_with_core_unreachable_every_command_says_so(world, sandbox, live_server, tmp_path):
    async def scenario(talk, bot, chat, group):
        reachable = bot.data.core
        bot.data.core = Counting(AsyncCoreClient(f"http://127.0.0.1:{free_port()}", "bot-key", timeout=1, retries=0))
        try:
            return [await talk.say("alice", "/newfed Down", where="private"),
                    await talk.say("alice", f"/fban {PEOPLE['spammer']} spam", where="private"),
                    await talk.say("alice", "/fedinfo 3", where="private"),
                    await talk.say("alice", "/fbanlist 3"),
                    await talk.say("alice", "/myfeds", where="private")]
        finally:
            await bot.data.core.core.aclose()
            bot.data.core = reachable

    answers = talk_in(world, sandbox, live_server, tmp_path, scenario)
    assert answers == [UNAVAILABLE_REPLY] * len(answers)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_renaming_the_log_chat_follows_admins_and_the_delete_button(world, sandbox, live_server, tmp_path):
    spammer = PEOPLE["spammer"]

    async def scenario(talk, bot, chat, group):
        main = _fed_id(await talk.say("alice", "/newfed Main", where="private"))
        source = _fed_id(await talk.say("bob_mod", "/newfed Source <feed>", where="private"))
        said = {"rename_other": await talk.say("bob_mod", f"/renamefed {main} Stolen", where="private"),
                "rename": await talk.say("alice", f"/renamefed {main} Main & <Co>", where="private"),
                "rename_long": await talk.say("alice", f"/renamefed {main} {'x' * 65}", where="private")}
        await talk.say("alice", f"/joinfed {main}")
        said["setlog"] = await talk.say("alice", f"/setfedlog {main}")
        said["log_chat"] = await asyncio.to_thread(lambda: BanList.objects.get(pk=main).log_chat_id)
        said["subfed_other"] = await talk.say("bob_mod", f"/subfed {main} {source}", where="private")
        said["subfed"] = await talk.say("alice", f"/subfed {main} {source}", where="private")
        said["self_follow"] = await talk.say("alice", f"/subfed {main} {main}", where="private")
        said["fedsubs"] = await talk.say("carol", f"/fedsubs {main}")
        said["cached"] = set(bot.data.protection.get(chat.id).ban_lists)
        said["fban_source"] = await talk.say("bob_mod", f"/fban {spammer} {source} feed spam", where="private")
        said["fedstat_self"] = await talk.say("spammer", "/fedstat")
        said["fedstat_one"] = await talk.say("carol", f"/fedstat {spammer} {source}")
        said["unsubfed"] = await talk.say("alice", f"/unsubfed {main} {source}", where="private")
        said["unsetlog"] = await talk.say("alice", f"/unsetfedlog {main}", where="private")
        carol_says = world.send_message(chat, "carol", "hi")
        said["promote"] = await talk.say("alice", f"/fedpromote {main}", reply_to=carol_says.message_id)
        said["demote"] = await talk.say("alice", f"/feddemote {main}", reply_to=carol_says.message_id)
        said["demote_again"] = await talk.say("alice", f"/feddemote {main}", reply_to=carol_says.message_id)
        said["fban_self"] = await talk.say("alice", f"/fban {PEOPLE['alice']}")
        said["delfed"] = await talk.say("alice", f"/delfed {main}")
        said["press_other"] = await talk.press("bob_mod", f"fdel:y:{main}:{PEOPLE['alice']}")
        said["cancel"] = await talk.press("alice", f"fdel:n:{main}:{PEOPLE['alice']}")
        said["still"] = await asyncio.to_thread(lambda: BanList.objects.get(pk=main).is_active)
        said["bad_id"] = await talk.say("carol", "/fedinfo nonsense")
        said["unknown"] = await talk.say("carol", "/fedinfo 99999")
        return said, main, source, chat

    said, main, source, chat = talk_in(world, sandbox, live_server, tmp_path, scenario)
    assert "BAN_LIST_MANAGE" in said["rename_other"]
    assert said["rename"] == f"Renamed the federation Main to Main & <Co> ({main})."
    assert "at most 64 characters" in said["rename_long"]
    assert "This chat is now the log of the federation Main & <Co>" in said["setlog"]
    assert said["log_chat"] == chat.id
    assert "BAN_LIST_MANAGE" in said["subfed_other"]
    assert f"Main & <Co> ({main}) now takes the bans of Source <feed> ({source})" in said["subfed"]
    assert "can't take its own bans" in said["self_follow"]
    assert f"Takes the bans of:\n• Source <feed> ({source})" in said["fedsubs"]
    assert said["cached"] == {main, source}  # the group now holds the followed list's bans too
    assert "Fed: Source <feed>" in said["fban_source"] and "Banning them in 1 chat" in said["fban_source"]
    assert "is banned in 1 federation" in said["fedstat_self"] and "feed spam" in said["fedstat_self"]
    assert "Reason: feed spam" in said["fedstat_one"]
    assert "no longer takes the bans" in said["unsubfed"]
    assert "has no log chat any more" in said["unsetlog"]
    assert said["promote"].endswith(f"is now an admin of Main & <Co> ({main}): they can /fban and /unfban.")
    assert "is no longer an admin" in said["demote"]
    assert "isn't an admin" in said["demote_again"], said["demote_again"]
    assert "can't fban yourself" in said["fban_self"]
    assert "Are you sure" in said["delfed"]
    assert said["press_other"]["answer"]["show_alert"] and "Only the one who asked" in \
        said["press_other"]["answer"]["text"]
    assert said["still"]
    assert "nonsense is not a federation id" in said["bad_id"]
    assert "I don't know a federation with the id 99999" in said["unknown"]


@pytest.mark.django_db(transaction=True)
def test_help_lists_the_federation_commands_to_whom_may_run_them(world, sandbox, live_server, tmp_path):
    async def scenario(talk, bot, chat, group):
        said = {"private": await talk.say("dave", "/help", where="private")}
        for login in ("alice", "dave"):
            private = world.private_chat(None, login, create=True)
            before = len(talk._bot_messages(private))
            await talk.say(login, "/help")
            said[login] = "\n".join(m.text or "" for m in talk._bot_messages(private)[before:])
        return said

    said = talk_in(world, sandbox, live_server, tmp_path, scenario)
    assert "/newfed &lt;name&gt;" not in said["private"] and "/newfed <name>" in said["private"]
    assert "/fban <user> [fed id] [reason]" in said["private"] and "/joinfed" not in said["private"]
    assert "/joinfed <fed id>" in said["alice"] and "/fbanlist" in said["alice"]
    assert "/joinfed" not in said["dave"] and "/fedinfo" in said["dave"]


@pytest.mark.django_db(transaction=True)
def test_fedinfo_fedadmins_and_fedsubs_can_be_disabled_for_members(world, sandbox, live_server, tmp_path):
    async def scenario(talk, bot, chat, group):
        fed = _fed_id(await talk.say("alice", "/newfed Quiet", where="private"))
        await talk.say("alice", f"/joinfed {fed}")
        disabled = await talk.say("alice", "/disable fedinfo fedadmins fedsubs")
        return (disabled, [await talk.say("dave", command) for command in ("/fedinfo", "/fedadmins", "/fedsubs")],
                await talk.say("alice", "/fedinfo"))

    disabled, member, admin = talk_in(world, sandbox, live_server, tmp_path, scenario)
    assert "fedinfo" in disabled and "MANAGE_SETTINGS" not in disabled
    assert member == ["", "", ""]
    assert "Federation info" in admin and "Name: Quiet" in admin
