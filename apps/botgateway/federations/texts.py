"""What the /fed... commands read and say: their arguments, and core's answers as Rose-like replies (HTML-safe,
within Telegram's length) or as /fbanlist's file. Pure functions, no I/O."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

from ..parsing import UsageError

TELEGRAM_TEXT = 4096
# A list's id as core writes it: its pk (digits on SQLite, 24 hex on MongoDB).
_LIST_ID = re.compile(r"^(?:\d{1,19}|[0-9a-fA-F]{24})$")
FORMATS = ("csv", "json")
NAME_LIMIT = 64  # core's limit on a list's name


def is_list_id(token: str | None) -> bool:
    return bool(token) and _LIST_ID.match(token) is not None


def list_id(token: str, usage: str) -> str:
    """`token` as a list id, or the usage."""
    if not is_list_id(token):
        raise UsageError(f"{token} is not a federation id. {usage}")
    return token.lower() if not token.isdigit() else token


def fed_name(value: str, usage: str) -> str:
    """A new name for a list: one line, 1..64 characters (core's rule), said before core is asked."""
    name = " ".join((value or "").split())
    if not name:
        raise UsageError(usage)
    if len(name) > NAME_LIMIT:
        raise UsageError(f"A federation's name has at most {NAME_LIMIT} characters ({len(name)} given).")
    return name


def fbanlist_args(args: list[str], usage: str) -> tuple[str | None, str]:
    """/fbanlist [id] [csv|json], in either order: (the id or None, the format; csv by default)."""
    given, fmt = None, None
    for token in args:
        if token.lower() in FORMATS and fmt is None:
            fmt = token.lower()
        elif given is None and is_list_id(token):
            given = list_id(token, usage)
        else:
            raise UsageError(usage)
    return given, fmt or "csv"


def page_items(page: Mapping) -> tuple[list, int | None]:
    """(the rows, the total) of one of core's pages ({"items", "total", "page", "limit"})."""
    return list(page.get("items") or []), page.get("total")


# -- replies


def esc(value) -> str:
    return html.escape(str(value if value is not None else ""))


def code(value) -> str:
    return f"<code>{esc(value)}</code>"


def person(user: Mapping | None, fallback: str = "someone") -> str:
    """A core user ({"telegram_user_id", "username", "display_name"}) as a mention when Telegram can link it."""
    if not user:
        return esc(fallback)
    name = user.get("display_name") or (f"@{user['username']}" if user.get("username") else "") \
        or str(user.get("telegram_user_id") or fallback)
    telegram_id = user.get("telegram_user_id")
    if telegram_id:
        return f'<a href="tg://user?id={int(telegram_id)}">{esc(name)}</a>'
    return esc(name)


def fed_label(ban_list: Mapping) -> str:
    return f"<b>{esc(ban_list.get('name'))}</b> ({code(ban_list.get('id'))})"


def fed_info(ban_list: Mapping, follows: Mapping | None = None) -> str:
    lines = [
        "<b>Federation info</b>",
        f"FedID: {code(ban_list.get('id'))}",
        f"Name: {esc(ban_list.get('name'))}",
        f"Creator: {person(ban_list.get('owner'))}",
        f"Number of admins: {int(ban_list.get('admins_count') or 0)}",
        f"Number of bans: {int(ban_list.get('bans_count') or 0)}",
        f"Number of connected chats: {int(ban_list.get('groups_count') or 0)}",
        f"Log chat: {code(ban_list['log_chat_id']) if ban_list.get('log_chat_id') else 'none'}",
    ]
    if follows is not None:
        sources = follows.get("follows") or []
        if sources:
            lines.append("Subscribed to: " + ", ".join(fed_label(item) for item in sources))
        if follows.get("followers"):
            lines.append(f"Subscribers: {len(follows['followers'])}")
    return "\n".join(lines)


def fed_admins(ban_list: Mapping, answer: Mapping) -> list[str]:
    owner = answer.get("owner") or ban_list.get("owner")
    lines = [f"• {person(owner)} (owner)"]
    owner_id = (owner or {}).get("telegram_user_id")
    for admin in answer.get("admins") or []:
        user = admin.get("user") or {}
        if owner_id is not None and user.get("telegram_user_id") == owner_id and admin.get("role") == "banlist_owner":
            continue
        role = "owner" if admin.get("role") == "banlist_owner" else "admin"
        lines.append(f"• {person(user)} ({role})")
    return split(f"Admins in {fed_label(ban_list)}:", lines)


def fed_chats(ban_list: Mapping, chats: Iterable[Mapping], total: int | None) -> list[str]:
    lines = [f"• {esc(chat.get('title') or chat.get('telegram_chat_id'))} ({code(chat.get('telegram_chat_id'))})"
             for chat in chats]
    if not lines:
        return [f"No chats have joined {fed_label(ban_list)} yet. /joinfed {esc(ban_list.get('id'))} in a group "
                "joins it (the group's owner)."]
    more = total - len(lines) if total is not None and total > len(lines) else 0
    if more:
        lines.append(f"…and {more} more (the dashboard shows them all).")
    return split(f"Chats in {fed_label(ban_list)} ({total if total is not None else len(lines)}):", lines)


def fed_subs(ban_list: Mapping, follows: Mapping) -> list[str]:
    sources = [f"• {fed_label(item)}" for item in follows.get("follows") or []]
    followers = [f"• {fed_label(item)}" for item in follows.get("followers") or []]
    head = f"{fed_label(ban_list)}"
    lines = ["Takes the bans of:", *(sources or ["• no other federation"]),
             "Its bans are taken by:", *(followers or ["• no other federation"])]
    return split(head, lines)


def my_feds(lists: Iterable[Mapping], telegram_user_id: int) -> list[str]:
    lines = []
    for item in lists:
        owned = (item.get("owner") or {}).get("telegram_user_id") == telegram_user_id
        lines.append(f"• {fed_label(item)}: {'owner' if owned else 'admin'}, {int(item.get('bans_count') or 0)} bans, "
                     f"{int(item.get('groups_count') or 0)} chats")
    if not lines:
        return ["You don't own or admin any federation. /newfed &lt;name&gt; creates one (in private with me)."]
    return split("Your federations:", lines)


def fban_done(ban_list: Mapping, actor: str, target: str, telegram_user_id: int, answer: Mapping,
              reason: str) -> str:
    ban = answer.get("ban") or {}
    reach = answer.get("propagation") or {}
    groups, exempt = int(reach.get("groups") or 0), int(reach.get("exempt") or 0)
    reason = ban.get("reason", reason) or ""
    if answer.get("created", True):
        head = "<b>New FedBan</b>"
    else:
        head = "<b>FedBan reason updated</b>" if reason else "<b>Already fedbanned</b>"
    lines = [head, f"Fed: {esc(ban_list.get('name'))}", f"FedAdmin: {actor}", f"User: {target}",
             f"User ID: {code(telegram_user_id)}"]
    if reason:
        lines.append(f"Reason: {esc(reason)}")
    if answer.get("created", True) and not groups:
        lines.append("No chat takes the federation's bans yet: they are banned in any chat that joins it.")
    elif answer.get("created", True):
        reach_text = f"Banning them in {groups} chat{'s' if groups != 1 else ''} of the federation"
        if exempt:
            reach_text += f" ({exempt} where they are exempt: their moderators are told instead)"
        lines.append(reach_text + ".")
    return "\n".join(lines)


def unfban_done(ban_list: Mapping, actor: str, target: str, telegram_user_id: int, answer: Mapping,
                reason: str) -> str:
    if not answer.get("removed"):
        return f"{target} is not banned in {fed_label(ban_list)}."
    groups = int((answer.get("propagation") or {}).get("groups") or 0)
    lines = ["<b>New un-FedBan</b>", f"Fed: {esc(ban_list.get('name'))}", f"FedAdmin: {actor}", f"User: {target}",
             f"User ID: {code(telegram_user_id)}"]
    if reason:
        lines.append(f"Reason: {esc(reason)}")
    lines.append(f"Unbanning them in {groups} chat{'s' if groups != 1 else ''} of the federation.")
    return "\n".join(lines)


def fed_stat(target: str, answer: Mapping, only: str | None = None) -> list[str]:
    bans = answer.get("bans") or []
    if only is not None:
        bans = [ban for ban in bans if str((ban.get("ban_list") or {}).get("id")) == only]
        if not bans:
            return [f"{target} is not banned in the federation {code(only)}."]
        ban = bans[0]
        lines = [f"{target} is banned in {fed_label(ban['ban_list'])}.",
                 f"Reason: {esc(ban.get('reason') or 'none given')}"]
        if ban.get("banned_at"):
            lines.append(f"Date: {esc(ban['banned_at'])}")
        return ["\n".join(lines)]
    if not bans:
        return [f"{target} is not banned in any federation."]
    lines = []
    for ban in bans:
        line = f"• {fed_label(ban.get('ban_list') or {})}"
        if ban.get("reason"):
            line += f": {esc(ban['reason'])}"
        lines.append(line)
    return split(f"{target} is banned in {len(bans)} federation{'s' if len(bans) != 1 else ''}:", lines)


def candidates(usage: str, lists: list[Mapping]) -> str:
    """The reply when a command could mean several lists: which, and how to name one."""
    shown = [f"• {fed_label(item)}" for item in lists[:20]]
    more = f"\n…and {len(lists) - 20} more." if len(lists) > 20 else ""
    return f"Which federation? {esc(usage)}\n" + "\n".join(shown) + more


def split(heading: str, lines: list[str], limit: int = TELEGRAM_TEXT) -> list[str]:
    """The heading and lines as as few messages as Telegram's length allows, split between lines."""
    parts, current = [], heading
    for line in lines:
        if len(line) > limit - 1:
            line = line[: limit - 2] + "…"
        if len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}"
    parts.append(current)
    return parts
