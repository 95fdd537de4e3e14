"""Locks and the blocklist in chat, with Rose's commands and behaviour. Each change is one core call with the actor
(core checks MANAGE_SETTINGS in the group and audits it); the bot keeps core's answer in its settings cache, whose
compiled rules content.py checks every message against.

/lock <type...> [mode [time]] [reason] (or Rose's {mode time} anywhere), /unlock <type...> (/unlock all: every lock),
/locks (/locks list: every type), /locktypes, /lockwarns on|off;
/addblocklist <word or "quoted phrase"> [mode [time]] [reason] (several entries: one per line, each line a pattern),
/rmblocklist <pattern...>, /unblocklistall (the group's owner, after a confirmation), /blocklist,
/blocklistmode <mode> [time], /blocklistdelete on|off, /blocklistnames on|off.
"""

from __future__ import annotations

import html
import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from apps.common.contentrules import LOCK_DESCRIPTIONS, LOCK_TYPES, MODES, TIMED_MODES, canonical_lock, pattern_problems

from ..command_frame import run_command
from ..flows import StopCommand, reply, require_bot_right
from ..helplines import HelpLine
from ..parsing import UsageError, parse_duration
from .commands import (
    RESTRICTION_SECONDS,
    _bounded,
    change_settings,
    current_settings,
    describe_seconds,
    settings_write,
    toggle_command,
)
from .filters import parse_triggers
from .saved_replies import remember, remove_all_commands

PERMISSION = "MANAGE_SETTINGS"
MODE_WORDS = {**{mode: mode for mode in MODES}, "nothing": "delete"}  # Rose's name of the plain delete
MAX_ENTRIES = 5000  # core's limit per group (and per call)
TELEGRAM_TEXT = 4000  # a listing's length, under Telegram's 4096 with room for its last line
CALLBACK_PREFIX = "bll"
CLEAR_DATA, CANCEL_DATA = f"{CALLBACK_PREFIX}:clear", f"{CALLBACK_PREFIX}:cancel"
_BRACES = re.compile(r"\{\s*([a-z]+)(?:\s+(\S+))?\s*\}", re.I)
_TOKEN = re.compile(r'"([^"]*)"|“([^”]*)”|«([^»]*)»|(\S+)')

HELP_LINES: list[HelpLine] = [
    HelpLine("/lock <type...> [mode] [reason]", "lock content types (/locktypes); mode: delete (default), warn, "
             "mute, tmute <time>, kick, ban, tban <time>", PERMISSION),
    HelpLine("/unlock <type...>", "unlock them (/unlock all: every lock)", PERMISSION),
    HelpLine("/locks", "what is locked here (/locks list: every type)"),
    HelpLine("/locktypes", "the content types that can be locked"),
    HelpLine("/lockwarns on|off", "say in the group why a locked message was deleted", PERMISSION),
    HelpLine("/addblocklist <word or \"phrase\"> [mode] [reason]", "block words and phrases (* = any letters; "
             "one per line for several)", PERMISSION),
    HelpLine("/rmblocklist <pattern...>", "remove blocklist entries", PERMISSION),
    HelpLine("/unblocklistall", "remove every blocklist entry (the owner)", PERMISSION),
    HelpLine("/blocklist", "this group's blocklist"),
    HelpLine("/blocklistmode <mode> [time]", "what a blocklisted message brings its sender (default: delete)",
             PERMISSION),
    HelpLine("/blocklistdelete on|off", "delete blocklisted messages", PERMISSION),
    HelpLine("/blocklistnames on|off", "check joiners' names against the blocklist", PERMISSION),
]


def argument_text(update: Update) -> str:
    """The command's text after its name, as typed (quotes and lines kept)."""
    parts = (update.effective_message.text or "").split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


def tokens(text: str) -> list[tuple[str, bool]]:
    """(token, whether it was quoted) for each word or "quoted phrase"."""
    found = []
    for match in _TOKEN.finditer(text):
        quoted = next((group for group in match.groups()[:3] if group is not None), None)
        found.append((quoted, True) if quoted is not None else (match.group(4), False))
    return found


def describe_mode(mode: str, seconds: int | None) -> str:
    return f"{mode} for {describe_seconds(seconds)}" if mode in TIMED_MODES and seconds else mode


def take_mode(words: list[str], usage: str) -> tuple[str | None, int | None, int]:
    """A mode at the start of `words` (tmute and tban with their time): (mode, seconds, words used); (None, None, 0)
    when the first word is not a mode."""
    if not words or words[0].lower() not in MODE_WORDS:
        return None, None, 0
    mode = MODE_WORDS[words[0].lower()]
    if mode not in TIMED_MODES:
        return mode, None, 1
    seconds = parse_duration(words[1]) if len(words) > 1 else None
    if seconds is None:
        raise UsageError(f"{mode} needs a time, e.g. {mode} 3h. {usage}")
    _bounded(seconds, RESTRICTION_SECONDS, "The time", seconds=True)
    return mode, seconds, 2


