"""Web's content rules endpoints declare what core's enforce on what web relays (web cannot import core's serializers,
so it states their rules again: this holds the two together, as test_protection_schema does for the settings)."""

import pytest
from rest_framework import serializers

from apps.contentrules import apis as core_apis
from apps.contentrules import services as core_services
from apps.dashboard import content_apis as web_apis
from apps.dashboard import reply_apis as web_replies


def _constraints(field) -> dict:
    return {"class": "regex" if isinstance(field, serializers.RegexField) else
            "choice" if isinstance(field, serializers.ChoiceField) else
            "int" if isinstance(field, serializers.IntegerField) else type(field).__name__,
            "pattern": field.validators[-1].regex.pattern if isinstance(field, serializers.RegexField) else None,
            "min": getattr(field, "min_value", None), "max": getattr(field, "max_value", None),
            "max_length": getattr(field, "max_length", None), "allow_null": field.allow_null,
            "choices": list(field.choices) if isinstance(field, serializers.ChoiceField) else None}


def _fields(serializer_class, *names) -> dict:
    fields = serializer_class().fields
    return {name: _constraints(fields[name]) for name in names}


def test_the_text_rules_are_core_s():
    assert web_apis.TIMED_MODE_RULES == core_apis.TIMED_MODE_RULES
    assert web_apis.REPLY_RULES == core_apis.REPLY_RULES
    assert list(core_services.MEDIA_TYPES) == web_apis.MEDIA_TYPES
    assert list(core_services.MATCHES) == web_apis.MATCHES


@pytest.mark.parametrize(("web", "core", "names"), [
    (web_apis.BlocklistNewEntrySerializer, core_apis.BlocklistEntryInputSerializer,
     ("pattern", "mode", "duration_seconds", "reason")),
    (web_replies.ButtonInputSerializer, core_apis.ButtonInputSerializer, ("text", "url")),
    (web_replies.FilterSaveSerializer, core_apis.FilterInputSerializer,
     ("trigger", "match", "text", "media_type", "media_file_id", "expected_version")),
    (web_replies.NoteSaveSerializer, core_apis.NoteInputSerializer, ("text", "media_type", "media_file_id")),
    (web_apis.LockInputSerializer, core_apis.BlocklistEntryInputSerializer, ("duration_seconds", "reason")),
])
def test_web_s_bodies_declare_core_s_fields(web, core, names):
    assert _fields(web, *names) == _fields(core, *names)


def test_web_s_lists_are_within_core_s():
    web_remove = web_apis.BlocklistRemoveSerializer().fields["patterns"]
    core_remove = core_apis.BlocklistRemoveSerializer().fields["patterns"]
    assert (_constraints(web_remove.child), web_remove.max_length) == (_constraints(core_remove.child),
                                                                        core_remove.max_length)
    web_triggers = web_replies.FiltersRemoveSerializer().fields["triggers"]
    core_triggers = core_apis.FiltersRemoveSerializer().fields["triggers"]
    assert _constraints(web_triggers.child) == _constraints(core_triggers.child)
    # At most 12 rows of 8 buttons: within core's 100 buttons, refused by web's own serializer beyond.
    rows = web_replies.FilterSaveSerializer().fields["buttons"]
    assert rows.max_length * rows.child.max_length <= core_services.MAX_BUTTONS
