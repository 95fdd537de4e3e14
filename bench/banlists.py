"""The bot's ban-list check (issue 16): `BanListCache.banned_in(list_ids, telegram_user_id)` with 10 lists of 100,000
bans each, in this process (no servers).

    python -m bench.banlists [--lists 10] [--size 100000] [--changes 2000] [--json results.json]

- per call: the check over all 10 lists, for misses (ids on no list: every list is looked at, the common case) and
  hits (ids on the last list looked at: the worst hit), with changes applied since the lists were loaded (ids banned
  and unbanned after the load, kept beside the arrays until they are merged); as a ratio against one plain Python
  set lookup (`uid in a_set`, the floor) timed in the same run, so a slow machine shows in both;
- memory: what the cache holds for the lists (tracemalloc over building them, and the process's RSS before and
  after), against a plain set per list;
- the alternatives measured beside it: a Python set per list (fast, 5x the memory), a sorted array('q') per list
  without the bitmap (small, a binary search per list on every miss);
- loading a list (core's answer to since=0 made into the cache's form) and merging a batch of changes.

Targets: under 50 us per check, under 100 MB for the lists. Missed targets print FAIL; the exit status is non-zero
only when the run itself broke.
"""

import argparse
import gc
import json
import os
import random
import sys
import time
import timeit
import tracemalloc
from array import array
from bisect import bisect_left

from django.conf import settings

if not settings.configured:  # this process runs no role: the cache needs no settings
    settings.configure(SERVICE_NAME="bench")

from apps.botgateway.federations.cache import BanListCache, BanSet

TARGET_CHECK_US = 50.0
TARGET_MEMORY_MB = 100.0
LOW, HIGH = 10**8, 8 * 10**9  # Telegram user ids today: 9 and 10 digits


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def per_call_us(function, probes: list[int], repeat: int = 5) -> float:
    """The best of `repeat` passes over `probes` (one call each), per call, in microseconds."""
    def one_pass():
        for uid in probes:
            function(uid)
    return min(timeit.repeat(one_pass, number=1, repeat=repeat)) / len(probes) * 1e6