def braced_mode(text: str, usage: str) -> tuple[str, str | None, int | None]:
    """Rose's {mode time} taken out of `text`: (the text without it, mode, seconds)."""
    match = _BRACES.search(text)
    if match is None:
        return text, None, None
    words = [word for word in match.groups() if word]
    mode, seconds, used = take_mode(words, usage)
    if mode is None or used != len(words):
        raise UsageError(f"{{{' '.join(words)}}} is not a mode. {usage}")
    return (text[:match.start()] + text[match.end():]).strip(), mode, seconds


async def _bot_rights_note(update: Update, context, mode: str) -> str:
    """What the bot lacks to enforce `mode` here, as a note for the reply ('' when nothing)."""
    rights = ["can_delete_messages"] + (["can_restrict_members"] if mode not in ("delete", "warn") else [])
    for right in rights:
        try:
            await require_bot_right(context, update.effective_chat, right)
        except StopCommand as missing:
            return f"\nNote: {missing.reply}"
        except Exception:  # Telegram did not answer: the rules still stand
            return ""
    return ""


# -- locks


LOCK_USAGE = ("Use /lock <type...> [mode] [reason], e.g. /lock sticker gif, /lock url ban No links, /lock forward "
              "tmute 1h. Modes: delete (default), warn, mute, tmute <time>, kick, ban, tban <time>. /locktypes lists "
              "the types.")


def parse_lock(text: str) -> tuple[list[str], str, int | None, str]:
    """(lock types, mode, seconds, reason) of /lock's text."""
    text, mode, seconds = braced_mode(text, LOCK_USAGE)
    words = text.split()
    types: list[str] = []
    while words and (lock_type := canonical_lock(words[0])) is not None:
        if lock_type not in types:
            types.append(lock_type)
        words.pop(0)
    if not types:
        if words:
            raise UsageError(f"{words[0]} is not a lock type. {LOCK_USAGE}")
        raise UsageError(LOCK_USAGE)
    if mode is None:
        mode, seconds, used = take_mode(words, LOCK_USAGE)
        words = words[used:]
    return types, mode or "delete", seconds, " ".join(words)


async def _write_locks(update: Update, context, locks: dict) -> dict:
    answer = await settings_write(
        update, context, lambda group_id, actor: context.core.locks_update(group_id, locks=locks, **actor))
    await remember(context.bot_data, update.effective_chat.id, answer.get("version"),
                   lambda wire: {**wire, "locks": answer["locks"]})
    return answer


async def lock(update: Update, context) -> None:
    async def body():
        types, mode, seconds, reason = parse_lock(argument_text(update))
        how = {"mode": mode, "duration_seconds": seconds, "reason": reason}
        await _write_locks(update, context, dict.fromkeys(types, how))
        text = f"Locked: {', '.join(types)} ({describe_mode(mode, seconds)})."
        if reason:
            text += f" Reason: {html.escape(reason)}"
        if "all" in types or "text" in types:
            text += "\nEvery message of that kind from a member is now deleted; admins and approved members are " \
                    "not affected."
        await reply(update, text + await _bot_rights_note(update, context, mode))

    await run_command(update, context, "lock", body)


async def unlock(update: Update, context) -> None:
    usage = "Use /unlock <type...>, e.g. /unlock sticker gif; /unlock all unlocks everything."

    async def body():
        words = argument_text(update).split()
        if not words:
            raise UsageError(usage)
        types = []
        for word in words:
            lock_type = canonical_lock(word)
            if lock_type is None:
                raise UsageError(f"{word} is not a lock type. {usage}")
            types.append(lock_type)
        if "all" in types:  # as Rose: everything unlocked
            settings = await current_settings(update, context, permission=PERMISSION)
            types = sorted(set(settings.locks) | {"all"}, key=LOCK_TYPES.index)
        answer = await _write_locks(update, context, dict.fromkeys(types))
        still = sorted(answer.get("locks") or {}, key=LOCK_TYPES.index)
        text = f"Unlocked: {', '.join(dict.fromkeys(types))}."
        if still:
            text += f" Still locked: {', '.join(still)}."
        await reply(update, text)

    await run_command(update, context, "unlock", body)


