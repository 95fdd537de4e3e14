"""One normalization for blocklist patterns, filter triggers and message text, so that look-alike spellings meet.

NFKD (compatibility forms: fullwidth, mathematical and circled letters, ligatures), case folded, accents and other
combining marks dropped, Cyrillic/Greek/Armenian letters that look like Latin ones folded to them (capitals before
case folding, small letters after), zero-width and other invisible format characters removed, every run of whitespace
one space, no leading or trailing space.

Plain ASCII (most messages) takes a short way: lower case and whitespace only, which is what the long way gives it.
Other text goes through one `str.translate` whose table is filled per character on first sight (bounded), so the cost
per message is one NFKD, one translate and one split/join.
"""

import unicodedata

__all__ = ["is_word_char", "normalize"]

# Written as escapes: the characters look like what they stand for.
# Cyrillic and Greek capitals that look like Latin ones, mapped before case folding (their lower-case forms do not all
# look Latin: a Cyrillic capital Ve is a "B", its lower case is not a "b").
_UPPER = dict(zip(
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0423\u04ae\u0406\u0408\u0405"
    "\u051a\u051c\u04ba\u04c0\u050c\ua646\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f"
    "\u03a1\u03a4\u03a5\u03a7",
    "ABEKMHOPCTXYYIJSQWHIGIABEZHIKMNOPTYX", strict=True))
# Lower-case look-alikes, after case folding and decomposition: Cyrillic, Greek, Armenian, then Latin variants
# (dotless i, small capitals, long s).
_LOWER = dict(zip(
    "\u0430\u0435\u0451\u043e\u0440\u0441\u0443\u0445\u0456\u0457\u0458\u0455\u04bb\u0501\u051b\u051d"
    "\u04cf\u04af\u043a\u043c\u0442\u0261\ua647\u050d\u03b1\u03bf\u03bd\u03c1\u03c4\u03c5\u03b9\u03ba"
    "\u03c7\u03b5\u03b3\u03c9\u03b7\u03f2\u03f3\u0585\u057d\u0570\u0581\u0584\u0566\u0131\u0237\u0251"
    "\u0269\u028f\u1d00\u1d04\u1d05\u1d07\u1d0b\u1d0d\u1d0f\u1d18\u1d1b\u1d1c\u1d20\u1d21\u1d22\u017f",
    "aeeopcyxiijshdqwlykmtgigaovptuikxeywncjouhgpqijaiyacdekmoptuvwzs", strict=True))
_INVISIBLE_EXTRA = {0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x180B, 0x180C, 0x180D, 0x180F}


def _invisible(char: str) -> bool:
    code = ord(char)
    return (unicodedata.combining(char) != 0 or unicodedata.category(char) in ("Cf", "Mn", "Me")
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or code in _INVISIBLE_EXTRA)


def _fold_char(char: str) -> str:
    if char.isspace():
        return " "
    char = _UPPER.get(char, char)
    out = []
    for part in unicodedata.normalize("NFKD", char.casefold()):
        if _invisible(part):
            continue
        if part.isspace():
            out.append(" ")
            continue
        out.append(_LOWER.get(part, part))
    return "".join(out)


class _FoldTable(dict):
    """str.translate's table, filled on first sight of each character; at most _MAX entries are kept (text made of
    every Unicode character is still folded, just without remembering all of them)."""

    _MAX = 1 << 16

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < self._MAX:
            self[code] = folded
        return folded


_TABLE = _FoldTable()
for _code in range(128):
    _TABLE[_code] = _fold_char(chr(_code))
_NFKD = unicodedata.normalize


def normalize(text: str) -> str:
    """The matching form of `text` (see the module's doc)."""
    if text.isascii():
        return " ".join(text.lower().split())
    return " ".join(_NFKD("NFKD", text).translate(_TABLE).split())


def is_word_char(char: str) -> bool:
    """A letter, a digit or "_" (what a whole-word match must not touch on either side)."""
    return char.isalnum() or char == "_"
