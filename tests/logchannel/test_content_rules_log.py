"""Content-rule changes (locks, blocklist, filters, notes) reach the group's log chat as the settings changes do:
who, what changed, once committed; a write that changes nothing, or one rolled back, tells nothing."""

import pytest

from apps.groups.models import Group
from apps.logchannel.models import LogEntry
from tests.factories import grant, make_group, make_member, make_user

LOG_CHAT = -1009999000002


@pytest.fixture
def scene(db):
    group = make_group(title="Cats & Dogs")
    Group.objects.filter(pk=group.pk).update(log_chat_id=LOG_CHAT)
    group.refresh_from_db()
    admin = make_user(display_name="Ann <Admin>")
    make_member(admin, group)
    grant(admin, "admin", group)
    return group, admin


def url(group, tail: str) -> str:
    return f"/api/groups/{group.pk}/{tail}"


@pytest.fixture
def write(api, scene, django_capture_on_commit_callbacks):
    """A write through core's endpoint by the admin, its after-commit listeners run; answers the new log texts."""
    group, admin = scene

    def call(tail: str, body: dict, method: str = "post", status: int = 200) -> list[str]:
        before = set(LogEntry.objects.values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(api, method)(url(group, tail), {**body, "actor_user_id": str(admin.pk)})
        assert response.status_code == status, response.content
        entries = LogEntry.objects.exclude(pk__in=before).order_by("created_at", "id")
        assert all((entry.kind, entry.log_chat_id) == ("settings", LOG_CHAT) for entry in entries)
        return [entry.text for entry in entries]

    return call


def by(admin) -> str:
    return (f'<b>By:</b> <a href="tg://user?id={admin.telegram_user_id}">Ann &lt;Admin&gt;</a> '
            f"[<code>{admin.telegram_user_id}</code>]")


def test_locking_is_logged_with_who_which_types_and_how(write, scene):
    group, admin = scene
    [text] = write("locks", {"locks": {"stickers": {"mode": "ban"}, "url": {
        "mode": "tmute", "duration_seconds": 3600, "reason": "no <links>"}}}, method="patch")
    assert text.splitlines() == [
        f"<b>Cats &amp; Dogs</b> [<code>{group.telegram_chat_id}</code>]",
        "#LOCKED",
        by(admin),
        "• <code>sticker</code> (ban)",
        "• <code>url</code> (tmute 1h): no &lt;links&gt;",
    ]
    [text] = write("locks", {"locks": {"sticker": None, "gif": None}}, method="patch")
    assert text.splitlines()[1:] == ["#UNLOCKED", by(admin), "<b>Unlocked:</b> <code>sticker</code>"]
    [text] = write("locks", {"locks": {"url": None, "photo": {"mode": "delete"}}}, method="patch")
    assert text.splitlines()[1:] == ["#LOCKS", by(admin), "• <code>photo</code> (delete)",
                                     "<b>Unlocked:</b> <code>url</code>"]
    assert write("locks", {"locks": {"photo": {"mode": "delete"}, "gif": None}}, method="patch") == []  # no change


def test_blocklist_changes_are_logged_with_counts_and_patterns(write, scene):
    _, admin = scene
    [text] = write("blocklist", {"entries": [{"pattern": "buy*now"}, {"pattern": "<casino>"}, {"pattern": "spam"}]})
    assert text.splitlines()[1:] == [
        "#BLOCKLIST", by(admin), "<b>Added:</b> 3 entries",
        "<b>Patterns:</b> <code>buy*now</code>, <code>&lt;casino&gt;</code>, <code>spam</code>"]
    [text] = write("blocklist", {"entries": [{"pattern": "SPAM", "mode": "ban"}, {"pattern": "eggs"}]})
    assert text.splitlines()[3:] == ["<b>Added:</b> 1 entry", "<b>Changed:</b> 1 entry",
                                     "<b>Patterns:</b> <code>eggs</code>, <code>SPAM</code>"]
    [text] = write("blocklist/remove", {"patterns": ["eggs", "unknown"]})
    assert text.splitlines()[3:] == ["<b>Removed:</b> <code>eggs</code>"]
    assert write("blocklist/remove", {"patterns": ["unknown"]}) == []
    [text] = write("blocklist/clear", {})
    assert text.splitlines()[3:] == ["<b>Cleared:</b> 3 entries"]


def test_a_large_blocklist_import_names_twenty_patterns_and_counts_the_rest(write):
    [text] = write("blocklist", {"entries": [{"pattern": f"word{index}"} for index in range(45)]})
    assert "<b>Added:</b> 45 entries" in text
    patterns = text.splitlines()[-1]
    assert patterns.count("<code>") == 20 and patterns.endswith("<code>word19</code> and 25 more")


def test_filter_changes_are_logged(write, scene):
    _, admin = scene
    [text] = write("filters", {"trigger": "hi", "text": "Hello!"})
    assert text.splitlines()[1:] == ["#FILTER", by(admin), "<b>Added:</b> <code>hi</code>"]
    [text] = write("filters", {"trigger": "hi", "text": "Hello again"})
    assert text.splitlines()[3:] == ["<b>Changed:</b> <code>hi</code>"]
    assert write("filters", {"trigger": "hi", "text": "Hello again"}) == []
    [text] = write("filters", {"trigger": "/start", "match": "prefix", "text": "No"})
    assert text.splitlines()[3:] == ["<b>Added:</b> <code>prefix:/start</code>"]
    [text] = write("filters/remove", {"triggers": ["hi"]})
    assert text.splitlines()[3:] == ["<b>Stopped:</b> <code>hi</code>"]
    [text] = write("filters/clear", {})
    assert text.splitlines()[3:] == ["<b>Stopped:</b> all 1 filter"]


def test_note_changes_are_logged(write, scene):
    _, admin = scene
    [text] = write("notes", {"name": "#Rules", "text": "Be kind"})
    assert text.splitlines()[1:] == ["#NOTE", by(admin), "<b>Saved:</b> <code>rules</code>"]
    [text] = write("notes", {"name": "rules", "text": "Be kinder"})
    assert text.splitlines()[3:] == ["<b>Changed:</b> <code>rules</code>"]
    write("notes", {"name": "faq", "text": "Read the pins"})
    [text] = write("notes/remove", {"names": ["faq"]})
    assert text.splitlines()[3:] == ["<b>Cleared:</b> <code>faq</code>"]
    [text] = write("notes/clear", {})
    assert text.splitlines()[3:] == ["<b>Cleared:</b> all 1 note"]


def test_nothing_is_logged_without_a_log_chat_or_for_a_refused_write(write, scene):
    group, _ = scene
    write("blocklist", {"entries": [{"pattern": "spam"}], "expected_version": 99}, status=409)
    write("locks", {"locks": {"nonsense": {"mode": "ban"}}}, method="patch", status=400)
    assert LogEntry.objects.count() == 0
    Group.objects.filter(pk=group.pk).update(log_chat_id=None)
    assert write("notes", {"name": "rules", "text": "Be kind"}) == []

