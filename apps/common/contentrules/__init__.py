"""Content rules: locks, blocklist, filters and notes, matched on Telegram Bot API messages.

Pure Python, no Django: core validates and explains with it, the bot evaluates every group message with it (from
settings it caches), the dashboard previews with it.

    rules = compile_rules(settings_wire)      # once per settings version
    verdict = rules.evaluate(message_dict)     # every group message: a Verdict or None
"""

from apps.common.contentrules.blocklist import pattern_problems
from apps.common.contentrules.buttons import parse_buttons
from apps.common.contentrules.locks import LOCK_ALIASES, LOCK_DESCRIPTIONS, LOCK_TYPES, canonical_lock
from apps.common.contentrules.normalize import normalize
from apps.common.contentrules.rules import MODES, TIMED_MODES, CompiledRules, Verdict, compile_rules

__all__ = [
    "LOCK_ALIASES", "LOCK_DESCRIPTIONS", "LOCK_TYPES", "MODES", "TIMED_MODES", "CompiledRules", "Verdict",
    "canonical_lock", "compile_rules", "normalize", "parse_buttons", "pattern_problems",
]
