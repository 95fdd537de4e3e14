"""The log channel: what happened in a group, told in its log chat.

Core writes a LogEntry, its text rendered here in Telegram's HTML, in the same transaction as each completed
moderation action (manual or automated) and for each settings change (content rules too: locks, blocklist, filters,
notes) or raid switch, in groups with a log chat; and, with no group, for each ban, unban or import of a ban list
with a log chat of its own (#FBAN, #UNFBAN, #FEDIMPORT). Entries due lazily, the weekly digest
(apps.analytics.digests), are written by receivers of `log_claim_started`, sent at the start of every claim.
A bot claims entries for a lease (`LEASE_SECONDS`: unclaimed again after it, so a bot that dies holding them loses
nothing), posts them and reports each one sent or failed; the first failure since the log chat was set is to be
said in the group (`report_in_group`), the later ones only recorded.

Also here: the group's last welcome message (clean-welcome deletes it when the next is sent), kept in core so that a
restarted bot, or another replica, still knows it.
"""

import html
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from apps.audit.services import audit_record
from apps.banlists.models import BanList
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError
from apps.groups.models import Group
from apps.moderation.models import ModerationAction
from apps.users.models import User
from apps.users.selectors import user_display_name

from .models import LogEntry, LogFailureReport, WelcomeMessage
from .signals import log_claim_started

LEASE_SECONDS = 60
TELEGRAM_TEXT_LIMIT = 4096
_VALUE_LIMIT = 200  # a changed setting's before/after, as shown in the log (a welcome text can be 4096 long)

_DONE = {
    "ban": "BANNED", "unban": "UNBANNED", "kick": "KICKED", "mute": "MUTED", "unmute": "UNMUTED", "warn": "WARNED",
    "unwarn": "UNWARNED", "promote": "PROMOTED", "demote": "DEMOTED", "pin": "PINNED", "unpin": "UNPINNED",
    "delete": "DELETED", "purge": "PURGED", "report": "REPORTED",
}


def _escape(value) -> str:
    return html.escape(str(value), quote=True)


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _user_html(user: User) -> str:
    name = _escape(user_display_name(user.display_name, user.telegram_username, user.username))
    if user.telegram_user_id is None:
        return name
    return f'<a href="tg://user?id={user.telegram_user_id}">{name}</a> [<code>{user.telegram_user_id}</code>]'


def _actor_html(actor: User | None, rule: str = "") -> str:
    if rule:
        # An automated action has no actor, except a ban list's ban: the list admin's, carried out by the rule.
        system = f"<code>system:{_escape(rule)}</code>"
        return f"{_user_html(actor)} via {system}" if actor is not None else system
    return _user_html(actor) if actor is not None else "<code>system</code>"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def message_link(telegram_chat_id: int, message_id: int | None) -> str | None:
    """The t.me link to a message of a supergroup (a basic group's messages have none)."""
    chat = str(telegram_chat_id)
    if message_id is None or not chat.startswith("-100"):
        return None
    return f"https://t.me/c/{chat[4:]}/{message_id}"


def _header(group: Group, tag: str) -> list[str]:
    return [f"<b>{_escape(group.title)}</b> [<code>{group.telegram_chat_id}</code>]", f"#{tag}"]


def _finish(lines: list[str]) -> str:
    return _clip("\n".join(lines), TELEGRAM_TEXT_LIMIT)


def render_action(action: ModerationAction) -> str:
    group = action.group
    lines = _header(group, _DONE.get(action.type, action.type.upper()))
    lines.append(f"<b>By:</b> {_actor_html(action.actor, action.rule)}")
    if action.target is not None:
        lines.append(f"<b>User:</b> {_user_html(action.target)}")
    if action.until is not None:
        lines.append(f"<b>Until:</b> {_when(action.until)}")
    if action.reason:
        lines.append(f"<b>Reason:</b> {_escape(_clip(action.reason, 1024))}")
    if action.status == ModerationAction.Status.FAILED:
        lines.append(f"<b>Outcome:</b> failed: {_escape(_clip(action.error, 1024))}")
    else:
        lines.append("<b>Outcome:</b> done")
    link = message_link(group.telegram_chat_id, action.telegram_message_id)
    if link:
        lines.append(f'<a href="{link}">Go to the message</a>')
    return _finish(lines)


def _shown(value) -> str:
    if value is None or value == "":
        return "none"
    if value is True:
        return "on"
    if value is False:
        return "off"
    return _escape(_clip(str(value), _VALUE_LIMIT))


