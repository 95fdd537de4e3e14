"""A group's content rules compiled once per settings version: locks, blocklist, filters, notes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from apps.common.contentrules.blocklist import Blocklist
from apps.common.contentrules.locks import (
    CONTENT_KEYS,
    LOCK_TYPES,
    RANK,
    SIMPLE_KEYS,
    SPECIAL_CAN_GIVE,
    SPECIAL_KEYS,
    canonical_lock,
    key_kinds,
    lock_kinds,
)
from apps.common.contentrules.normalize import normalize

__all__ = ["MODES", "TIMED_MODES", "CompiledRules", "Verdict", "compile_rules"]

MODES = ("delete", "warn", "mute", "tmute", "kick", "ban", "tban")
TIMED_MODES = frozenset({"tmute", "tban"})
FILTER_MATCHES = ("word", "prefix", "exact")
_NOTE = re.compile(r"#([a-z0-9_-]{1,64})(?![a-z0-9_-])")
_NONE = len(LOCK_TYPES)  # a rank past every lock


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the bot does about a message: which rule fired, on what, and how it is enforced."""

    rule: str  # "locks" | "blocklist"
    kind: str  # the lock type, or the blocklist pattern as typed
    mode: str  # one of MODES (every mode also deletes the message)
    duration_seconds: int | None
    reason: str
    why: str  # a human sentence: 'sticker is locked', 'matches blocklist entry "buy*now"'

    def as_dict(self) -> dict:
        return asdict(self)


def _mode(value) -> str:
    return value if isinstance(value, str) and value in MODES else "delete"


def _duration(mode: str, value) -> int | None:
    if mode in TIMED_MODES and type(value) is int and value > 0:
        return value
    return None


def _reason(value) -> str:
    return value if isinstance(value, str) else ""


