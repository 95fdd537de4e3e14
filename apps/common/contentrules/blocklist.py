"""Blocklist patterns: literal text with Rose's two modifiers, matched whole-word on normalized text.

- `*` matches 0 or more non-space characters, `?` exactly one; `\\*`, `\\?` and `\\\\` are the characters themselves
  (a backslash before anything else is a backslash: `C:\\temp` is what it says).
- A pattern matches whole words: where its match begins (ends) with a letter, digit or "_", the character before
  (after) it must not be one; a leading (trailing) `*` lifts that side's rule ("*hi*" matches "this").
- Pattern and text go through the same normalize() (case, accents, look-alikes, invisible characters, spaces).

Finding: every pattern has an anchor, its longest literal piece (the whole pattern when it has no modifier). One
Aho-Corasick automaton (pyahocorasick) over the anchors finds, in one pass over the text, every place where some
anchor occurs; a literal pattern is then checked at that place (its two boundaries), a pattern with modifiers is
verified once per text by `_Pattern.search`, which walks its pieces left to right keeping the set of positions where
the pattern so far can end: linear in the text for each piece, never backtracking (a modifier spans no space, so the
positions are bounded by the text's length). The alternative finder, one combined regular expression over the
anchors (a trie of alternatives, so that the regex engine does not try 1,000 alternatives at each position), is kept
for the benchmark and as the fallback where pyahocorasick is missing. `python -m bench.protection --only content`,
every lock on but all and text, 1,000 entries, plain 60-character messages: evaluate() 3.3 us per message with the
automaton against 8.5 us with the combined regex (the same verification after either); compile_rules() 2.8 ms for
1,000 entries and 20 ms for 5,000 with the automaton, 9 and 65 ms with the regex. The automaton it is.
"""

from __future__ import annotations

import re

from apps.common.contentrules.normalize import is_word_char, normalize

try:  # the C automaton; the regex finder does the same work when it is missing (slower with many entries)
    import ahocorasick
except ImportError:  # pragma: no cover - installed by every role's requirements
    ahocorasick = None

__all__ = ["MAX_PATTERN_LENGTH", "MAX_WILDCARDS", "Blocklist", "parse_pattern", "pattern_problems"]

MAX_PATTERN_LENGTH = 100
MAX_WILDCARDS = 4
# Text beyond this many characters (after normalization) is not searched: Telegram's texts are 4,096 at most, a
# caption 1,024; the bound only matters for text that did not come from Telegram.
MAX_TEXT = 8192
# The work one text may cost (anchor hits seen plus verification steps): far beyond what any real message and
# blocklist need (a 4,096-character message against 5,000 entries: a few hundred); a text built against the
# entries' shapes (thousands of overlapping hits) is searched up to there, 10 to 20 ms, and no further (no match
# found past it), so that no message can stall the bot.
MAX_WORK = 20_000


def _tokens(normalized: str) -> list:
    """Literal characters and the two modifiers ("*" and "?" as objects of their own), escapes resolved."""
    out: list = []
    index, length = 0, len(normalized)
    while index < length:
        char = normalized[index]
        if char == "\\" and index + 1 < length and normalized[index + 1] in "*?\\":
            out.append(normalized[index + 1])
            index += 2
            continue
        out.append(STAR if char == "*" else ANY if char == "?" else char)
        index += 1
    return out


class _Modifier:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


STAR, ANY = _Modifier("*"), _Modifier("?")


def pattern_problems(pattern: str) -> list[str]:
    """Why a blocklist pattern is refused ([] = fine)."""
    if not isinstance(pattern, str):
        return ["a pattern is text"]
    normalized = normalize(pattern)
    return _problems(pattern, normalized, _tokens(normalized))