def render_settings_change(group: Group, actor: User | None, changed: dict) -> str:
    lines = _header(group, "SETTINGS")
    lines.append(f"<b>By:</b> {_actor_html(actor)}")
    for field, (before, after) in sorted(changed.items()):
        lines.append(f"• <code>{_escape(field)}</code>: {_shown(before)} → {_shown(after)}")
    return _finish(lines)


def render_raid_switch(group: Group, actor: User | None, active: bool, until: datetime | None) -> str:
    lines = _header(group, "RAID_ON" if active else "RAID_OFF")
    lines.append(f"<b>By:</b> {_actor_html(actor, '' if actor is not None else 'antiraid')}")
    if active and until is not None:
        lines.append(f"<b>Until:</b> {_when(until)}")
    lines.append("Raid mode is on: new members are stopped at the door." if active else "Raid mode is off.")
    return _finish(lines)


_RULE_NAMES = 20  # patterns, triggers or names shown in one entry (the audit row names up to 20 as well)


def _span(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _how(how: dict) -> str:
    """A lock's or entry's mode as a moderator types it: "ban", "tmute 1h"."""
    mode = how.get("mode") or "default"
    if how.get("duration_seconds"):
        mode += f" {_span(how['duration_seconds'])}"
    return _escape(mode)


def _codes(values, total: int | None = None) -> str:
    """Some names, each as code, the rest counted: "<code>a</code>, <code>b</code> and 3 more"."""
    values = list(values)
    shown = ", ".join(f"<code>{_escape(_clip(str(value), _VALUE_LIMIT))}</code>" for value in values[:_RULE_NAMES])
    rest = max(total or 0, len(values)) - min(len(values), _RULE_NAMES)
    return shown + (f" and {rest} more" if rest > 0 else "")


def _plural(count: int, word: str, words: str = "") -> str:
    return f"{count} {word if count == 1 else words or word + 's'}"


def _lock_lines(details: dict) -> tuple[str, list[str]]:
    locked, unlocked = details.get("locked") or {}, details.get("unlocked") or []
    lines = []
    for lock_type, how in sorted(locked.items()):
        line = f"• <code>{_escape(lock_type)}</code> ({_how(how)})"
        if how.get("reason"):
            line += f": {_escape(_clip(how['reason'], _VALUE_LIMIT))}"
        lines.append(line)
    if unlocked:
        lines.append(f"<b>Unlocked:</b> {_codes(sorted(unlocked))}")
    tag = "LOCKED" if locked and not unlocked else "UNLOCKED" if unlocked and not locked else "LOCKS"
    return tag, lines


def _blocklist_lines(details: dict) -> tuple[str, list[str]]:
    patterns = details.get("patterns") or []
    if "removed" in details:
        removed = details["removed"]
        if details.get("cleared"):
            return "BLOCKLIST", [f"<b>Cleared:</b> {_plural(removed, 'entry', 'entries')}"]
        return "BLOCKLIST", [f"<b>Removed:</b> {_codes(patterns, removed)}"]
    added, updated = details.get("added", 0), details.get("updated", 0)
    lines = [f"<b>Added:</b> {_plural(added, 'entry', 'entries')}"] if added else []
    if updated:
        lines.append(f"<b>Changed:</b> {_plural(updated, 'entry', 'entries')}")
    return "BLOCKLIST", [*lines, f"<b>Patterns:</b> {_codes(patterns, added + updated)}"]


def _trigger(trigger: str, match: str) -> str:
    return trigger if match in ("", "word", None) else f"{match}:{trigger}"


def _filter_lines(details: dict) -> tuple[str, list[str]]:
    if "removed" in details:
        if details.get("cleared"):
            return "FILTER", [f"<b>Stopped:</b> all {_plural(details['removed'], 'filter')}"]
        return "FILTER", [f"<b>Stopped:</b> {_codes(details.get('triggers') or [], details['removed'])}"]
    verb = "Added" if details.get("created") else "Changed"
    return "FILTER", [f"<b>{verb}:</b> {_codes([_trigger(details.get('saved', ''), details.get('match'))])}"]


def _note_lines(details: dict) -> tuple[str, list[str]]:
    if "removed" in details:
        if details.get("cleared"):
            return "NOTE", [f"<b>Cleared:</b> all {_plural(details['removed'], 'note')}"]
        return "NOTE", [f"<b>Cleared:</b> {_codes(details.get('names') or [], details['removed'])}"]
    verb = "Saved" if details.get("created") else "Changed"
    return "NOTE", [f"<b>{verb}:</b> {_codes([details.get('saved', '')])}"]


_RULE_LINES = {
    actions.PROTECTION_LOCK: _lock_lines, actions.PROTECTION_BLOCKLIST: _blocklist_lines,
    actions.PROTECTION_FILTER: _filter_lines, actions.PROTECTION_NOTE: _note_lines,
}


def render_rules_change(group: Group, actor: User | None, action: str, details: dict) -> str | None:
    """A content-rule change (locks, blocklist, filters, notes) from its audit row's details; None for an action
    this log does not know."""
    lines_of = _RULE_LINES.get(action)
    if lines_of is None:
        return None
    tag, body = lines_of(details)
    lines = _header(group, tag)
    lines.append(f"<b>By:</b> {_actor_html(actor)}")
    lines.extend(body)
    return _finish(lines)


_BAN_LIST_TAGS = {"ban": "FBAN", "unban": "UNFBAN", "import": "FEDIMPORT"}


def _target_html(telegram_user_id: int) -> str:
    user = User.objects.filter(telegram_user_id=telegram_user_id).first()
    if user is not None:
        return _user_html(user)
    return f'<a href="tg://user?id={telegram_user_id}">{telegram_user_id}</a> [<code>{telegram_user_id}</code>]'


def _groups(count: int) -> str:
    return _plural(count, "group")


def render_ban_list_event(ban_list: BanList, event: str, actor: User | None, details: dict) -> str:
    """A ban list's post (Rose's #FBAN, #UNFBAN, #FEDIMPORT; another change of the list as #FED<EVENT>)."""
    lines = [f"<b>{_escape(ban_list.name)}</b> [ban list <code>{_escape(ban_list.pk)}</code>]",
             f"#{_BAN_LIST_TAGS.get(event, 'FED' + event.upper())}",
             f"<b>By:</b> {_actor_html(actor)}"]
    if details.get("telegram_user_id") is not None:
        lines.append(f"<b>User:</b> {_target_html(details['telegram_user_id'])}")
    if event == "ban" and not details.get("created", True):
        lines.append("Already banned: the reason is updated.")
    if details.get("reason"):
        lines.append(f"<b>Reason:</b> {_escape(_clip(details['reason'], 1024))}")
    if event == "ban" and details.get("created", True):
        reach = f"<b>Groups:</b> {_groups(details.get('groups', 0))}"
        if details.get("exempt"):
            reach += f" ({details['exempt']} where the user is exempt: their moderators are told)"
        lines.append(reach)
    elif event == "unban":
        lines.append(f"<b>Groups:</b> {_groups(details.get('groups', 0))}")
    elif event == "import":
        lines.append(f"<b>Added:</b> {details.get('added', 0)}, <b>updated:</b> {details.get('updated', 0)}, "
                     f"<b>unchanged:</b> {details.get('unchanged', 0)} ({_escape(details.get('format', ''))})")
        if details.get("propagations"):
            lines.append(f"<b>Banned now:</b> {details['propagations']} current members of the list's groups; "
                         "the others on arrival")
    elif event not in _BAN_LIST_TAGS:
        for name, value in sorted(details.items()):
            if name not in ("telegram_user_id", "reason"):
                lines.append(f"• <code>{_escape(name)}</code>: {_shown(value)}")
    return _finish(lines)


def log_ban_list_event(*, ban_list: BanList, event: str, actor: User | None, details: dict) -> LogEntry | None:
    """The post in the list's own log chat (no group); None when it has none. Joins the caller's transaction."""
    if ban_list.log_chat_id is None:
        return None
    return LogEntry.objects.create(group=None, log_chat_id=ban_list.log_chat_id, kind=LogEntry.Kind.BANLIST,
                                   text=render_ban_list_event(ban_list, event, actor, details))


def log_entry_write(*, group: Group, kind: str, text: str, action: ModerationAction | None = None) -> LogEntry | None:
    """The entry for the group's log chat; None (nothing written) when the group has none. Joins the caller's
    transaction."""
    if group.log_chat_id is None:
        return None
    return LogEntry.objects.create(group=group, log_chat_id=group.log_chat_id, kind=kind, action=action, text=text)


def log_action_completed(*, action: ModerationAction) -> LogEntry | None:
    group = Group.objects.get(pk=action.group_id)  # fresh: the log chat as it is in this transaction
    if group.log_chat_id is None:
        return None
    action.group = group
    return log_entry_write(group=group, kind=LogEntry.Kind.ACTION, text=render_action(action), action=action)


def log_settings_changed(*, group: Group, actor: User | None, changed: dict) -> LogEntry | None:
    for attempt in atomic_attempts():
        with attempt:
            group = Group.objects.get(pk=group.pk)
            if "log_chat_id" in changed:
                # A log chat set (again): its first failed post is to be said in the group again.
                LogFailureReport.objects.filter(group=group).delete()
            entry = log_entry_write(group=group, kind=LogEntry.Kind.SETTINGS,
                                    text=render_settings_change(group, actor, changed))
    return entry


def log_raid_changed(*, group: Group, actor: User | None, active: bool, until: datetime | None) -> LogEntry | None:
    for attempt in atomic_attempts():
        with attempt:
            group = Group.objects.get(pk=group.pk)
            entry = log_entry_write(group=group, kind=LogEntry.Kind.RAID,
                                    text=render_raid_switch(group, actor, active, until))
    return entry


def log_rules_changed(*, group: Group, actor: User | None, action: str, details: dict) -> LogEntry | None:
    for attempt in atomic_attempts():
        with attempt:
            group = Group.objects.get(pk=group.pk)
            text = render_rules_change(group, actor, action, details)
            entry = None if text is None else log_entry_write(group=group, kind=LogEntry.Kind.SETTINGS, text=text)
    return entry


def log_entries_claim(*, limit: int, now: datetime | None = None) -> list[LogEntry]:
    """Up to `limit` pending entries, oldest first, each leased to this caller for LEASE_SECONDS: one conditional
    update per entry, so of two bots claiming at once each entry goes to one."""
    now = now or timezone.now()
    log_claim_started.send(sender=LogEntry, now=now)  # entries due lazily (the weekly digest) are written first
    lease_end = now + timedelta(seconds=LEASE_SECONDS)
    candidates = list(
        LogEntry.objects.select_related("group")
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
                                status=LogEntry.Status.PENDING)
        .order_by("created_at", "id")[:limit]
    )
    claimed = []
    for entry in candidates:
        won = LogEntry.objects.filter(pk=entry.pk, status=LogEntry.Status.PENDING,
                                      claimed_until=entry.claimed_until).update(claimed_until=lease_end,
                                                                                claims=entry.claims + 1)
        if won:
            entry.claimed_until, entry.claims = lease_end, entry.claims + 1
            claimed.append(entry)
    return claimed


