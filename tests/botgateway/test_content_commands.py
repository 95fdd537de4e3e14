"""The lock and blocklist commands (Rose's names) through the bot's real application, against the Telegram sandbox
and a live core: each change is core's (MANAGE_SETTINGS checked there: a member is refused, nothing written), the
bot's settings cache holds it at once (the next message is judged by it), the listings show what core holds, bad
input is answered with the usage, and /unblocklistall takes the owner's press on a button."""

import asyncio

import pytest

from apps.botgateway.parsing import UsageError
from apps.botgateway.protection.content_commands import CANCEL_DATA, CLEAR_DATA, parse_blocklist_entries, parse_lock
from apps.contentrules.models import BlocklistEntry, Lock
from apps.moderation.models import ModerationAction
from apps.protection.models import ProtectionSettings

from .content_harness import Bot, bot_texts, core_group, present, sandbox_fixtures

pytestmark = pytest.mark.django_db(transaction=True)


sandbox, world = sandbox_fixtures()


class Chat:
    """Commands typed in the group, each handed to the bot; the bot's answers read back."""

    def __init__(self, world, chat, bot):
        self.world, self.chat, self.bot = world, chat, bot
        self.update_id = 0

    async def say(self, login: str, text: str = "", **content) -> str:
        """`login` writes `text`; the bot's answers to it (joined)."""
        before = len(bot_texts(self.world, self.chat))
        message = self.world.send_message(self.chat, login, text or None, content=content or None)
        self.update_id += 1
        await self.bot.handle({"update_id": self.update_id, "message": self.world.message_dict(message)})
        await self.bot.settle()
        self.last = message
        return "\n".join(bot_texts(self.world, self.chat)[before:])

    async def press(self, login: str, data: str) -> None:
        mine = [m for m in self.world.chat(self.chat.id).messages.values() if m.reply_markup]
        query = self.world.press_button(self.chat, mine[-1].message_id, login, data)
        self.update_id += 1
        await self.bot.handle({"update_id": self.update_id, "callback_query": query})


def in_chat(world, sandbox, live_server, tmp_path, group_chat, scenario):
    chat, group = group_chat

    async def main():
        async with Bot(sandbox, live_server, tmp_path) as bot:
            await bot.know(chat.id, group.pk)
            return await scenario(Chat(world, chat, bot), bot)

    return asyncio.run(main())


def locks_of(group) -> dict:
    return {lock.lock_type: (lock.mode, lock.duration_seconds, lock.reason)
            for lock in Lock.objects.filter(group=group)}


def test_lock_parsing_reads_types_aliases_modes_and_reasons():
    assert parse_lock("stickers gif ban No stickers here") == (["sticker", "gif"], "ban", None, "No stickers here")
    assert parse_lock("url {tban 2d} no links") == (["url"], "tban", 172800, "no links")
    assert parse_lock("invite video_note") == (["invitelink", "videonote"], "delete", None, "")
    assert parse_lock("forward tmute 1h") == (["forward"], "tmute", 3600, "")
    for bad in ("", "nonsense", "sticker tmute", "sticker tban 10s", "sticker {explode}"):
        with pytest.raises(UsageError):
            parse_lock(bad)


def test_blocklist_parsing_reads_one_entry_with_its_mode_or_one_pattern_per_line():
    assert parse_blocklist_entries('"buy now" tmute 1h spam please') == [
        {"pattern": "buy now", "mode": "tmute", "duration_seconds": 3600, "reason": "spam please"}]
    assert parse_blocklist_entries("crypto Don't say it {ban}") == [
        {"pattern": "crypto", "mode": "ban", "duration_seconds": None, "reason": "Don't say it"}]
    assert parse_blocklist_entries('(crypto, "free  money", casino*) no spam {tban 1d}') == [
        {"pattern": pattern, "mode": "tban", "duration_seconds": 86400, "reason": "no spam"}
        for pattern in ("crypto", "free money", "casino*")]
    assert parse_blocklist_entries('buy*now\n"free money"\nclick here') == [
        {"pattern": "buy*now"}, {"pattern": "free money"}, {"pattern": "click here"}]
    for bad in ("", "*", '"***"', "x" * 101, "(crypto, *)", '"unclosed'):
        with pytest.raises(UsageError):
            parse_blocklist_entries(bad)


def test_lock_unlock_and_the_listings(world, sandbox, live_server, tmp_path):
    group_chat = core_group(world)
    chat, group = group_chat

    async def scenario(talk, bot):
        said = {"lock": await talk.say("alice", "/lock stickers gif ban No stickers here")}
        said["cache"] = dict(bot.data.protection.get(chat.id).locks)
        sticker = world.send_message(chat, "dave", content={"sticker": True})
        await bot.handle({"update_id": 100, "message": world.message_dict(sticker)})
        await bot.settle()
        said["sticker"] = sticker
        said["locks"] = await talk.say("alice", "/locks")
        said["list"] = await talk.say("alice", "/locks list")
        said["types"] = await talk.say("carol", "/locktypes")
        said["bad"] = await talk.say("alice", "/lock nonsense")
        said["unlock"] = await talk.say("alice", "/unlock gif")
        said["after_unlock"] = await asyncio.to_thread(locks_of, group)
        await talk.say("alice", "/lock url tmute 1h")
        said["unlock_all"] = await talk.say("alice", "/unlock all")
        said["cache_after"] = dict(bot.data.protection.get(chat.id).locks)
        return said

    said = in_chat(world, sandbox, live_server, tmp_path, group_chat, scenario)
    assert "Locked: sticker, gif (ban). Reason: No stickers here" in said["lock"]
    assert set(said["cache"]) == {"sticker", "gif"}  # the cache holds core's answer at once
    assert not present(world, chat, said["sticker"].message_id)  # ... and the next message is judged by it
    assert ModerationAction.objects.get(group=group, rule="locks").type == "ban"
    assert "sticker (ban; reason: No stickers here)" in said["locks"] and "gif" in said["locks"]
    assert "url: open" in said["list"] and "sticker: locked (ban" in said["list"]
    assert "invitelink" in said["types"] and "stickers" in said["types"]
    assert "nonsense is not a lock type" in said["bad"]
    assert said["unlock"].startswith("Unlocked: gif.") and "Still locked: sticker" in said["unlock"]
    assert said["after_unlock"] == {"sticker": ("ban", None, "No stickers here")}
    assert "Unlocked:" in said["unlock_all"] and locks_of(group) == {} and said["cache_after"] == {}