def measured_memory(build) -> tuple[object, float, float]:
    """(what build() made, MB tracemalloc saw it keep, MB of RSS it added)."""
    gc.collect()
    rss_before = rss_bytes()
    tracemalloc.start()
    made = build()
    kept, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    return made, kept / 1e6, (rss_bytes() - rss_before) / 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists", type=int, default=10)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=2_000, help="ids banned and unbanned per list after loading")
    parser.add_argument("--probes", type=int, default=20_000)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    rng = random.Random(16)
    print(f"ban lists: {args.lists} lists x {args.size:,} ids, {args.changes:,} changes each after loading")
    lists = [sorted(rng.sample(range(LOW, HIGH), args.size)) for _ in range(args.lists)]
    list_ids = [f"list-{number}" for number in range(args.lists)]

    # Core's answers (lists of ints, as JSON gives them) are made before measuring: the cache's own memory is measured.
    def build_cache():
        cache = BanListCache()
        for list_id, ids in zip(list_ids, lists, strict=True):
            cache.store(list_id, ids, version=1, name=list_id)
        return cache

    cache, cache_mb, cache_rss_mb = measured_memory(build_cache)
    load_ms = min(timeit.repeat(lambda: BanSet(lists[0], version=1), number=1, repeat=3)) * 1000
    sets, sets_mb, sets_rss_mb = measured_memory(lambda: [set(ids) for ids in lists])
    arrays, arrays_mb, _ = measured_memory(lambda: [array("q", ids) for ids in lists])

    # Changes after the load (kept beside the arrays): ids banned, and some of the loaded ones unbanned.
    merge_ms = 0.0
    for version, (list_id, ids) in enumerate(zip(list_ids, lists, strict=True), start=2):
        banned = rng.sample(range(LOW, HIGH), args.changes // 2)
        unbanned = rng.sample(ids, args.changes // 2)
        started = time.perf_counter()
        cache.get(list_id).apply(banned, unbanned, version)
        merge_ms = max(merge_ms, (time.perf_counter() - started) * 1000)
        for set_ in (sets[list_ids.index(list_id)],):
            set_.difference_update(unbanned)
            set_.update(banned)
    deltas = sum(len(cache.get(list_id).added) + len(cache.get(list_id).removed) for list_id in list_ids)

    last = cache.get(list_ids[-1])
    every = set().union(*sets)
    misses = []
    while len(misses) < args.probes:
        uid = rng.randrange(LOW, HIGH)
        if uid not in every:
            misses.append(uid)
    others = set().union(*sets[:-1])
    hits = rng.sample(sorted(sets[-1] - others), args.probes)  # on the last list only: every list is looked at
    assert all(cache.banned_in(list_ids, uid) is None for uid in misses[:1000])
    assert all(cache.banned_in(list_ids, uid) == list_ids[-1] for uid in hits[:1000])
    assert len(last) == len(sets[-1])

    floor_set = sets[0]
    floor_us = per_call_us(lambda uid: uid in floor_set, misses)

    def sets_check(uid):
        for set_ in sets:
            if uid in set_:
                return True
        return None

    def arrays_check(uid):
        for base in arrays:
            index = bisect_left(base, uid)
            if index < len(base) and base[index] == uid:
                return True
        return None

    rows = []
    for label, function in (
        ("cache.banned_in (array + bitmap + changes)", lambda uid: cache.banned_in(list_ids, uid)),
        ("a Python set per list", sets_check),
        ("a sorted array('q') per list, no bitmap", arrays_check),
    ):
        rows.append((label, per_call_us(function, misses), per_call_us(function, hits)))

    memory = [("cache (array + bitmap + changes)", cache_mb, cache_rss_mb), ("a Python set per list", sets_mb,
                                                                               sets_rss_mb),
              ("a sorted array('q') per list", arrays_mb, None)]
    print(f"\nfloor: one set lookup {floor_us:.3f} us")
    print(f"{'check over ' + str(args.lists) + ' lists':48} {'miss us':>9} {'x floor':>8} {'hit us':>9} {'x floor':>8}")
    for label, miss, hit in rows:
        print(f"{label:48} {miss:9.3f} {miss / floor_us:8.1f} {hit:9.3f} {hit / floor_us:8.1f}")
    print(f"\n{'memory for the lists':48} {'traced MB':>10} {'RSS MB':>8}")
    for label, traced, rss in memory:
        print(f"{label:48} {traced:10.1f} {'' if rss is None else f'{rss:8.1f}':>8}")
    print(f"\nloading one list of {args.size:,} (core's ids into the cache): {load_ms:.0f} ms; "
          f"applying {args.changes:,} changes to one: {merge_ms:.1f} ms at most; {deltas:,} changes held beside the "
          "arrays after them")

    check_miss, check_hit = rows[0][1], rows[0][2]
    failed = []
    if max(check_miss, check_hit) >= TARGET_CHECK_US:
        failed.append(f"check {max(check_miss, check_hit):.1f} us >= {TARGET_CHECK_US} us")
    if cache_mb >= TARGET_MEMORY_MB:
        failed.append(f"memory {cache_mb:.1f} MB >= {TARGET_MEMORY_MB} MB")
    print(f"\ntargets: check < {TARGET_CHECK_US:.0f} us ({max(check_miss, check_hit):.2f}), memory < "
          f"{TARGET_MEMORY_MB:.0f} MB ({cache_mb:.1f}): " + ("FAIL: " + "; ".join(failed) if failed else "met"))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"lists": args.lists, "size": args.size, "changes": args.changes, "floor_us": floor_us,
                       "checks": [{"label": label, "miss_us": miss, "hit_us": hit} for label, miss, hit in rows],
                       "memory": [{"label": label, "traced_mb": traced, "rss_mb": rss}
                                  for label, traced, rss in memory],
                       "load_ms": load_ms, "merge_ms": merge_ms, "failed": failed}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
