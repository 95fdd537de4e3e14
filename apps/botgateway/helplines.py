"""A /help line, declared by each command module beside its commands (handlers.info gathers them)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class HelpLine:
    """A /help line: shown where the command runs (in groups, or anywhere), to those core allows to run it there
    (`permission` None: everyone; `platform_wide`: the command checks a global grant, not one in the group)."""

    usage: str
    text: str
    permission: str | None = None
    anywhere: bool = False
    platform_wide: bool = False