def test_a_member_cannot_change_locks_or_the_blocklist(world, sandbox, live_server, tmp_path):
    group_chat = core_group(world)

    async def scenario(talk, bot):
        return [await talk.say("dave", "/lock sticker"), await talk.say("dave", "/addblocklist crypto"),
                await talk.say("dave", "/lockwarns off")]

    answers = in_chat(world, sandbox, live_server, tmp_path, group_chat, scenario)
    assert all("MANAGE_SETTINGS" in answer for answer in answers), answers
    assert Lock.objects.count() == 0 and BlocklistEntry.objects.count() == 0
    assert not ProtectionSettings.objects.filter(group=group_chat[1], lock_warns=False).exists()


def test_the_blocklist_commands(world, sandbox, live_server, tmp_path):
    group_chat = core_group(world)
    chat, group = group_chat

    async def scenario(talk, bot):
        said = {"add": await talk.say("alice", '/addblocklist "buy now" tmute 1h spam please')}
        said["bulk"] = await talk.say("alice", "/addblocklist crypto\ncasino*\nbuy now")
        said["bad"] = await talk.say("alice", "/addblocklist *")
        said["scam"] = await talk.say("alice", "/addblocklist scam ban Scammers out")
        said["list"] = await talk.say("alice", "/blocklist")
        said["mode"] = await talk.say("alice", "/blocklistmode tban 2d")
        said["mode_bad"] = await talk.say("alice", "/blocklistmode tban")
        said["delete"] = await talk.say("alice", "/blocklistdelete off")
        said["names"] = await talk.say("alice", "/blocklistnames on")
        said["rm"] = await talk.say("alice", "/rmblocklist crypto")
        said["rm_none"] = await talk.say("alice", "/rmblocklist nothing_here")
        said["cache"] = sorted(entry["pattern"] for entry in bot.data.protection.get(chat.id).blocklist)
        said["spam"] = await talk.say("dave", "casinoroyale tonight")
        said["spam_message"] = talk.last
        return said

    said = in_chat(world, sandbox, live_server, tmp_path, group_chat, scenario)
    assert "Added blocklist entry: buy now (tmute for 1 hour). Reason: spam please." in said["add"]
    assert "Added 2 blocklist entries, updated 1." in said["bulk"]
    assert "Not added" in said["bad"]
    assert "Added blocklist entry: scam (ban). Reason: Scammers out." in said["scam"]
    # A pattern given again is updated: the bulk line left "buy now" with the group's mode.
    assert "Blocklist (4)" in said["list"] and "• buy now\n" in said["list"]
    assert "scam (ban): Scammers out" in said["list"]
    assert "tban for 2 days" in said["mode"] and "needs a time" in said["mode_bad"]
    assert "off" in said["delete"] and "on" in said["names"]
    assert "Removed crypto from the blocklist." in said["rm"] and "Not in the blocklist" in said["rm_none"]
    settings = ProtectionSettings.objects.get(group=group)
    assert (settings.blocklist_action, settings.blocklist_action_duration_seconds, settings.blocklist_delete,
            settings.blocklist_joiner_names) == ("tban", 172800, False, True)
    assert said["cache"] == ["buy now", "casino*", "scam"]
    # The group's mode (tban 2 days), its message kept (/blocklistdelete off).
    assert present(world, chat, said["spam_message"].message_id)
    [record] = ModerationAction.objects.filter(group=group, rule="blocklist")
    assert (record.type, record.target.telegram_user_id) == ("ban", 2000004)


def test_unblocklistall_takes_the_owners_press(world, sandbox, live_server, tmp_path):
    group_chat = core_group(world, blocklist=[{"pattern": "crypto"}, {"pattern": "casino"}])
    chat, group = group_chat

    async def scenario(talk, bot):
        said = {"member": await talk.say("bob_mod", "/unblocklistall")}
        said["ask"] = await talk.say("alice", "/unblocklistall")
        await talk.press("alice", CANCEL_DATA)
        said["kept"] = await asyncio.to_thread(BlocklistEntry.objects.filter(group=group).count)
        await talk.say("alice", "/unblocklistall")
        await talk.press("alice", CLEAR_DATA)
        said["cache"] = list(bot.data.protection.get(chat.id).blocklist)
        return said

    said = in_chat(world, sandbox, live_server, tmp_path, group_chat, scenario)
    assert "Only the group's owner" in said["member"]
    assert "Are you sure" in said["ask"]
    assert said["kept"] == 2
    assert BlocklistEntry.objects.filter(group=group).count() == 0 and said["cache"] == []

