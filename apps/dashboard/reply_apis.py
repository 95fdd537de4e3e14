"""Web's REST API for a group's filters and notes, the saved replies among its content rules (the others are in
content_apis.py): thin views over apps.dashboard.content, which relays core as the token user (MANAGE_SETTINGS
checked by core)."""

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.common import shapes
from apps.common.fields import BUTTON_URL, NO_WHITESPACE, NON_BLANK, StrictCharField, StrictRegexField
from apps.common.parsing import parse_body
from apps.common.schema import envelope

from . import content, schema
from .content_apis import (
    MATCHES,
    MAX_FILE_ID,
    MAX_PATTERN,
    MAX_TEXT,
    MEDIA_TYPES,
    NOTE_NAME,
    READ_RULES,
    REPLY_RULES,
    WRITE_RULES,
    ClearSerializer,
    GroupApi,
    _version,
    removal_api,
)

# -- filters and notes


class ButtonInputSerializer(serializers.Serializer):
    text = StrictRegexField(NON_BLANK, max_length=128)
    url = StrictRegexField(f"^{BUTTON_URL}$", max_length=2048, help_text="http(s):// or tg://")


def _buttons():
    return serializers.ListField(child=serializers.ListField(child=ButtonInputSerializer(), min_length=1,
                                                             max_length=8),
                                 required=False, allow_null=True, max_length=12,
                                 help_text="Rows of URL buttons. Omitted or null: taken out of the text, where they "
                                           "are typed as Rose's [label](buttonurl://https://...) (:same for the "
                                           "same row)")


def _media_fields() -> dict:
    return {
        "media_type": serializers.ChoiceField(choices=MEDIA_TYPES, required=False, allow_null=True,
                                              help_text="Sent by file id, with the text as its caption"),
        "media_file_id": StrictRegexField(f"^{NO_WHITESPACE}*$", required=False, allow_blank=True,
                                          max_length=MAX_FILE_ID,
                                         help_text="A Telegram file id (the bot's), with media_type"),
    }


class FiltersSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    items = shapes.ChatFilterSerializer(many=True)


class SavedFilterSerializer(shapes.ChatFilterSerializer):
    version = serializers.IntegerField()


FilterSaveSerializer = type("FilterSaveSerializer", (serializers.Serializer,), {
    "trigger": StrictRegexField(NON_BLANK, max_length=MAX_PATTERN,
                                help_text="A word or phrase, without prefix: or exact:"),
    "match": serializers.ChoiceField(choices=MATCHES, required=False, default="word",
                                     help_text="word: the trigger as a word or phrase in the message; prefix: the "
                                               "message starts with it; exact: the message is it"),
    "text": StrictCharField(required=False, allow_blank=True, default="", max_length=MAX_TEXT, trim_whitespace=False,
                            help_text="The reply: Telegram HTML and {placeholders} as in the welcome"),
    **_media_fields(),
    "buttons": _buttons(),
    "expected_version": _version(),
    "schema_rules": REPLY_RULES,
})


class FiltersRemoveSerializer(serializers.Serializer):
    triggers = serializers.ListField(child=StrictRegexField(NON_BLANK, max_length=MAX_PATTERN + len("prefix:")),
                                     min_length=1, max_length=300,
                                     help_text='"prefix:x" or "exact:x" stop that filter only; a bare trigger stops '
                                               'every filter of it')
    expected_version = _version()


class GroupFiltersApi(GroupApi):
    @extend_schema(operation_id="groups_filters_retrieve", description=READ_RULES,
                   responses={200: envelope(FiltersSerializer), **schema.web_errors(404)})
    def get(self, request, group_id):
        return Response(content.filters_get(request.user, group_id))

    @extend_schema(operation_id="groups_filters_save", request=FilterSaveSerializer,
                   description="Adds a filter, or replaces the one with the same trigger and match. At most 300 a "
                               "group. " + WRITE_RULES.format(audit="protection.filter"),
                   responses={200: envelope(SavedFilterSerializer), **schema.web_errors(404, 409)})
    def post(self, request, group_id):
        data = dict(parse_body(FilterSaveSerializer, request))
        return Response(content.filter_save(request.user, group_id, **data))


GroupFiltersRemoveApi = removal_api(
    "groups_filters_remove", FiltersRemoveSerializer, "filters_remove",
    "Removes the filters with these triggers. " + WRITE_RULES.format(audit="protection.filter"), "triggers")
GroupFiltersClearApi = removal_api("groups_filters_clear", ClearSerializer, "filters_clear",
                                   "Removes every filter. " + WRITE_RULES.format(audit="protection.filter"))


class NotesSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    items = shapes.NoteSerializer(many=True)


class SavedNoteSerializer(shapes.NoteSerializer):
    version = serializers.IntegerField()


NoteSaveSerializer = type("NoteSaveSerializer", (serializers.Serializer,), {
    "name": serializers.RegexField(NOTE_NAME, max_length=64, help_text="Letters, digits, _ and - (stored lowercase): "
                                                                       "#name and /get name in the group"),
    "text": StrictCharField(required=False, allow_blank=True, default="", max_length=MAX_TEXT, trim_whitespace=False,
                            help_text="Telegram HTML and {placeholders} as in the welcome"),
    **_media_fields(),
    "buttons": _buttons(),
    "expected_version": _version(),
    "schema_rules": REPLY_RULES,
})


class NotesRemoveSerializer(serializers.Serializer):
    names = serializers.ListField(child=serializers.RegexField(NOTE_NAME, max_length=64), min_length=1,
                                  max_length=500)
    expected_version = _version()


class GroupNotesApi(GroupApi):
    @extend_schema(operation_id="groups_notes_retrieve", description=READ_RULES,
                   responses={200: envelope(NotesSerializer), **schema.web_errors(404)})
    def get(self, request, group_id):
        return Response(content.notes_get(request.user, group_id))

    @extend_schema(operation_id="groups_notes_save", request=NoteSaveSerializer,
                   description="Adds a note, or replaces the one with this name. At most 500 a group. "
                               + WRITE_RULES.format(audit="protection.note"),
                   responses={200: envelope(SavedNoteSerializer), **schema.web_errors(404, 409)})
    def post(self, request, group_id):
        data = dict(parse_body(NoteSaveSerializer, request))
        return Response(content.note_save(request.user, group_id, **data))


class GroupNoteDetailApi(GroupApi):
    @extend_schema(operation_id="groups_notes_get", description=READ_RULES,
                   parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, pattern=NOTE_NAME)],
                   responses={200: envelope(shapes.NoteSerializer), **schema.web_errors(404)})
    def get(self, request, group_id, name):
        if not re.match(NOTE_NAME, name):
            raise serializers.ValidationError({"name": ["A note's name is 1 to 64 letters, digits, _ or -."]})
        return Response(content.note_get(request.user, group_id, name.lower()))


GroupNotesRemoveApi = removal_api(
    "groups_notes_remove", NotesRemoveSerializer, "notes_remove",
    "Removes the notes with these names. " + WRITE_RULES.format(audit="protection.note"), "names", each=str.lower)
GroupNotesClearApi = removal_api("groups_notes_clear", ClearSerializer, "notes_clear",
                                 "Removes every note. " + WRITE_RULES.format(audit="protection.note"))
