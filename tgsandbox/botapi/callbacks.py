"""Bot API methods for inline buttons: answerCallbackQuery (the press itself is ``World.press_button``)."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from .params import Call

CALLBACK_QUERY_TTL = 15 * 60

def answer_callback_query(call: Call) -> Any:
    query_id = call.params.str("callback_query_id")
    query = call.world.callback_queries.get(query_id)
    if (query is None or query["bot_id"] != call.bot.id or query["answered"]
            or call.world.now() - query["date"] > CALLBACK_QUERY_TTL):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    query["answered"] = True
    query["answer"] = {"text": call.params.str("text"), "show_alert": call.params.bool("show_alert"),
                       "url": call.params.str("url") or None}
    return True
