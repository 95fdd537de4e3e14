"""The TTL caches that exist for speed, hand-written (as they were before cachetools) against cachetools, with
timeit: web's verified access tokens (a hit against the full verification it saves) and the bot's reused Telegram
answers. `python -m bench.ttl_caches` (web's settings, development keys in a temporary directory)."""

import os
import tempfile
import time
import timeit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.web")
os.environ.setdefault("APP_ENV", "development")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="ttl-caches-"))

import django

django.setup()

from apps.botgateway.context import OWN_RIGHTS_SECONDS, telegram_answers  # noqa: E402
from apps.dashboard import tokens  # noqa: E402


def hand_written_verified(cache: dict, raw):
    token = cache.get(raw) if isinstance(raw, str) else None
    if token is not None and token["exp"] > time.time() - token.get_token_backend().get_leeway().total_seconds():
        return token
    return None


def hand_written_recent(cache: dict, key):
    entry = cache.get(key)
    return entry[0] if entry is not None and time.monotonic() - entry[1] < OWN_RIGHTS_SECONDS else None


def hand_written_remember(cache: dict, key, value) -> None:
    if len(cache) >= 10_000:
        cache.clear()
    cache[key] = (value, time.monotonic())


def per_call_us(call, number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6


def main() -> None:
    raw = tokens.issue_pair({"id": "7", "username": "ann"})["access"]
    token = tokens._decode(tokens.AccessToken, raw)
    old_verified = {raw: token}
    tokens._verified_access(raw)
    rows = [
        ("web: full verification (what a hit saves)", per_call_us(lambda: tokens._decode(tokens.AccessToken, raw),
                                                                   2_000)),
        ("web: verified token hit, hand-written dict", per_call_us(lambda: hand_written_verified(old_verified, raw),
                                                                    200_000)),
        ("web: verified token hit, cachetools TLRUCache + lock", per_call_us(lambda: tokens._verified_access(raw),
                                                                               200_000)),
    ]
    old_owners, new_owners = {}, telegram_answers()
    hand_written_remember(old_owners, (-1, 2), False)
    new_owners[(-1, 2)] = False
    rows += [
        ("bot: owner verdict hit, hand-written dict", per_call_us(lambda: hand_written_recent(old_owners, (-1, 2)),
                                                                   500_000)),
        ("bot: owner verdict hit, cachetools TTLCache", per_call_us(lambda: new_owners.get((-1, 2)), 500_000)),
        ("bot: owner verdict store, hand-written dict",
         per_call_us(lambda: hand_written_remember(old_owners, (-1, 2), False), 500_000)),
        ("bot: owner verdict store, cachetools TTLCache",
         per_call_us(lambda: new_owners.__setitem__((-1, 2), False), 500_000)),
    ]
    for label, micros in rows:
        print(f"{label:<55} {micros:8.2f} µs")


if __name__ == "__main__":
    main()
