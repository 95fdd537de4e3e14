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


def _member_update(old_status, new_status, *, is_bot=False, is_member=None):
    """A chat_member update as python-telegram-bot hands it over (only the fields the join check reads)."""
    from types import SimpleNamespace

    from telegram import Chat, Update, User

    user = User(7, "Raider", is_bot=is_bot)

    def member(status):
        return SimpleNamespace(status=status, user=user, is_member=is_member)

    change = SimpleNamespace(chat=Chat(-100, Chat.SUPERGROUP), old_chat_member=member(old_status),
                             new_chat_member=member(new_status))
    return Update(1, chat_member=change)


def test_joins_are_read_from_member_updates_and_service_messages():
    from datetime import UTC, datetime

    from telegram import Chat, Message, Update, User

    from apps.botgateway.protection.antiraid import _joiners

    chat, users = _joiners(_member_update("left", "member"))
    assert chat.id == -100 and [user.id for user in users] == [7]
    assert _joiners(_member_update("left", "restricted", is_member=True))[1][0].id == 7  # joined, restricted
    assert _joiners(_member_update("left", "restricted", is_member=False))[1] == []  # restricted while out
    assert _joiners(_member_update("member", "administrator"))[1] == []  # a promotion, not a join
    assert _joiners(_member_update("member", "left"))[1] == []
    assert _joiners(_member_update("left", "member", is_bot=True))[1] == []
    group = Chat(-100, Chat.SUPERGROUP)
    service = Message(5, datetime.now(UTC), group, new_chat_members=[User(8, "A", False), User(9, "B", True)])
    assert [user.id for user in _joiners(Update(2, message=service))[1]] == [8]
    assert _joiners(Update(3, message=Message(6, datetime.now(UTC), group, text="hi")))[1] == []