def log_entry_complete(*, entry: LogEntry, status: str, error: str = "") -> bool:
    """Records the post's outcome. Answers whether to say in the group that the log chat cannot be posted to: true
    for the first failure since the log chat was set. A failure is on the audit trail."""
    for attempt in atomic_attempts():
        with attempt:
            done = LogEntry.objects.filter(pk=entry.pk, status=LogEntry.Status.PENDING).update(
                status=status, error=error if status == LogEntry.Status.FAILED else "", completed_at=timezone.now(),
                claimed_until=None,
            )
            if not done:
                current = LogEntry.objects.filter(pk=entry.pk).values_list("status", flat=True).first()
                raise ConflictError(f"Log entry {entry.pk} was already reported ({current})")
            report = False
            if status == LogEntry.Status.FAILED:
                # A ban list's post has no group to tell.
                if entry.group_id is not None and not LogFailureReport.objects.filter(
                        group_id=entry.group_id, log_chat_id=entry.log_chat_id).exists():
                    LogFailureReport.objects.create(group_id=entry.group_id, log_chat_id=entry.log_chat_id,
                                                    error=error[:1024])
                    report = True
                audit_record(action=actions.LOG_POST_FAILED, result="failure",
                             target_type="group" if entry.group_id is not None else "log_chat",
                             target_id=entry.group_id if entry.group_id is not None else entry.log_chat_id,
                             group_id=entry.group_id, reason=error[:255],
                             details={"log_entry_id": str(entry.pk), "log_chat_id": entry.log_chat_id,
                                      "reported_in_group": report})
    return report


def welcome_message_swap(*, group: Group, telegram_message_id: int) -> int | None:
    """Remembers the group's new welcome message and answers the one before it (None when there was none)."""
    for attempt in atomic_attempts():
        with attempt:
            current = WelcomeMessage.objects.filter(group=group).first()
            if current is None:
                WelcomeMessage.objects.create(group=group, telegram_message_id=telegram_message_id)
                previous = None
            else:
                previous = current.telegram_message_id
                current.telegram_message_id = telegram_message_id
                current.save(update_fields=["telegram_message_id", "updated_at"])
    return previous if previous != telegram_message_id else None
