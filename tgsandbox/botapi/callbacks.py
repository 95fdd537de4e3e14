"""Bot API methods for inline buttons: answerCallbackQuery (the press itself is ``World.press_button``)."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from .params import Call

CALLBACK_QUERY_TTL = 15 * 60
MAX_ANSWER_TEXT = 200  # the notification's text: 0-200 characters


def answer_callback_query(call: Call) -> Any:
    """One answer per press: a second answer, another bot's or a stale query id is refused alike."""
    p = call.params
    query_id = p.str("callback_query_id")
    query = call.world.callback_queries.get(query_id)
    if (query is None or query["bot_id"] != call.bot.id or query["answered"]
            or call.world.now() - query["date"] > CALLBACK_QUERY_TTL):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.str("text")
    if len(text) > MAX_ANSWER_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    query["answered"] = True
    query["answer"] = {"text": text, "show_alert": p.bool("show_alert"), "url": p.str("url") or None,
                       "cache_time": max(0, p.int("cache_time"))}
    return True
