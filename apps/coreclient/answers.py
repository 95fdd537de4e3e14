"""Core's answers as typed values: frozen, slotted dataclasses made by `from_wire(data)`.

`from_wire` reads the fields it declares and nothing else: a field core adds later is ignored, a field it
declares that is missing (or an answer that is no object at all) is `UnexpectedAnswer`, raised by the client
call itself (a `CoreUnavailable`, outcome `bad_response`), never a KeyError in the caller. Values are kept as core
wrote them (ids as strings, timestamps as ISO 8601 text): decoding is a handful of dict reads, no parsing.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import metrics
from .errors import CoreUnavailable


class UnexpectedAnswer(CoreUnavailable):
    """Core's answer lacks a field the client's contract requires, or is not the shape it should be."""

    def __init__(self, kind: str, problem: str):
        super().__init__(f"core's {kind} answer is not as expected: {problem}", outcome=metrics.BAD_RESPONSE)
        self.kind = kind


def _decoded(kind: str, build, data):
    try:
        return build(data)
    except KeyError as missing:
        raise UnexpectedAnswer(kind, f"the required field {missing.args[0]!r} is missing") from None
    except (TypeError, AttributeError):
        raise UnexpectedAnswer(kind, f"a JSON object was expected, not {type(data).__name__}") from None


@dataclass(frozen=True, slots=True)
class Decision:
    """A permission check's result: `reason` is granted_by_role:<role>, or the denial's code."""

    allowed: bool
    reason: str

    @classmethod
    def from_wire(cls, data: dict) -> "Decision":
        return _decoded("decision", lambda d: cls(d["allowed"], d["reason"]), data)

    @classmethod
    def many_from_wire(cls, data: dict) -> "list[Decision]":
        """check-permissions: the decisions in the order of the checks asked."""
        results = _decoded("decisions", lambda d: d["results"], data)
        if not isinstance(results, list):
            raise UnexpectedAnswer("decisions", "results is not a list")
        return [cls.from_wire(result) for result in results]


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    telegram_chat_id: int
    title: str
    type: str
    is_active: bool
    warn_limit: int
    warn_action: str
    warn_action_duration_seconds: int | None
    welcome_text: str
    rules_text: str
    log_chat_id: int | None
    member_count: int
    message_count: int
    created_at: str
    updated_at: str
    warn_expiry_seconds: int | None = None  # null: warnings never expire

    @classmethod
    def from_wire(cls, data: dict) -> "Group":
        return _decoded("group", lambda d: cls(
            d["id"], d["telegram_chat_id"], d["title"], d["type"], d["is_active"], d["warn_limit"],
            d["warn_action"], d["warn_action_duration_seconds"], d["welcome_text"], d["rules_text"],
            d["log_chat_id"], d["member_count"], d["message_count"], d["created_at"], d["updated_at"],
            d.get("warn_expiry_seconds")), data)


@dataclass(frozen=True, slots=True)
class Member:
    """A membership: the user in one group."""

    group_id: str
    user_id: str
    username: str
    telegram_user_id: int | None
    telegram_username: str
    display_name: str
    status: str
    is_admin: bool
    custom_title: str
    joined_at: str
    left_at: str | None
    restricted_until: str | None
    message_count: int
    last_seen_at: str | None

    @classmethod
    def from_wire(cls, data: dict) -> "Member":
        return _decoded("member", lambda d: cls(
            d["group_id"], d["user_id"], d["username"], d["telegram_user_id"], d["telegram_username"],
            d["display_name"], d["status"], d["is_admin"], d["custom_title"], d["joined_at"], d["left_at"],
            d["restricted_until"], d["message_count"], d["last_seen_at"]), data)


@dataclass(frozen=True, slots=True)
class ModerationRecord:
    """A moderation action as core records it: requested, then executed or failed."""

    id: str
    type: str
    group_id: str
    actor_user_id: str | None
    target_user_id: str | None
    reason: str
    until: str | None
    telegram_message_id: int | None
    source_service: str
    status: str
    error: str
    details: Any
    created_at: str
    completed_at: str | None
    rule: str = ""  # "" for a manual action; else the automated protection that asked for it ("antiflood"...)

    @classmethod
    def from_wire(cls, data: dict) -> "ModerationRecord":
        return _decoded("moderation record", lambda d: cls(
            d["id"], d["type"], d["group_id"], d["actor_user_id"], d["target_user_id"], d["reason"], d["until"],
            d["telegram_message_id"], d["source_service"], d["status"], d["error"], d["details"], d["created_at"],
            d["completed_at"], d["rule"]), data)


@dataclass(frozen=True, slots=True)
class RequiredAction:
    """What the warn limit calls for: ban, kick or mute, for `duration_seconds` (None: for good)."""

    type: str
    duration_seconds: int | None


@dataclass(frozen=True, slots=True)
class WarningState:
    active_warnings: int
    warn_limit: int
    limit_reached: bool
    required_action: RequiredAction | None

    @classmethod
    def from_wire(cls, data: dict) -> "WarningState":
        def build(d):
            required = d["required_action"]
            return cls(d["active_warnings"], d["warn_limit"], d["limit_reached"],
                       None if required is None else RequiredAction(required["type"], required["duration_seconds"]))

        return _decoded("warning state", build, data)


@dataclass(frozen=True, slots=True)
class RecordedAction:
    """Core's answer to recording an action: the record, the target's warnings after a warn or unwarn (else
    None), and the target's Telegram id (core resolved it when the target was named by @username)."""

    action: ModerationRecord
    warnings: WarningState | None
    target_telegram_user_id: int | None

    @classmethod
    def from_wire(cls, data: dict) -> "RecordedAction":
        def build(d):
            warnings = d["warnings"]
            return cls(ModerationRecord.from_wire(d["action"]),
                       None if warnings is None else WarningState.from_wire(warnings), d["target_telegram_user_id"])

        return _decoded("recorded action", build, data)


