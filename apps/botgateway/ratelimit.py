"""Telegram's flood limits are about what a bot sends (about 30 messages a second overall, 20 a minute in a group);
python-telegram-bot's limiter paces every Bot API request by them. Reads that decide a command (is the target the
owner? may the bot restrict here?) then queue behind the replies and actions of other commands, and a busy minute
adds a limiter wait to every step of every command. Reads go straight through; everything else is paced and retried
after a 429 as before."""

from typing import Any

from telegram.ext import AIORateLimiter

# Bot API methods that only read state. A 429 to one of them (a bot that overdoes reads) reaches the handler as
# RetryAfter, which fails that one update visibly instead of slowing every other.
UNPACED_READS = frozenset({"getMe", "getChat", "getChatMember", "getChatAdministrators", "getChatMemberCount",
                           "getWebhookInfo", "getMyCommands", "getFile", "getUserProfilePhotos"})


class SendRateLimiter(AIORateLimiter):
    async def process_request(self, callback, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None):
        if endpoint in UNPACED_READS:
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