def _problems(pattern: str, normalized: str, tokens: list) -> list[str]:
    problems = []
    if len(pattern) > MAX_PATTERN_LENGTH:
        problems.append(f"longer than {MAX_PATTERN_LENGTH} characters")
    if not normalized:
        problems.append("empty (nothing left once spaces and invisible characters are removed)")
        return problems
    if not any(isinstance(part, str) and part != " " for part in tokens):
        problems.append("only wildcards: it would match every message")
    stars = sum(part is STAR for part in tokens)
    if stars > MAX_WILDCARDS:
        problems.append(f"more than {MAX_WILDCARDS} * wildcards ({stars})")
    return problems


class _Pattern:
    """One compiled blocklist entry."""

    __slots__ = (
        "anchor",
        "edge_left",
        "edge_right",
        "entry",
        "first",
        "index",
        "lead",
        "lead_any",
        "left_check",
        "length",
        "literal",
        "normalized",
        "pattern",
        "right_check",
        "steps",
        "trail",
        "trail_any",
    )

    def __init__(self, index: int, entry: dict, pattern: str, normalized: str, tokens: list):
        self.index, self.entry, self.pattern, self.normalized = index, entry, pattern, normalized
        # pieces of literal text between runs of modifiers; each run: (count of ?, has *)
        runs: list[tuple[int, bool]] = []
        pieces: list[str] = []
        run_any, run_star, literal = 0, False, []
        in_run = True  # a run (maybe empty) opens the pattern
        for token in tokens:
            if isinstance(token, str):
                if in_run:
                    runs.append((run_any, run_star))
                    run_any, run_star, in_run = 0, False, False
                literal.append(token)
            else:
                if not in_run:
                    pieces.append("".join(literal))
                    literal, in_run = [], True
                if token is STAR:
                    run_star = True
                else:
                    run_any += 1
        if in_run:
            runs.append((run_any, run_star))
        else:
            pieces.append("".join(literal))
            runs.append((0, False))
        # runs[0] leads, runs[-1] trails, runs[i] sits between pieces[i-1] and pieces[i]
        self.lead, self.trail = runs[0], runs[-1]
        self.first = pieces[0]
        self.steps = list(zip(runs[1:-1], pieces[1:], strict=True))
        self.literal = len(pieces) == 1 and runs[0] == (0, False) and runs[-1] == (0, False)
        anchor_index = max(range(len(pieces)), key=lambda index: _anchor_score(pieces[index]))
        self.anchor = pieces[anchor_index]
        self.length = len(self.anchor)
        # a hit of an anchor that is the first (last) piece, with no * before (after) it, is checked where it is
        # before the whole pattern is searched for: where the match must begin (end), a word must too
        self.lead_any, self.trail_any = self.lead[0], self.trail[0]
        self.edge_left = anchor_index == 0 and not self.lead[1]
        self.edge_right = anchor_index == len(pieces) - 1 and not self.trail[1]
        self.left_check = is_word_char(self.anchor[0])
        self.right_check = is_word_char(self.anchor[-1])

    @classmethod
    def plain(cls, index: int, entry: dict, pattern: str, normalized: str) -> _Pattern:
        """A pattern without modifiers (what __init__ makes of it, faster)."""
        self = cls.__new__(cls)
        self.index, self.entry, self.pattern, self.normalized = index, entry, pattern, normalized
        self.literal, self.anchor, self.first, self.length = True, normalized, normalized, len(normalized)
        self.lead = self.trail = (0, False)
        self.steps = []
        self.lead_any = self.trail_any = 0
        self.edge_left = self.edge_right = True
        self.left_check, self.right_check = is_word_char(normalized[0]), is_word_char(normalized[-1])
        return self

    def search(self, text: str, budget: int) -> tuple[bool, int]:
        """(whether the pattern matches anywhere in normalized `text`, the steps it took). Linear in the text for
        each piece, no backtracking; gives up (no match) past `budget` steps."""
        n = len(text)
        lead_any, lead_star = self.lead
        first = self.first
        ends: list[int] = []
        steps = 0
        at = text.find(first)
        while at != -1:
            steps += 1
            start = at - lead_any
            if start >= 0 and (not lead_any or " " not in text[start:at]) and (
                    lead_star or start == 0 or not (is_word_char(text[start]) and is_word_char(text[start - 1]))):
                ends.append(at + len(first))
            at = text.find(first, at + 1)
        for (count, star), piece in self.steps:
            if not ends or steps > budget:
                return False, steps
            size = len(piece)
            found: list[int] = []
            steps += len(ends)
            if not star:
                for end in ends:
                    at = end + count
                    if text.startswith(piece, at) and (not count or " " not in text[end:at]):
                        found.append(at + size)
            else:
                # where the piece may begin: [end + count, the next space after end]; the intervals are merged
                low = high = -1
                intervals = []
                for end in ends:
                    space = text.find(" ", end)
                    if space == -1:
                        space = n
                    if end + count > space:
                        continue
                    if low != -1 and end + count <= high:
                        high = max(high, space)
                        continue
                    if low != -1:
                        intervals.append((low, high))
                    low, high = end + count, space
                if low != -1:
                    intervals.append((low, high))
                for low, high in intervals:
                    at = text.find(piece, low, high + size)
                    while at != -1:
                        found.append(at + size)
                        at = text.find(piece, at + 1, high + size)
                steps += len(found)
            ends = found
        trail_any, trail_star = self.trail
        for end in ends:
            stop = end + trail_any
            if stop > n or (trail_any and " " in text[end:stop]):
                continue
            if trail_star or stop == n or not (is_word_char(text[stop]) and is_word_char(text[stop - 1])):
                return True, steps
        return False, steps + len(ends)


