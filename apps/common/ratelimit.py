"""Failed-login limits per account and per client address, kept in Django's cache (locmem or Redis).

A failure counter lives for `window` seconds from the first failure; at `limit` failures the account (or the
address) is locked for `lockout` seconds, and every login attempt for it is refused with 429 and Retry-After
without asking core, right password or not. A successful login clears the account's counter (not the
address's: one valid account must not let an address keep guessing others).

On locmem every worker process counts alone; set REDIS_URL so every worker and replica shares the counts.
Used by web's login and by core's own logins (admin, browsable API) and its credential check.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache as default_cache


@dataclass(frozen=True)
class Limit:
    scope: str  # "account" or "ip"
    limit: int
    window: int
    lockout: int


@dataclass(frozen=True)
class Lockout:
    scope: str
    retry_after: int


class LoginRateLimiter:
    PREFIX = "login-failures"

    def __init__(self, *, account: Limit, ip: Limit, cache=None, clock=time.time):
        self.limits = {"account": account, "ip": ip}
        self.cache = cache if cache is not None else default_cache
        self.clock = clock

    @staticmethod
    def _subject(scope: str, value: str) -> str:
        # Hashed: usernames (and addresses) are not worth keeping readable in a shared cache.
        return hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]

    def _keys(self, scope: str, value: str) -> tuple[str, str]:
        subject = self._subject(scope, value)
        return f"{self.PREFIX}:{scope}:{subject}:count", f"{self.PREFIX}:{scope}:{subject}:locked-until"

    def _subjects(self, username: str, ip: str):
        yield "account", username
        if ip:
            yield "ip", ip

    def lockout(self, *, username: str, ip: str) -> Lockout | None:
        """The longest lock standing against this attempt, or None."""
        now = self.clock()
        found = None
        keys = {scope: self._keys(scope, value)[1] for scope, value in self._subjects(username, ip)}
        until_by_key = self.cache.get_many(list(keys.values()))
        for scope, key in keys.items():
            until = until_by_key.get(key)
            if until is not None and until > now:
                wait = max(1, math.ceil(until - now))
                if found is None or wait > found.retry_after:
                    found = Lockout(scope=scope, retry_after=wait)
        return found

    def record_failure(self, *, username: str, ip: str) -> None:
        now = self.clock()
        for scope, value in self._subjects(username, ip):
            limit = self.limits[scope]
            count_key, lock_key = self._keys(scope, value)
            count = self._increment(count_key, limit.window)
            if count >= limit.limit:
                self.cache.set(lock_key, now + limit.lockout, timeout=limit.lockout)
                self.cache.delete(count_key)

    def record_success(self, *, username: str) -> None:
        count_key, _ = self._keys("account", username)
        self.cache.delete(count_key)

    def _increment(self, key: str, window: int) -> int:
        self.cache.add(key, 0, timeout=window)
        try:
            # None when Redis is down and django-redis ignores the error: fail open, the login still goes to core.
            return int(self.cache.incr(key) or 0)
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, timeout=window)
            return 1


def login_limiter() -> LoginRateLimiter:
    """The limiter the LOGIN_* settings describe."""
    window, lockout = settings.LOGIN_FAILURE_WINDOW_SECONDS, settings.LOGIN_LOCKOUT_SECONDS
    return LoginRateLimiter(account=Limit("account", settings.LOGIN_MAX_FAILURES_PER_ACCOUNT, window, lockout),
                            ip=Limit("ip", settings.LOGIN_MAX_FAILURES_PER_IP, window, lockout))