async def locks(update: Update, context) -> None:
    async def body():
        settings = await current_settings(update, context)
        locked = settings.locks
        everything = (context.args or [""])[0].lower() == "list"
        warns = f"Lock warnings: {'on' if settings.lock_warns else 'off'}."
        if everything:
            lines = [f"• {name}: {'locked (' + _lock_text(locked[name]) + ')' if name in locked else 'open'}"
                     for name in LOCK_TYPES]
            await reply(update, "Locks here:\n" + "\n".join(lines) + f"\n{warns}")
            return
        if not locked:
            await reply(update, f"Nothing is locked here. /lock &lt;type&gt; locks one; /locktypes lists them. {warns}")
            return
        lines = [f"• {name} ({_lock_text(locked[name])})" for name in LOCK_TYPES if name in locked]
        await reply(update, "Locked here:\n" + "\n".join(lines) + f"\n{warns}")

    await run_command(update, context, "locks", body)


def _lock_text(how) -> str:
    text = describe_mode(how.get("mode", "delete"), how.get("duration_seconds"))
    if how.get("reason"):
        text += f"; reason: {html.escape(how['reason'])}"
    return text


async def locktypes(update: Update, context) -> None:
    async def body():
        lines = [f"• <b>{name}</b>: {html.escape(LOCK_DESCRIPTIONS.get(name, ''))}" for name in LOCK_TYPES]
        await reply(update, "Lock types:\n" + "\n".join(lines))

    await run_command(update, context, "locktypes", body, anywhere=True)


# -- the blocklist


ADD_USAGE = ("Use /addblocklist <word> [mode] [reason] or /addblocklist \"a phrase\" [mode] [reason]; * matches any "
             "letters (buy*now), and Rose's {tban 2d} sets the mode too. Several entries: (word, \"a phrase\") "
             "[mode] [reason], or one pattern per line. Modes: delete, warn, mute, tmute <time>, kick, ban, "
             "tban <time> (default: the group's /blocklistmode).")


