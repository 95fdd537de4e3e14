"""The flood tracker: N consecutive messages (no window) or N within T seconds from one member make a flood, told
once (messages sent while it is handled join it), exempt members are not told of again for a while, and memory stays
bounded however many members and chats write."""

from types import SimpleNamespace

import pytest

from apps.botgateway.protection.antiflood import FloodTracker


def flood_settings(limit=3, window=None, action="mute", version=1, **extra):
    return SimpleNamespace(flood_limit=limit, flood_window_seconds=window, flood_action=action, version=version,
                           flood_action_duration_seconds=extra.get("duration"),
                           flood_delete_messages=extra.get("delete", False))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


CHAT, ALICE, BOB = -100, 1, 2


def feed(tracker, settings, senders, *, start_id=1, date=0.0, step=0.0):
    """Observes one message per sender; returns the floods told, with the index of the message that made each."""
    floods = []
    for number, sender in enumerate(senders):
        flood = tracker.observe(settings, CHAT, sender, start_id + number, date + number * step)
        if flood is not None:
            floods.append((number, flood))
    return floods


def test_consecutive_messages_make_a_flood_at_the_limit():
    tracker = FloodTracker()
    floods = feed(tracker, flood_settings(limit=3), [ALICE, ALICE, ALICE])
    assert [(index, flood.user_id, flood.message_ids) for index, flood in floods] == [(2, ALICE, [1, 2, 3])]
    assert floods[0][1].count == 3 and floods[0][1].window_seconds is None


def test_another_members_message_breaks_the_streak():
    tracker = FloodTracker()
    assert feed(tracker, flood_settings(limit=3), [ALICE, ALICE, BOB, ALICE, ALICE]) == []
    assert len(feed(tracker, flood_settings(limit=3), [ALICE], start_id=6)) == 1  # the third in a row since BOB


def test_a_flood_is_told_once_and_later_messages_join_it_until_it_is_handled():
    tracker = FloodTracker()
    settings = flood_settings(limit=3)
    [(_, flood)] = feed(tracker, settings, [ALICE] * 3)
    assert feed(tracker, settings, [ALICE] * 10, start_id=4) == []  # still the same flood
    assert flood.message_ids == list(range(1, 14))
    tracker.finished(flood)
    # Counting starts over: the next flood takes the limit again.
    floods = feed(tracker, settings, [ALICE] * 3, start_id=14)
    assert [(index, f.message_ids) for index, f in floods] == [(2, [14, 15, 16])]


def test_messages_within_the_window_make_a_flood_and_spread_out_ones_do_not():
    tracker = FloodTracker()
    settings = flood_settings(limit=4, window=10)
    # One message every 4 s: never 4 within 10 s (the window holds at most 3: t, t+4, t+8).
    assert feed(tracker, settings, [ALICE] * 20, step=4) == []
    # Four within 10 s: the fourth at 9 s after the first.
    floods = feed(tracker, settings, [BOB] * 4, start_id=100, date=1000, step=3)
    assert [(index, f.user_id, f.message_ids) for index, f in floods] == [(3, BOB, [100, 101, 102, 103])]


def test_a_window_does_not_mix_members():
    tracker = FloodTracker()
    settings = flood_settings(limit=3, window=60)
    assert feed(tracker, settings, [ALICE, BOB, ALICE, BOB]) == []
    floods = feed(tracker, settings, [BOB], start_id=5)
    assert [f.message_ids for _, f in floods] == [[2, 4, 5]]


def test_exactly_the_window_apart_is_outside_it():
    tracker = FloodTracker()
    settings = flood_settings(limit=2, window=5)
    assert feed(tracker, settings, [ALICE, ALICE], step=5) == []
    assert len(feed(tracker, settings, [ALICE], start_id=3, date=9.9)) == 1


def test_an_exempt_member_is_not_told_of_again_for_a_while():
    clock = Clock()
    tracker = FloodTracker(clock=clock, exempt_seconds=60)
    settings = flood_settings(limit=2)
    [(_, flood)] = feed(tracker, settings, [ALICE, ALICE])
    tracker.remember_exempt(CHAT, ALICE, "admin")
    tracker.finished(flood)
    assert feed(tracker, settings, [ALICE] * 20, start_id=3) == []
    clock.now += 61
    assert len(feed(tracker, settings, [ALICE] * 2, start_id=30)) == 1


def test_antiflood_off_counts_nothing_and_forgets_the_chat():
    tracker = FloodTracker()
    feed(tracker, flood_settings(limit=5), [ALICE, ALICE])
    assert tracker.size() == (1, 0)
    assert feed(tracker, flood_settings(limit=0, version=2), [ALICE] * 50) == []
    assert tracker.size() == (0, 0)


def test_changed_flood_settings_start_the_count_over_and_other_changes_do_not():
    tracker = FloodTracker()
    assert feed(tracker, flood_settings(limit=3, version=1), [ALICE, ALICE]) == []
    # Another setting changed (a new version, the same flood settings): the count goes on.
    assert len(feed(tracker, flood_settings(limit=3, version=2), [ALICE], start_id=3)) == 1
    tracker = FloodTracker()
    assert feed(tracker, flood_settings(limit=3, version=1), [ALICE, ALICE]) == []
    # The limit changed: its count starts from its first message, the two old ones do not carry over.
    assert feed(tracker, flood_settings(limit=4, version=2), [ALICE, ALICE, ALICE], start_id=3) == []
    assert len(feed(tracker, flood_settings(limit=4, version=2), [ALICE], start_id=6)) == 1


def test_the_flood_carries_the_groups_action_settings():
    tracker = FloodTracker()
    settings = flood_settings(limit=2, window=10, action="tban", duration=3600, delete=True)
    [(_, flood)] = feed(tracker, settings, [ALICE, ALICE])
    assert (flood.action, flood.duration_seconds, flood.delete_messages, flood.deletes) == ("tban", 3600, True, True)
    assert flood_settings(action="delete").flood_action == "delete"


@pytest.mark.parametrize("window", [None, 30])
def test_memory_stays_bounded_over_many_members_and_chats(window):
    tracker = FloodTracker()
    settings = flood_settings(limit=5, window=window)
    date = 0.0
    for user in range(50_000):  # a member a second, one message each, in one chat
        date += 1
        tracker.observe(settings, CHAT, 10_000 + user, user, date)
    chats, members = tracker.size()
    assert members <= 512  # idle members (nothing in the window) are swept as the dict grows
    for chat in range(20_000):  # then many chats, one message each, a second apart
        date += 1
        tracker.observe(settings, -1000 - chat, ALICE, 1, date)
    chats, members = tracker.size()
    assert chats <= 2 * 600 + 256  # chats idle for IDLE_CHAT_SECONDS are swept
