"""A Bot API request as the handlers see it: its parameters (:class:`Params`), the bot and world (:class:`Call`),
and a result with a description (:class:`Answer`).

Parameters arrive the way the Bot API server receives them (form fields are strings, objects
JSON-encoded; a JSON body carries native values), and are read with Telegram's leniency:
``"true"``/``"1"`` are true, a malformed integer is 0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..content import Upload
from ..errors import bad_request
from ..world import World
from ..world.model import Bot


@dataclass
class Answer:
    """A successful result with the optional ``description`` Telegram adds (e.g. "Webhook was set")."""

    result: Any
    description: str | None = None


class Params:
    """Request parameters with the Bot API server's parsing rules."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def has(self, name: str) -> bool:
        value = self.data.get(name)
        return value is not None and value != ""

    def str(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value)
        return str(value)

    def int(self, name: str, default: int = 0) -> int:
        value = self.data.get(name)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        return default

    def bool(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        if isinstance(value, str):
            return value.strip().lower() in ("true", "yes", "1")
        return False

    def upload(self, name: str) -> Upload | None:
        """The file uploaded as ``name``, or named by ``attach://<part>`` (a multipart request's other part)."""
        value = self.data.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.data.get(value[len("attach://"):])
        return value if isinstance(value, Upload) else None

    def json(self, name: str, what: str) -> Any:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what} JSON object") from None
        return value


@dataclass
class Call:
    world: World
    bot: Bot
    params: Params