def parse_blocklist_entries(text: str) -> list[dict]:
    """The entries of /addblocklist's text: one line, a pattern (a word or a quoted phrase) with its mode and
    reason; several lines, one pattern per line (quotes around one are dropped)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise UsageError(ADD_USAGE)
    if len(lines) == 1:
        rest, mode, seconds = braced_mode(lines[0], ADD_USAGE)
        if not rest:
            raise UsageError(ADD_USAGE)
        found, end = parse_triggers(rest)  # a word, "a phrase", or Rose's list: (word, "a phrase", ...)
        words = rest[end:].split()
        if mode is None:
            mode, seconds, used = take_mode(words, ADD_USAGE)
            words = words[used:]
        entries = [{"pattern": pattern if match == "word" else f"{match}:{pattern}", "mode": mode,
                    "duration_seconds": seconds, "reason": " ".join(words)} for pattern, match in found]
    else:
        if len(lines) > MAX_ENTRIES:
            raise UsageError(f"At most {MAX_ENTRIES} entries at once.")
        entries = []
        for line in lines:
            found = tokens(line)
            pattern = found[0][0] if len(found) == 1 and found[0][1] else line
            entries.append({"pattern": pattern})
    problems = []
    for entry in entries:
        for problem in pattern_problems(entry["pattern"]):
            problems.append(f"{entry['pattern']}: {problem}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise UsageError("Not added: " + "; ".join(problems[:5]) + more)
    return entries


async def _write_blocklist(update: Update, context, call) -> dict:
    answer = await settings_write(update, context, call)
    await remember(context.bot_data, update.effective_chat.id, answer.get("version"), None)
    return answer


async def addblocklist(update: Update, context) -> None:
    async def body():
        entries = parse_blocklist_entries(argument_text(update))
        answer = await _write_blocklist(
            update, context, lambda group_id, actor: context.core.blocklist_add(group_id, entries=entries, **actor))
        if len(entries) == 1:
            entry = entries[0]
            text = f"Added blocklist entry: <code>{html.escape(entry['pattern'])}</code>"
            if entry.get("mode"):
                text += f" ({describe_mode(entry['mode'], entry.get('duration_seconds'))})"
            if entry.get("reason"):
                text += f". Reason: {html.escape(entry['reason'])}"
            if answer.get("updated"):
                text += " (it was already there: updated)"
        else:
            text = f"Added {answer.get('added', 0)} blocklist entries"
            if answer.get("updated"):
                text += f", updated {answer['updated']}"
            if entries[0].get("mode"):
                text += f" ({describe_mode(entries[0]['mode'], entries[0].get('duration_seconds'))})"
        await reply(update, text + ".")

    await run_command(update, context, "addblocklist", body)


async def rmblocklist(update: Update, context) -> None:
    usage = "Use /rmblocklist <pattern> (a word or a \"quoted phrase\"; several at once, or one per line)."

    async def body():
        text = argument_text(update)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) > 1:
            patterns = [found[0][0] if len(found := tokens(line)) == 1 and found[0][1] else line for line in lines]
        else:
            patterns = [word for word, _ in tokens(text)]
        if not patterns:
            raise UsageError(usage)
        answer = await _write_blocklist(
            update, context,
            lambda group_id, actor: context.core.blocklist_remove(group_id, patterns=patterns, **actor))
        removed = answer.get("removed", 0)
        if not removed:
            shown = ", ".join(f"<code>{html.escape(pattern)}</code>" for pattern in patterns[:5])
            await reply(update, f"Not in the blocklist: {shown}. /blocklist shows it.")
            return
        if len(patterns) == 1:
            await reply(update, f"Removed <code>{html.escape(patterns[0])}</code> from the blocklist.")
        else:
            await reply(update, f"Removed {removed} of {len(patterns)} blocklist entries.")

    await run_command(update, context, "rmblocklist", body)


# /unblocklistall: the owner confirms with a button.
unblocklistall, on_press = remove_all_commands(
    command="unblocklistall", question="Are you sure you would like to remove <b>every</b> blocklist entry in "
    "<b>{title}</b>? This can't be undone.", confirm=("Remove all blocklist entries", CLEAR_DATA), cancel=CANCEL_DATA,
    refusal="Only the group's owner can remove every blocklist entry at once.", what="blocklist",
    clear="blocklist_clear", cancelled="blocklist entries")


def describe_blocklist_action(settings) -> str:
    return describe_mode(settings.blocklist_action, settings.blocklist_action_duration_seconds)


async def blocklist(update: Update, context) -> None:
    async def body():
        settings = await current_settings(update, context)
        entries = sorted(settings.blocklist, key=lambda entry: entry["pattern"].casefold())
        action = describe_blocklist_action(settings)
        deleting = "deleted" if settings.blocklist_delete else "kept"
        head = (f"Blocklist mode: {action}; blocklisted messages are {deleting}; joiners' names "
                f"{'checked' if settings.blocklist_joiner_names else 'not checked'}.")
        if not entries:
            await reply(update, f"The blocklist is empty. /addblocklist &lt;word&gt; adds one.\n{head}")
            return
        lines, size = [], 0
        for entry in entries:
            line = f"• <code>{html.escape(entry['pattern'])}</code>"
            if entry.get("mode"):
                line += f" ({describe_mode(entry['mode'], entry.get('duration_seconds'))})"
            if entry.get("reason"):
                line += f": {html.escape(entry['reason'])}"
            if size + len(line) > TELEGRAM_TEXT - len(head) - 200:
                break
            lines.append(line)
            size += len(line) + 1
        more = f"\n…and {len(entries) - len(lines)} more (the dashboard shows them all)." \
            if len(lines) < len(entries) else ""
        await reply(update, f"Blocklist ({len(entries)}):\n" + "\n".join(lines) + more + f"\n{head}")

    await run_command(update, context, "blocklist", body)


async def blocklistmode(update: Update, context) -> None:
    usage = ("Use /blocklistmode <mode>: delete (or nothing: only the message), warn, mute, tmute <time>, kick, "
             "ban, tban <time>; e.g. /blocklistmode tmute 3h.")

    async def body():
        words = argument_text(update).split()
        if not words:
            settings = await current_settings(update, context)
            await reply(update, f"Blocklist mode: {describe_blocklist_action(settings)}. {html.escape(usage)}")
            return
        mode, seconds, used = take_mode(words, usage)
        if mode is None or used != len(words):
            raise UsageError(usage)
        settings = await change_settings(update, context, blocklist_action=mode,
                                         blocklist_action_duration_seconds=seconds)
        await reply(update, f"Blocklisted messages are deleted and their senders get: "
                            f"{describe_blocklist_action(settings)}." if mode != "delete"
                    else "Blocklisted messages are deleted, nothing more.")

    await run_command(update, context, "blocklistmode", body)


def handlers() -> list:
    message_only = filters.UpdateType.MESSAGE
    commands = {
        "lock": lock,
        "unlock": unlock,
        "locks": locks,
        "locktypes": locktypes,
        "lockwarns": toggle_command("lockwarns", "lock_warns", "Saying why a locked message was deleted"),
        "addblocklist": addblocklist,
        "rmblocklist": rmblocklist,
        "unblocklistall": unblocklistall,
        "blocklist": blocklist,
        "blocklistmode": blocklistmode,
        "blocklistdelete": toggle_command("blocklistdelete", "blocklist_delete", "Deleting blocklisted messages"),
        "blocklistnames": toggle_command("blocklistnames", "blocklist_joiner_names",
                                         "Checking joiners' names against the blocklist"),
    }
    return [*(CommandHandler(name, handle, filters=message_only) for name, handle in commands.items()),
            CallbackQueryHandler(on_press, pattern=rf"^{CALLBACK_PREFIX}:")]