def _literal(text: str) -> str:
    """`text` as a blocklist pattern matching exactly it (its modifier characters escaped)."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


class _Filters:
    """Filter triggers: "word" (whole word or phrase anywhere), "prefix" (the text begins with it, as written: a
    "http" prefix answers "https://..."), "exact" (the whole text), all on normalized text."""

    def __init__(self, filters):
        self.exact: dict[str, Mapping] = {}
        self.prefix: dict[str, Mapping] = {}
        self.word: dict[str, Mapping] = {}
        for item in filters if isinstance(filters, list | tuple) else ():
            if not isinstance(item, Mapping) or not isinstance(item.get("trigger"), str):
                continue
            match = item.get("match") if item.get("match") in FILTER_MATCHES else "word"
            trigger = normalize(item["trigger"])
            if trigger:
                getattr(self, match).setdefault(trigger, item)
        self.prefix_lengths = sorted({len(trigger) for trigger in self.prefix}, reverse=True)
        self.words = Blocklist([{"pattern": _literal(trigger), "trigger": trigger} for trigger in self.word],
                               limits=False) if self.word else None
        self.empty = not (self.exact or self.prefix or self.word)

    def match(self, text: str) -> Mapping | None:
        best, best_length = None, -1
        found = self.exact.get(text)
        if found is not None:
            best, best_length = found, len(text)
        for length in self.prefix_lengths:
            if length <= best_length:
                break
            found = self.prefix.get(text[:length])
            if found is not None:
                best, best_length = found, length
                break
        if self.words is not None:
            for pattern in self.words.all(text):
                trigger = pattern.entry["trigger"]
                if len(trigger) > best_length:
                    best, best_length = self.word[trigger], len(trigger)
        return best


class CompiledRules:
    """See the package's doc. Built by compile_rules(); immutable; cheap to keep per chat."""

    def __init__(self, settings: Mapping, *, engine: str = "automaton"):
        if not isinstance(settings, Mapping):
            settings = {}
        # locks
        self.locks: dict[str, dict] = {}
        raw_locks = settings.get("locks")
        for name, value in (raw_locks.items() if isinstance(raw_locks, Mapping) else ()):
            lock_type = canonical_lock(name)
            if lock_type is None or value is None:
                continue
            value = value if isinstance(value, Mapping) else {}
            mode = _mode(value.get("mode"))
            self.locks[lock_type] = {"mode": mode, "duration_seconds": _duration(mode, value.get("duration_seconds")),
                                     "reason": _reason(value.get("reason"))}
        self._lock_verdicts: list[Verdict | None] = [None] * (_NONE + 1)
        self._edit_verdicts: list[Verdict | None] = [None] * (_NONE + 1)
        for lock_type, lock in self.locks.items():
            rank = RANK[lock_type]
            self._lock_verdicts[rank] = Verdict("locks", lock_type, lock["mode"], lock["duration_seconds"],
                                                lock["reason"], f"{lock_type} is locked")
            self._edit_verdicts[rank] = Verdict("locks", lock_type, lock["mode"], lock["duration_seconds"],
                                                lock["reason"], f"{lock_type} is locked (edited message)")
        # the keys that matter: key -> the best rank it gives (simple keys), or -1 (look inside: SPECIAL)
        locked = {RANK[name] for name in self.locks}
        all_rank = RANK["all"] if "all" in self.locks else _NONE
        self._key_rank: dict[str, int] = {}
        for key, kinds in SIMPLE_KEYS.items():
            rank = min([RANK[kind] for kind in kinds if RANK[kind] in locked]
                       + [all_rank if key in CONTENT_KEYS else _NONE])
            if rank < _NONE:
                self._key_rank[key] = rank
        for key in SPECIAL_KEYS:
            if any(RANK[kind] in locked for kind in SPECIAL_CAN_GIVE[key]) or (key in CONTENT_KEYS
                                                                             and all_rank < _NONE):
                self._key_rank[key] = -1
        self._all_rank = all_rank
        # blocklist
        self.blocklist_action = _mode(settings.get("blocklist_action"))
        self.blocklist_duration = _duration(self.blocklist_action, settings.get("blocklist_action_duration_seconds"))
        self.joiner_names = settings.get("blocklist_joiner_names") is True
        self.blocklist = Blocklist(settings.get("blocklist") or [], engine=engine)
        self._entry_verdicts: dict[int, Verdict] = {}
        # filters and notes
        self.filters = _Filters(settings.get("filters") or [])
        notes = settings.get("notes")
        self.notes = frozenset(
            (note.get("name") if isinstance(note, Mapping) else note).lower()
            for note in (notes if isinstance(notes, list | tuple) else ())
            if isinstance(note.get("name") if isinstance(note, Mapping) else note, str))
        self.empty = not (self.locks or self.blocklist or not self.filters.empty or self.notes)
        self._last: tuple[str | None, str] = (None, "")

    def __repr__(self) -> str:
        return (f"<CompiledRules locks={sorted(self.locks)} blocklist={len(self.blocklist.patterns)} "
                f"filters={len(self.filters.exact) + len(self.filters.prefix) + len(self.filters.word)} "
                f"notes={len(self.notes)}>")

    # -- helpers

    def _normalized(self, text: str) -> str:
        """normalize(), remembering the last text: evaluate() then match_filter() on one message normalize it once."""
        last = self._last  # one tuple: threads sharing the rules (core, web) never see a text with another's form
        if text is last[0]:
            return last[1]
        normalized = normalize(text)
        self._last = (text, normalized)
        return normalized

    def _entry_verdict(self, pattern) -> Verdict:
        verdict = self._entry_verdicts.get(pattern.index)
        if verdict is None:
            entry = pattern.entry
            if entry.get("mode") in MODES:
                mode = entry["mode"]
                duration = _duration(mode, entry.get("duration_seconds"))
            else:
                mode, duration = self.blocklist_action, self.blocklist_duration
            verdict = Verdict("blocklist", pattern.pattern, mode, duration, _reason(entry.get("reason")),
                              f'matches blocklist entry "{pattern.pattern}"')
            self._entry_verdicts[pattern.index] = verdict
        return verdict

    def _lock_rank(self, message: Mapping) -> int:
        key_rank = self._key_rank
        best = _NONE
        for key in message:
            rank = key_rank.get(key)
            if rank is None:
                continue
            if rank < 0:
                locks = self.locks
                kinds = key_kinds(key, message[key], message)
                if self._all_rank < best and key in CONTENT_KEYS:
                    best = self._all_rank
                for kind in kinds:
                    if kind in locks and RANK[kind] < best:
                        best = RANK[kind]
            elif rank < best:
                best = rank
        return best

    @staticmethod
    def _texts(message: Mapping) -> list[str]:
        texts = []
        for key in ("text", "caption"):
            value = message.get(key)
            if isinstance(value, str) and value:
                texts.append(value)
        preview = message.get("link_preview_options")
        if isinstance(preview, Mapping):
            for key in ("title", "description"):
                if isinstance(preview.get(key), str):
                    texts.append(preview[key])
        poll = message.get("poll")
        if isinstance(poll, Mapping):
            if isinstance(poll.get("question"), str):
                texts.append(poll["question"])
            options = poll.get("options")
            for option in options if isinstance(options, list) else ():
                if isinstance(option, Mapping) and isinstance(option.get("text"), str):
                    texts.append(option["text"])
        return texts

    # -- the public API

    def evaluate(self, message: Mapping, *, edited: bool = False) -> Verdict | None:
        """The first lock that applies (LOCK_TYPES order), else the first blocklist hit; None when nothing fires."""
        if self.empty or not isinstance(message, Mapping):
            return None
        if self._key_rank:
            rank = self._lock_rank(message)
            if rank < _NONE:
                return (self._edit_verdicts if edited else self._lock_verdicts)[rank]
        if self.blocklist:
            first = self.blocklist.first
            text = message.get("text")
            if type(text) is str:
                hit = first(self._normalized(text))
                if hit is not None:
                    return self._entry_verdict(hit)
            caption = message.get("caption")
            if type(caption) is str:
                hit = first(normalize(caption))
                if hit is not None:
                    return self._entry_verdict(hit)
            if "poll" in message or "link_preview_options" in message:
                for other in self._texts(message):
                    if other is not text and other is not caption:
                        hit = first(normalize(other))
                        if hit is not None:
                            return self._entry_verdict(hit)
        return None

    def match_name(self, name: str) -> Verdict | None:
        """The blocklist on a joiner's name or username (only when blocklist_joiner_names is on); in a username,
        "_" also separates words."""
        if not self.joiner_names or not self.blocklist or not isinstance(name, str):
            return None
        normalized = normalize(name)
        hit = self.blocklist.first(normalized)
        if hit is None and "_" in normalized:  # a username's words: crypto_signals_bot holds "crypto" and "signals"
            hit = self.blocklist.first(normalized.replace("_", " "))
        if hit is None:
            return None
        verdict = self._entry_verdict(hit)
        return Verdict(verdict.rule, verdict.kind, verdict.mode, verdict.duration_seconds, verdict.reason,
                       f'name matches blocklist entry "{hit.pattern}"')

    def match_filter(self, text: str) -> Mapping | None:
        """The filter (its wire dict) whose trigger matches `text`; the longest trigger wins."""
        if self.filters.empty or not isinstance(text, str) or not text:
            return None
        return self.filters.match(self._normalized(text))

    def note_request(self, text: str) -> str | None:
        """"#name" at the start of `text` where name is one of the group's notes."""
        if not self.notes or not isinstance(text, str) or not text.startswith("#"):
            return None
        match = _NOTE.match(text.lower())
        if match is None or match.group(1) not in self.notes:
            return None
        return match.group(1)

    def explain(self, message: Mapping | str) -> dict:
        """For "test a message": the verdict, every lock (of those locked) and blocklist entry that applies, the filter
        and the note the text would trigger. `message` may also be a plain text."""
        if isinstance(message, str):
            message = {"text": message}
        if not isinstance(message, Mapping):
            message = {}
        verdict = self.evaluate(message)
        blocklist: list[str] = []
        if self.blocklist:
            seen: set[int] = set()
            for text in self._texts(message):
                for pattern in self.blocklist.all(normalize(text)):
                    if pattern.index not in seen:
                        seen.add(pattern.index)
                        blocklist.append(pattern.pattern)
        text = message.get("text") if isinstance(message.get("text"), str) else message.get("caption")
        found = self.match_filter(text) if isinstance(text, str) else None
        return {
            "verdict": verdict.as_dict() if verdict else None,
            "locks": [kind for kind in lock_kinds(dict(message)) if kind in self.locks],
            "blocklist": blocklist,
            "filter": found.get("trigger") if found else None,
            "note": self.note_request(text) if isinstance(text, str) else None,
        }


def compile_rules(settings: Mapping, *, engine: str = "automaton") -> CompiledRules:
    """The compiled rules of a settings wire dict (keys: locks, blocklist, blocklist_action,
    blocklist_action_duration_seconds, blocklist_joiner_names, filters, notes; a missing key is none).
    `engine`: "automaton" (pyahocorasick, the default) or "regex" (one combined pattern; for the benchmark)."""
    return CompiledRules(settings, engine=engine)
