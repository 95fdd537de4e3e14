"""The bot's CPU per plain message on the webhook's shortcut, with antiflood on in every group and without.

    python -m bench.antiflood [--messages 200000] [--groups 1000] [--members 50] [--repeat 5]

In one process, no sockets: each plain message's Telegram JSON goes through what the webhook does with it on the
CPU (webhook._parse: json.loads and activity.plain_message_event) and then antiflood.observe_message with the
group's settings in the bot's real ProtectionCache, as handle_webhook calls it once the event is durable. The outbox
commit and the HTTP exchange around it are the same with antiflood on or off, so they are left out here (bench.bot
measures the whole path). Messages are spread over `groups` groups of `members` members at a steady rate (the
shortcut's throughput in bench.bot, about 10,000 a second), so each member writes about once every few seconds and
no flood is detected: the steady state of a busy bot. Prints the best of `repeat` runs, in microseconds of CPU
(process time) per message.
"""

import argparse
import json
import os
import sys
import time
from types import SimpleNamespace


def _settings(chat_id: int, version: int, flood_limit: int, window):
    from apps.coreclient import ProtectionSettings

    return ProtectionSettings(
        group_id=str(abs(chat_id)), telegram_chat_id=chat_id, title="bench", version=version,
        welcome_enabled=False, welcome_text="", goodbye_enabled=False, goodbye_text="", clean_welcome=False,
        clean_service=False, rules_text="", rules_private=True, captcha_enabled=False, captcha_mode="button",
        captcha_timeout_seconds=120, captcha_failure_action="kick", captcha_max_attempts=3, flood_limit=flood_limit,
        flood_window_seconds=window, flood_action="mute", flood_action_duration_seconds=None,
        flood_delete_messages=False, raid_detection=False, raid_join_limit=10, raid_window_seconds=60,
        raid_duration_minutes=360, raid_action="kick", raid_until=None, log_chat_id=None)


def bodies(count: int, groups: int, members: int, rate: float) -> list[bytes]:
    started = int(time.time())
    out = []
    for number in range(count):
        chat_id = -1_000_000_000_000 - number % groups
        user_id = 5_000_000 + (number * 7919) % (groups * members)
        message = {"message_id": 10 + number, "date": started + int(number / rate),
                   "chat": {"id": chat_id, "type": "supergroup", "title": "Bench"},
                   "from": {"id": user_id, "is_bot": False, "first_name": "Member", "username": f"m{user_id}"},
                   "text": "a plain message of ordinary length, nothing for a handler"}
        out.append(json.dumps({"update_id": 100 + number, "message": message}).encode())
    return out


def run(label: str, application, payloads: list[bytes], repeat: int, *, observe: bool) -> float:
    from apps.botgateway.protection.antiflood import FloodTracker, observe_message
    from apps.botgateway.webhook import _parse

    best = float("inf")
    for _ in range(repeat):
        application.bot_data.flood = FloodTracker()
        data = application.bot_data
        started = time.process_time()
        for body in payloads:
            _, event, _, message = _parse(body, application)
            if observe:
                observe_message(data, event["telegram_chat_id"], event["telegram_user_id"], message["message_id"],
                                message["date"], event["display_name"])
        best = min(best, time.process_time() - started)
    per_message = best * 1e6 / len(payloads)
    print(f"  {label:<44} {per_message:7.2f} µs CPU per message")
    return per_message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.antiflood")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10_000, help="messages a second, for their dates")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from apps.botgateway.context import BotData

    payloads = bodies(args.messages, args.groups, args.members, args.rate)
    chat_ids = sorted({-1_000_000_000_000 - n for n in range(args.groups)})
    data = BotData(groups={chat_id: str(abs(chat_id)) for chat_id in chat_ids})
    application = SimpleNamespace(bot_data=data, bot=None)
    print(f"bot plain-message CPU, {args.messages} messages in {args.groups} groups of {args.members} members "
          f"(best of {args.repeat})")
    bare = run("webhook parse only (no antiflood call)", application, payloads, args.repeat, observe=False)
    for chat_id in chat_ids:
        data.protection.store(_settings(chat_id, 1, 0, None))
    off = run("parse + observe_message, antiflood off", application, payloads, args.repeat, observe=True)
    for chat_id in chat_ids:
        data.protection.store(_settings(chat_id, 2, 10, 5))
    window = run("parse + observe_message, 10 messages in 5 s", application, payloads, args.repeat, observe=True)
    for chat_id in chat_ids:
        data.protection.store(_settings(chat_id, 3, 10, None))
    consecutive = run("parse + observe_message, 10 consecutive", application, payloads, args.repeat, observe=True)
    print(f"  antiflood's own cost: off {off - bare:.2f} µs, window {window - bare:.2f} µs, "
          f"consecutive {consecutive - bare:.2f} µs per message")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