def _timestamp(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class ProtectionSettings(Mapping):
    """A group's protection settings (core's ProtectionSettings shape), as the bot's cache holds them: read on
    every message, so plain attributes; `raid_until` is parsed once here. It also reads as core's JSON object
    (a Mapping of the wire fields, `raid_until` as core wrote it), which web relays to the browser as it came."""

    group_id: str
    telegram_chat_id: int
    title: str
    version: int
    welcome_enabled: bool
    welcome_text: str
    goodbye_enabled: bool
    goodbye_text: str
    clean_welcome: bool
    clean_service: bool
    rules_text: str
    rules_private: bool
    captcha_enabled: bool
    captcha_mode: str
    captcha_timeout_seconds: int
    captcha_failure_action: str
    captcha_max_attempts: int
    flood_limit: int
    flood_window_seconds: int | None
    flood_action: str
    flood_action_duration_seconds: int | None
    flood_delete_messages: bool
    raid_detection: bool
    raid_join_limit: int
    raid_window_seconds: int
    raid_duration_minutes: int
    raid_action: str
    raid_until: datetime | None
    log_chat_id: int | None
    # Content rules (issue 15). Defaults: what a core without them means (nothing locked, nothing listed).
    lock_warns: bool = True
    blocklist_action: str = "delete"
    blocklist_action_duration_seconds: int | None = None
    blocklist_delete: bool = True
    blocklist_joiner_names: bool = False
    private_notes: bool = False
    disabled_commands: tuple[str, ...] = ()
    disabled_delete: bool = False
    clean_commands: bool = False
    denials_private: bool = False
    reports_enabled: bool = True
    locks: Mapping = field(default_factory=dict, compare=False, hash=False, repr=False)
    blocklist: tuple = field(default=(), compare=False, hash=False, repr=False)
    filters: tuple = field(default=(), compare=False, hash=False, repr=False)
    notes: tuple[str, ...] = ()
    # Ban lists (issue 16): the ids of the lists whose bans hold in the group, and their names by id.
    ban_lists: tuple[str, ...] = ()
    ban_list_names: Mapping = field(default_factory=dict, compare=False, hash=False, repr=False)
    wire: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    _rules: Any = field(default=None, init=False, compare=False, hash=False, repr=False)

    @property
    def rules(self):
        """The content rules compiled for matching (apps.common.contentrules.CompiledRules), once per settings
        version: the bot's cache keeps this object until the version changes, so a plain message costs no
        compilation."""
        rules = self._rules
        if rules is None:
            from apps.common.contentrules import compile_rules

            rules = compile_rules(self.wire)
            object.__setattr__(self, "_rules", rules)
        return rules

    @property
    def raid_active(self) -> bool:
        """Raid mode is on now (core answers raid_until only while it lasts; this also sees it end meanwhile)."""
        until = self.raid_until
        return until is not None and until > datetime.now(until.tzinfo)

    @property
    def antiflood_enabled(self) -> bool:
        return self.flood_limit > 0

    def __getitem__(self, key: str):
        return self.wire[key]

    def __iter__(self):
        return iter(self.wire)

    def __len__(self) -> int:
        return len(self.wire)

    def __bool__(self) -> bool:  # settings are settings, even made without their wire form
        return True

    @classmethod
    def from_wire(cls, data: dict) -> "ProtectionSettings":
        def build(d):
            return cls(
                d["group_id"], d["telegram_chat_id"], d["title"], d["version"], d["welcome_enabled"],
                d["welcome_text"], d["goodbye_enabled"], d["goodbye_text"], d["clean_welcome"], d["clean_service"],
                d["rules_text"], d["rules_private"], d["captcha_enabled"], d["captcha_mode"],
                d["captcha_timeout_seconds"], d["captcha_failure_action"], d["captcha_max_attempts"],
                d["flood_limit"], d["flood_window_seconds"], d["flood_action"], d["flood_action_duration_seconds"],
                d["flood_delete_messages"], d["raid_detection"], d["raid_join_limit"], d["raid_window_seconds"],
                d["raid_duration_minutes"], d["raid_action"], _timestamp(d["raid_until"]), d["log_chat_id"],
                d["lock_warns"], d["blocklist_action"], d["blocklist_action_duration_seconds"], d["blocklist_delete"],
                d["blocklist_joiner_names"], d["private_notes"], tuple(d["disabled_commands"]), d["disabled_delete"],
                d["clean_commands"], d["denials_private"], d["reports_enabled"], dict(d["locks"]),
                tuple(d["blocklist"]), tuple(d["filters"]), tuple(d["notes"]),
                tuple(entry["id"] for entry in d["ban_lists"]),
                {entry["id"]: entry["name"] for entry in d["ban_lists"]}, dict(d))

        try:
            return _decoded("protection settings", build, data)
        except ValueError:
            raise UnexpectedAnswer("protection settings", "raid_until is not an ISO 8601 timestamp") from None
