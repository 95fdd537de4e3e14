"""Failed-login limits (apps/common/ratelimit.py) on locmem and on a real Redis."""

import time

import pytest
from django.core.cache import cache, caches

from apps.common.ratelimit import Limit, LoginRateLimiter


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def limiter(clock, backend=None, *, account=3, ip=5, window=60, lockout=120):
    return LoginRateLimiter(account=Limit("account", account, window, lockout), ip=Limit("ip", ip, window, lockout),
                            cache=backend or cache, clock=clock)


def test_an_account_locks_at_its_limit_and_unlocks_after_the_lockout():
    clock = Clock()
    limits = limiter(clock)
    for _ in range(2):
        limits.record_failure(username="alice", ip="203.0.113.1")
        assert limits.lockout(username="alice", ip="203.0.113.2") is None
    limits.record_failure(username="alice", ip="203.0.113.3")
    locked = limits.lockout(username="alice", ip="203.0.113.4")
    assert (locked.scope, locked.retry_after) == ("account", 120)
    clock.now += 100
    assert limits.lockout(username="alice", ip="203.0.113.4").retry_after == 20
    assert limits.lockout(username="bob", ip="203.0.113.4") is None  # other accounts are not affected
    clock.now += 21
    assert limits.lockout(username="alice", ip="203.0.113.4") is None


def test_an_address_locks_across_accounts():
    clock = Clock()
    limits = limiter(clock)
    for number in range(5):
        limits.record_failure(username=f"guess{number}", ip="198.51.100.9")
    locked = limits.lockout(username="someone-else", ip="198.51.100.9")
    assert locked.scope == "ip"
    assert limits.lockout(username="someone-else", ip="198.51.100.10") is None


def test_success_clears_the_accounts_count_but_not_the_addresses():
    clock = Clock()
    limits = limiter(clock, account=3, ip=4)
    for _ in range(2):
        limits.record_failure(username="alice", ip="192.0.2.1")
    limits.record_success(username="alice")
    for _ in range(2):
        limits.record_failure(username="alice", ip="192.0.2.1")
    assert limits.lockout(username="alice", ip="192.0.2.2") is None  # 2 since the success, limit 3
    assert limits.lockout(username="x", ip="192.0.2.1").scope == "ip"  # 4 from this address, limit 4


def test_failures_outside_the_window_are_forgotten():
    limits = limiter(Clock(), window=1)
    limits.record_failure(username="alice", ip="")
    limits.record_failure(username="alice", ip="")
    time.sleep(1.1)
    limits.record_failure(username="alice", ip="")
    assert limits.lockout(username="alice", ip="") is None


def test_the_longest_lock_wins():
    clock = Clock()
    limits = limiter(clock, account=1, ip=1, lockout=50)
    limits.record_failure(username="alice", ip="192.0.2.7")
    clock.now += 10
    limits.record_failure(username="bob", ip="192.0.2.7")  # the address locks again, later
    locked = limits.lockout(username="alice", ip="192.0.2.7")  # alice's own lock has 40 s left, the address's 50
    assert (locked.scope, locked.retry_after) == ("ip", 50)


def test_usernames_are_not_stored_readable():
    limits = limiter(Clock())
    limits.record_failure(username="alice-secret-name", ip="192.0.2.8")
    assert not any("alice-secret-name" in str(key) for key in caches["default"]._cache)


@pytest.mark.redis
def test_workers_share_counts_through_redis(redis_cache):
    """Two limiters on one Redis stand for two web workers (or replicas): failures on either count together."""
    clock = Clock()
    first, second = limiter(clock, redis_cache), limiter(clock, redis_cache)
    first.record_failure(username="alice", ip="203.0.113.50")
    second.record_failure(username="alice", ip="203.0.113.51")
    assert first.lockout(username="alice", ip="203.0.113.52") is None
    first.record_failure(username="alice", ip="203.0.113.53")
    assert second.lockout(username="alice", ip="203.0.113.54").scope == "account"