# English letters from the most to the least frequent: of two pieces as long, the anchor is the rarer one (fewer hits
# to verify); a space is the most common of all, other characters count as rare.
_FREQUENCY = {" ": -1, **{char: rank for rank, char in enumerate("etaoinshrdlcumwfgypbvkjxqz")}}


def _anchor_score(piece: str) -> tuple[int, int]:
    return len(piece), sum(_FREQUENCY.get(char, 20) for char in piece)


def parse_pattern(index: int, entry: dict, *, limits: bool = True) -> _Pattern | None:
    pattern = entry.get("pattern") if isinstance(entry, dict) else None
    if not isinstance(pattern, str):
        return None
    normalized = normalize(pattern)
    if normalized and "*" not in normalized and "?" not in normalized and "\\" not in normalized:
        # the usual entry, a word or a phrase: none of the pieces machinery
        return _Pattern.plain(index, entry, pattern, normalized) if not limits or len(pattern) <= \
            MAX_PATTERN_LENGTH else None
    tokens = _tokens(normalized)
    if not normalized or (_problems(pattern, normalized, tokens) if limits
                          else not any(isinstance(part, str) and part != " " for part in tokens)):
        return None
    return _Pattern(index, entry, pattern, normalized, tokens)


class _AutomatonFinder:
    """Anchors in a pyahocorasick automaton: (end index, patterns with that anchor) for each occurrence."""

    def __init__(self, patterns: list[_Pattern]):
        groups: dict[str, list[_Pattern]] = {}
        for pattern in patterns:
            groups.setdefault(pattern.anchor, []).append(pattern)
        self.automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
        for anchor, group in groups.items():
            self.automaton.add_word(anchor, tuple(group))
        self.automaton.make_automaton()

    def hits(self, text: str):
        return self.automaton.iter(text)


def _trie_regex(words: list[str]) -> str:
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict) -> str:
        ending = "" in node
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ending:
            return f"(?:{body})?" if len(branches) == 1 else body + "?"
        return body

    return render(trie)


class _RegexFinder:
    """The alternative: one combined regex (a trie of the anchors) matched at every position (a lookahead, so that
    overlapping anchors are all seen); the anchors that are prefixes of the longest one at a position come from a
    dict. Same answers as the automaton."""

    def __init__(self, patterns: list[_Pattern]):
        self.groups: dict[str, tuple[_Pattern, ...]] = {}
        for pattern in patterns:
            self.groups[pattern.anchor] = (*self.groups.get(pattern.anchor, ()), pattern)
        self.lengths = sorted({len(anchor) for anchor in self.groups})
        self.regex = re.compile(f"(?=({_trie_regex(list(self.groups))}))") if self.groups else None

    def hits(self, text: str):
        if self.regex is None:
            return
        groups, lengths = self.groups, self.lengths
        for match in self.regex.finditer(text):
            longest = match.group(1)
            start = match.start()
            if len(lengths) == 1:
                yield start + len(longest) - 1, groups[longest]
                continue
            for length in lengths:
                if length > len(longest):
                    break
                group = groups.get(longest[:length])
                if group is not None:
                    yield start + length - 1, group


