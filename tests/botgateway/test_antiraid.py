"""The join rate tracker: the K-th join within W seconds in a chat is a raid (told once, then the count starts over);
slower joins never are; chats do not mix; memory stays bounded."""

from apps.botgateway.protection.antiraid import JoinRateTracker


class Clock:
    def __init__(self):
        self.now = 5000.0

    def __call__(self):
        return self.now


def joins(tracker, clock, chat, count, *, step, limit=5, window=10):
    told = []
    for number in range(count):
        if tracker.note(chat, limit, window):
            told.append(number)
        clock.now += step
    return told


def test_the_kth_join_within_the_window_is_a_raid_until_the_count_is_reset():
    clock = Clock()
    tracker = JoinRateTracker(clock=clock)
    # Until raid mode is on (reset), each further join within the window says raid again: a failed switch is
    # asked again at the next join.
    assert joins(tracker, clock, -1, 7, step=1) == [4, 5, 6]
    tracker.reset(-1)
    assert joins(tracker, clock, -1, 5, step=1) == [4]


def test_slower_joins_are_no_raid():
    clock = Clock()
    tracker = JoinRateTracker(clock=clock)
    # 5 joins span 4 * 2.5 = 10 s: not within 10 s.
    assert joins(tracker, clock, -1, 100, step=2.5) == []
    assert joins(tracker, clock, -2, 5, step=2.4) == [4]


def test_chats_are_counted_apart():
    clock = Clock()
    tracker = JoinRateTracker(clock=clock)
    for _ in range(4):
        assert not tracker.note(-1, 5, 10)
        assert not tracker.note(-2, 5, 10)
    assert tracker.note(-2, 5, 10)
    tracker.reset(-2)
    assert tracker.note(-1, 5, 10)
    assert not tracker.note(-2, 5, 10)


def test_a_new_limit_keeps_the_recent_joins():
    clock = Clock()
    tracker = JoinRateTracker(clock=clock)
    for _ in range(3):
        assert not tracker.note(-1, 10, 60)
    assert tracker.note(-1, 4, 60)  # the limit lowered to 4: the fourth join within the minute


def test_memory_stays_bounded_over_many_chats():
    clock = Clock()
    tracker = JoinRateTracker(clock=clock)
    for chat in range(20_000):
        tracker.note(-chat - 1, 10, 60)
        clock.now += 1
    assert tracker.tracked_chats() <= 2 * 3600 + 256
