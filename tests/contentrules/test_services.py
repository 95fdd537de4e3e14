"""apps.contentrules.services directly: one transaction per write (the rows, the version, the audit row together),
upserts by the normalized form, the settings view the bot caches."""

import pytest

from apps.audit.models import AuditEvent
from apps.common.errors import ValidationFailed
from apps.contentrules import services, signals
from apps.contentrules.models import BlocklistEntry, ChatFilter, Lock, Note
from apps.groups.models import Group
from apps.protection.selectors import protection_view
from tests.factories import make_group, make_user


@pytest.fixture
def group(db):
    return make_group()


def version(group) -> int:
    return Group.objects.get(pk=group.pk).settings_version


@pytest.mark.parametrize("write", [
    lambda g: services.locks_update(group=g, locks={"photo": {"mode": "delete"}}),
    lambda g: services.blocklist_add(group=g, entries=[{"pattern": "spam"}]),
    lambda g: services.filter_save(group=g, trigger="hi", text="Hello"),
    lambda g: services.note_save(group=g, name="rules", text="Be kind"),
])
def test_a_write_whose_audit_fails_leaves_nothing_behind(group, monkeypatch, write):
    """The rows, the version bump and the audit row are one transaction: no audit row, no change."""
    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_change", broken)
    with pytest.raises(RuntimeError):
        write(group)
    assert version(group) == 1
    assert not any(model.objects.exists() for model in (Lock, BlocklistEntry, ChatFilter, Note))


def test_each_write_is_one_version_and_one_audit_row_with_its_actor(group):
    actor = make_user()
    services.locks_update(group=group, locks={"photo": {"mode": "delete"}, "video": {"mode": "mute"}}, actor=actor)
    services.blocklist_add(group=group, entries=[{"pattern": f"w{n}"} for n in range(30)], actor=actor)
    services.filter_save(group=group, trigger="hi", text="Hello", actor=actor)
    services.note_save(group=group, name="rules", text="Be kind", actor=actor)
    assert version(group) == 5
    events = list(AuditEvent.objects.filter(action__startswith="protection.").order_by("sequence"))
    assert [event.action for event in events] == ["protection.lock", "protection.blocklist", "protection.filter",
                                                   "protection.note"]
    assert {event.actor_user_id for event in events} == {str(actor.pk)}
    assert [event.details["version"] for event in events] == [2, 3, 4, 5]
    assert len(events[1].details["patterns"]) == services.AUDIT_PATTERNS  # 30 added, 20 named


def test_a_pattern_given_twice_in_one_call_is_one_entry_the_last_one(group):
    result = services.blocklist_add(group=group, entries=[{"pattern": "Spam", "mode": "warn"},
                                                          {"pattern": "SPAM ", "mode": "ban"}])
    assert (result["added"], result["updated"]) == (1, 0)
    entry = BlocklistEntry.objects.get()
    assert (entry.pattern, entry.mode, entry.normalized) == ("SPAM", "ban", "spam")


def test_accents_and_lookalikes_fold_into_one_trigger(group):
    services.filter_save(group=group, trigger="Café", text="one")
    _, item = services.filter_save(group=group, trigger="CAFE", text="two")
    assert ChatFilter.objects.count() == 1 and item["text"] == "two" and item["trigger"] == "CAFE"


def test_the_settings_view_carries_the_rules_in_their_wire_shape(group):
    services.locks_update(group=group, locks={"forwards": {"mode": "tban", "duration_seconds": 86400}})
    services.blocklist_add(group=group, entries=[{"pattern": "buy*now"}])
    services.filter_save(group=group, trigger="hello", match="exact", media_type="sticker", media_file_id="CAAC")
    services.note_save(group=group, name="b", text="x")
    services.note_save(group=group, name="a", text="x")
    view = protection_view(group=Group.objects.get(pk=group.pk))
    assert view["version"] == 6
    assert view["locks"] == {"forward": {"mode": "tban", "duration_seconds": 86400, "reason": ""}}
    assert [(item["pattern"], item["mode"]) for item in view["blocklist"]] == [("buy*now", None)]
    assert [(item["trigger"], item["match"], item["media_type"], item["text"]) for item in view["filters"]] == [
        ("hello", "exact", "sticker", "")]
    assert view["notes"] == ["a", "b"]
    assert (view["blocklist_action"], view["lock_warns"], view["disabled_commands"]) == ("delete", True, [])


@pytest.mark.parametrize("call, field", [
    (lambda g: services.blocklist_add(group=g, entries=[]), "entries"),
    (lambda g: services.blocklist_remove(group=g, patterns=[]), "patterns"),
    (lambda g: services.filters_remove(group=g, triggers=["hi", " "]), "triggers[1]"),
    (lambda g: services.notes_remove(group=g, names=["a b"]), "names[0]"),
    (lambda g: services.note_save(group=g, name="clear", text="x"), "name"),
    (lambda g: services.filter_save(group=g, trigger="hi", text="x", buttons=[[{"text": "a", "url": "http://"}]]),
     "buttons[0][0].url"),
])
def test_service_refusals_name_the_field(group, call, field):
    with pytest.raises(ValidationFailed) as refused:
        call(group)
    assert field in refused.value.details
    assert version(group) == 1


def test_rules_changed_goes_out_after_commit_once_per_change(group, django_capture_on_commit_callbacks):
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    signals.rules_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.blocklist_add(group=group, entries=[{"pattern": "spam"}])
            services.blocklist_add(group=group, entries=[{"pattern": "spam"}])  # nothing changed: nothing sent
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed):
            services.blocklist_add(group=group, entries=[{"pattern": "*"}])
    finally:
        signals.rules_changed.disconnect(receiver)
    assert [(event["action"], event["details"]["added"], event["group"].pk) for event in received] == [
        ("protection.blocklist", 1, group.pk)]
