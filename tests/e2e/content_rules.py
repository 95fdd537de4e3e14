"""Shared steps of the content-rule end-to-end tests (locks, blocklist): groups whose rules are set through core and
known to be in the bot's cache, fresh members, posting content as a person, and waiting for the bot's verdict (the
message gone from the chat, core's automated record)."""

from __future__ import annotations

import itertools
import time

from .test_antiflood import settings_reads

ALICE = 2000001  # the owner of every e2e group: the actor of the settings changes
_people = itertools.count(1)


def fresh_members(platform, count: int, prefix: str = "member") -> list[str]:
    """New people (usernames), so an action that removes one leaves the others for the next checks."""
    names = []
    for _ in range(count):
        name = f"{prefix}{next(_people)}_{int(time.time() * 1000) % 100000}"
        platform.telegram.create_user(prefix.capitalize(), username=name)
        names.append(name)
    return names


def rules_group(platform, *, locks: dict | None = None, blocklist: list[dict] | None = None,
                members: tuple[str, ...] = (), **protection) -> tuple[dict, object]:
    """A new group (carol, dave, spammer + `members`; bob_mod an admin) whose locks, blocklist and protection
    fields are set through core, and whose settings the bot has read since: returns (the sandbox chat, core's group).
    The bot loads a chat's settings on its first message there (a message from an admin starts it), or reloads them
    when its version poll sees the change."""
    chat = platform.new_group(members=("carol", "dave", "spammer", *members))
    group = platform.api.group_by_chat(chat["id"])
    apply_rules(platform, chat, group, locks=locks, blocklist=blocklist, **protection)
    return chat, group


def apply_rules(platform, chat, group, *, locks: dict | None = None, blocklist: list[dict] | None = None,
                **protection) -> None:
    if locks:
        platform.api.locks_update(group.id, locks=locks, actor_telegram_user_id=ALICE)
    if blocklist:
        platform.api.blocklist_add(group.id, entries=blocklist, actor_telegram_user_id=ALICE)
    if protection:
        platform.api.protection_update(group.id, actor_telegram_user_id=ALICE, **protection)
    before = settings_reads(platform)
    platform.telegram.send_message(chat["id"], "bob_mod", "rules are set")
    platform.wait_for(lambda: settings_reads(platform) > before, "the bot to read the group's rules", timeout=10)
    time.sleep(0.2)  # core's answer, counted on core's side, on its way into the bot's cache


def locked(mode: str = "delete", seconds: int | None = None, reason: str | None = None) -> dict:
    entry: dict = {"mode": mode}
    if seconds is not None:
        entry["duration_seconds"] = seconds
    if reason is not None:
        entry["reason"] = reason
    return entry


def exists(platform, chat_id: int, message_id: int) -> bool:
    found = platform.telegram.messages(chat_id, since_id=message_id - 1, count=1)
    return bool(found) and found[0]["message_id"] == message_id


def wait_deleted(platform, chat_id: int, message_id: int, what: str, timeout: float = 8.0) -> None:
    platform.wait_for(lambda: not exists(platform, chat_id, message_id), f"{what} to be deleted", timeout=timeout)


def records(platform, group_id: str, rule: str, **filters) -> list[dict]:
    return platform.api.moderation_list(group_id=group_id, rule=rule, **filters)["items"]


def record_for(platform, group_id: str, rule: str, message_id: int, timeout: float = 8.0) -> dict:
    """Core's executed automated record naming the message."""

    def found():
        for record in records(platform, group_id, rule):
            if record.get("telegram_message_id") == message_id and record["status"] in ("executed", "failed"):
                return record
        return None

    return platform.wait_for(found, f"core's {rule} record of message {message_id}", timeout=timeout)


def untouched(platform, chat_id: int, message_ids: list[int], group_id: str, rule: str) -> None:
    """The bot is done with everything sent, and these messages are still there with no record naming them."""
    platform.wait_for(platform.settled, "the bot to take the messages", timeout=10)
    time.sleep(0.5)  # an act runs in the background after its message was taken: core's refusal, or the deletion
    for message_id in message_ids:
        assert exists(platform, chat_id, message_id), f"message {message_id} was deleted"
    named = {record.get("telegram_message_id") for record in records(platform, group_id, rule)}
    assert not named & set(message_ids), named


def member_status(platform, chat_id: int, user) -> dict:
    return platform.telegram.member(chat_id, user)
