"""Shared steps of the content-rule end-to-end tests (locks, blocklist): groups whose rules are set through core and
known to be in the bot's cache, fresh members, posting content as a person, and waiting for the bot's verdict (the
message gone from the chat, core's automated record)."""

from __future__ import annotations

import itertools
import time

from apps.coreclient import CoreError

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
    fields are set through core, and whose settings the bot holds (see apply_rules): returns (the sandbox chat,
    core's group)."""
    chat = platform.new_group(members=("carol", "dave", "spammer", *members))
    group = platform.api.group_by_chat(chat["id"])
    apply_rules(platform, chat, group, locks=locks, blocklist=blocklist, **protection)
    return chat, group


def as_owner(platform, write, *args, **fields):
    """A settings write by alice, the group's owner: core learns who she is from the bot's events about the new
    group (her user, then her owner role), which may still be on their way (permission_denied: user_not_found,
    permission_not_granted) -- asked again until then."""

    def attempt():
        try:
            return write(*args, actor_telegram_user_id=ALICE, **fields) or True
        except CoreError as exc:
            if exc.code == "permission_denied":
                return None
            raise

    return platform.wait_for(attempt, "core to know the group's owner", timeout=30)


def apply_rules(platform, chat, group, *, locks: dict | None = None, blocklist: list[dict] | None = None,
                **protection) -> None:
    """Sets the rules through core, then proves the bot has them: the last write adds a probe entry to the blocklist
    (warn: it makes a record whatever the group's other settings), and a fresh member's message with the probe word
    must reach core's record. The bot loads a chat's settings on its first message there, or reloads them when its
    version poll sees a change: whichever it was, it now holds this version or a later one."""
    if locks:
        as_owner(platform, platform.api.locks_update, group.id, locks=locks)
    if protection:
        as_owner(platform, platform.api.protection_update, group.id, **protection)
    word = f"zzprobe{next(_people)}"
    as_owner(platform, platform.api.blocklist_add, group.id, entries=[*(blocklist or []),
                                                                       {"pattern": word, "mode": "warn"}])
    [prober] = fresh_members(platform, 1, "prober")
    platform.telegram.add_member(chat["id"], prober)
    deadline = time.monotonic() + 15
    while True:
        probe = platform.telegram.send_message(chat["id"], prober, word)
        try:
            # A text or all lock takes the probe before the blocklist: any rule's record will do.
            record_for(platform, group.id, None, probe["message_id"], timeout=2.5, what="the probe")
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


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


def records(platform, group_id: str, rule: str | None, **filters) -> list[dict]:
    return platform.api.moderation_list(group_id=group_id, rule=rule, **filters)["items"]


def record_for(platform, group_id: str, rule: str | None, message_id: int, timeout: float = 8.0,
               what: str = "") -> dict:
    """Core's executed (or failed) automated record of `rule` (None: any) naming the message."""

    def found():
        for record in records(platform, group_id, rule):
            if record.get("telegram_message_id") == message_id and record["status"] in ("executed", "failed"):
                return record
        return None

    try:
        return platform.wait_for(found, f"core's {rule} record of message {message_id}", timeout=timeout)
    except AssertionError as missing:
        seen = [(r.get("telegram_message_id"), r["type"], r["status"], r.get("reason")) for r in
                records(platform, group_id, rule)]
        raise AssertionError(f"{missing} ({what}); core's {rule} records of the group: {seen}") from None


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


def target_telegram_id(platform, record: dict) -> int:
    """The Telegram id of an action's target (core's records name its own user id)."""
    user = platform.api.user_get(record["target_user_id"])
    return user["telegram_user_id"] if isinstance(user, dict) else user.telegram_user_id