def _edges_fit(pattern: _Pattern, text: str, end: int) -> bool:
    """Whether a hit of `pattern`'s anchor ending at `end` can be part of a match, judged by the match's edges next
    to the anchor (a quick test: the pattern is then searched for in the whole text, once)."""
    if pattern.edge_left:
        start = end - pattern.length + 1 - pattern.lead_any
        if start < 0 or (start > 0 and is_word_char(text[start]) and is_word_char(text[start - 1])):
            return False
    if pattern.edge_right:
        stop = end + 1 + pattern.trail_any
        if stop > len(text) or (stop < len(text) and is_word_char(text[stop]) and is_word_char(text[stop - 1])):
            return False
    return True


class Blocklist:
    """The compiled entries of one group: `first(text)` the first pattern matching in the text, `all(text)` all."""

    def __init__(self, entries, *, engine: str = "automaton", limits: bool = True):
        self.patterns: list[_Pattern] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries if isinstance(entries, list | tuple) else ()):
            pattern = parse_pattern(index, entry, limits=limits)
            if pattern is not None and pattern.normalized not in seen:
                seen.add(pattern.normalized)
                self.patterns.append(pattern)
        if engine == "automaton" and ahocorasick is None:
            engine = "regex"
        self.engine = engine
        finder = _AutomatonFinder if engine == "automaton" else _RegexFinder
        self.finder = finder(self.patterns) if self.patterns else None

    def __bool__(self) -> bool:
        return self.finder is not None

    def first(self, text: str) -> _Pattern | None:
        """The first pattern (by where its anchor ends in `text`) that matches normalized `text`."""
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
        tried = None
        last = len(text) - 1
        budget = MAX_WORK
        for end, group in self.finder.hits(text):
            budget -= len(group)
            if budget < 0:
                return None
            for pattern in group:
                if pattern.literal:
                    start = end - pattern.length
                    if pattern.left_check and start >= 0 and is_word_char(text[start]):
                        continue
                    if pattern.right_check and end < last and is_word_char(text[end + 1]):
                        continue
                    return pattern
                if not _edges_fit(pattern, text, end):
                    continue
                if tried is None:
                    tried = set()
                elif pattern.index in tried:
                    continue
                tried.add(pattern.index)
                matched, steps = pattern.search(text, budget)
                if matched:
                    return pattern
                budget -= steps
        return None

    def all(self, text: str) -> list[_Pattern]:
        """Every pattern that matches normalized `text`, in the blocklist's order."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[list[_Pattern], int]:
        """(all(text), the work it took: anchor hits seen plus verification steps, at most MAX_WORK)."""
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
        matched: dict[int, _Pattern] = {}
        tried: set[int] = set()
        last = len(text) - 1
        budget = MAX_WORK
        for end, group in self.finder.hits(text):
            budget -= len(group)
            if budget < 0:
                break
            for pattern in group:
                if pattern.index in matched or pattern.index in tried:
                    continue
                if pattern.literal:
                    start = end - pattern.length
                    if pattern.left_check and start >= 0 and is_word_char(text[start]):
                        continue
                    if pattern.right_check and end < last and is_word_char(text[end + 1]):
                        continue
                    matched[pattern.index] = pattern
                elif _edges_fit(pattern, text, end):
                    tried.add(pattern.index)
                    found, steps = pattern.search(text, budget)
                    if found:
                        matched[pattern.index] = pattern
                    budget -= steps
        return [matched[index] for index in sorted(matched)], MAX_WORK - max(budget, 0)
