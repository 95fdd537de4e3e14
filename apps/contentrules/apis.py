"""A group's content rules over HTTP: locks, blocklist, filters, notes. Thin views: parse -> service -> shape.

Every write takes the optional actor (actor_user_id | actor_telegram_user_id: core checks MANAGE_SETTINGS for them
in the group, 403 naming it) or an acting user whose permission the header had checked, and an optional
expected_version (409 conflict when the settings moved on). Reads need VIEW_GROUPS of an acting user.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common import shapes
from apps.common.contentrules import LOCK_DESCRIPTIONS, LOCK_TYPES
from apps.common.fields import (
    NO_WHITESPACE,
    NON_BLANK,
    ObjectIdField,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
    TelegramIdField,
)
from apps.common.headers import ACTING_USER_HEADER
from apps.common.parsing import parse_body
from apps.common.schema import RequiredBodySchema, at_most_one_of, envelope, error_responses, implies
from apps.groups.models import MAX_RESTRICTION_SECONDS, MIN_RESTRICTION_SECONDS
from apps.groups.selectors import group_get
from apps.users.selectors import actor_get

from . import models as m
from . import selectors, services

_ACTING_META_KEY = "HTTP_" + ACTING_USER_HEADER.upper().replace("-", "_")
ACTOR_FIELDS = ("actor_user_id", "actor_telegram_user_id")
NOTE_NAME_PATTERN = r"^#?[A-Za-z0-9_-]{1,64}$"
NOTE_PATH_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_BUTTON_URL = f"^{services.BUTTON_URL.pattern}$"
_MEDIA_GIVEN = {"required": ["media_type"], "properties": {"media_type": {"type": "string"}}}
_FILE_GIVEN = {"required": ["media_file_id"], "properties": {"media_file_id": {"minLength": 1}}}
# A reply is some text or a media (its type and file id together).
REPLY_RULES = (
    implies(_MEDIA_GIVEN, _FILE_GIVEN),
    implies(_FILE_GIVEN, _MEDIA_GIVEN),
    {"anyOf": [{"required": ["text"], "properties": {"text": {"pattern": NON_BLANK}}}, _MEDIA_GIVEN]},
)


class OptionalActorSerializer(serializers.Serializer):
    """A write's optional actor, named by core id or Telegram id (not both): core checks their permission."""

    actor_user_id = ObjectIdField(required=False)
    actor_telegram_user_id = TelegramIdField(required=False)

    schema_rules = (at_most_one_of(*ACTOR_FIELDS),)

    def validate(self, attrs):
        if all(name in attrs for name in ACTOR_FIELDS):
            raise serializers.ValidationError("Give actor_user_id or actor_telegram_user_id, not both.")
        return attrs


class WriteSerializer(OptionalActorSerializer):
    expected_version = StrictIntegerField(min_value=1, required=False,
                                          help_text="The version the edit is based on: another one is 409 conflict")


def write_actor(request, group, data: dict):
    """The actor of a write: named in the body (core checks MANAGE_SETTINGS for them), or the acting user whose
    permission the header already had checked, or none (the calling service itself). Takes the actor fields out
    of `data`."""
    actor_ids = {name: data.pop(name) for name in ACTOR_FIELDS if name in data}
    if actor_ids:
        return services.settings_actor_authorize(group=group, **actor_ids)
    acting = request.META.get(_ACTING_META_KEY)
    return actor_get(actor_user_id=acting) if acting else None


def _write(serializer_class, request, group_id):
    group = group_get(group_id=group_id)
    data = dict(parse_body(serializer_class, request))
    expected_version = data.pop("expected_version", None)
    actor = write_actor(request, group, data)
    return group, data, {"actor": actor, "expected_version": expected_version}


_TIMED = sorted(m.TIMED_MODES)
_UNTIMED = [mode for mode in services.MODES if mode not in m.TIMED_MODES]
_DURATION_GIVEN = {"required": ["duration_seconds"], "properties": {"duration_seconds": {"type": "integer"}}}
# tmute and tban need a duration; no other mode (nor none: the default) takes one.
TIMED_MODE_RULES = (
    implies({"required": ["mode"], "properties": {"mode": {"enum": _TIMED}}}, _DURATION_GIVEN),
    implies(_DURATION_GIVEN, {"required": ["mode"], "properties": {"mode": {"type": "string"}},
                              "not": {"properties": {"mode": {"enum": _UNTIMED}}}}),
)


def _mode_field(**kwargs):
    return serializers.ChoiceField(choices=m.MODE_CHOICES, **kwargs)


def _duration_field(**kwargs):
    return StrictIntegerField(min_value=MIN_RESTRICTION_SECONDS, max_value=MAX_RESTRICTION_SECONDS,
                              allow_null=True, required=False, help_text="Required for tmute and tban, else none",
                              **kwargs)


def _reason_field():
    return StrictCharField(max_length=m.MAX_REASON, required=False, allow_blank=True)


# -- locks

def _lock_schema(description: str) -> dict:
    return {
        "type": "object", "nullable": True, "description": description, "additionalProperties": False,
        "properties": {
            "mode": {"type": "string", "enum": list(services.MODES),
                     "description": "Default delete; every mode also deletes the message"},
            "duration_seconds": {"type": "integer", "nullable": True, "minimum": MIN_RESTRICTION_SECONDS,
                                 "maximum": MAX_RESTRICTION_SECONDS, "description": "For tmute and tban"},
            "reason": {"type": "string", "maxLength": m.MAX_REASON},
        },
        "allOf": list(TIMED_MODE_RULES),
    }


@extend_schema_field({
    "type": "object",
    "properties": {name: _lock_schema(LOCK_DESCRIPTIONS.get(name, "")) for name in LOCK_TYPES},
    "additionalProperties": False,
})
class LockChangesField(serializers.DictField):
    """{lock type: how, or null to unlock}; the values are checked by the service, which names the type."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.JSONField(allow_null=True), **kwargs)


class LocksPatchSerializer(WriteSerializer):
    locks = LockChangesField(help_text="Lock types to lock ({mode, duration_seconds, reason}) or unlock (null); "
                                       "aliases such as stickers or invite are accepted")

    # A PATCH's schema has every field optional; this one's changes are not.
    schema_rules = (*WriteSerializer.schema_rules, {"required": ["locks"]})


class LocksOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    locks = serializers.DictField(child=shapes.LockSerializer(), help_text="Locked content types -> how")


class GroupLocksApi(APIView):
    schema = RequiredBodySchema()
    acting_user_permissions = {"GET": "VIEW_GROUPS", "PATCH": "MANAGE_SETTINGS"}
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="locks_retrieve", responses={200: envelope(LocksOutputSerializer),
                                                             **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        return Response({"version": group.settings_version, "locks": selectors.lock_map(group=group)})

    @extend_schema(operation_id="locks_update", request=LocksPatchSerializer,
                   responses={200: envelope(LocksOutputSerializer), **error_responses(403, 404, 409)})
    def patch(self, request, group_id):
        group, data, write = _write(LocksPatchSerializer, request, group_id)
        version, locks = services.locks_update(group=group, locks=data["locks"], **write)
        return Response({"version": version, "locks": locks})


# -- blocklist

class BlocklistEntryInputSerializer(serializers.Serializer):
    pattern = StrictRegexField(NON_BLANK, max_length=m.MAX_PATTERN,
                               help_text="Literal text; * is any run of characters within a word; at most 4 *")
    mode = _mode_field(required=False, allow_null=True, help_text="null or left out: the group's blocklist_action")
    duration_seconds = _duration_field()
    reason = _reason_field()

    schema_rules = TIMED_MODE_RULES


class BlocklistAddSerializer(WriteSerializer):
    entries = BlocklistEntryInputSerializer(many=True, min_length=1, max_length=m.MAX_BLOCKLIST_ENTRIES)


class BlocklistRemoveSerializer(WriteSerializer):
    patterns = serializers.ListField(
        child=StrictRegexField(NON_BLANK, max_length=m.MAX_PATTERN),
        min_length=1, max_length=m.MAX_BLOCKLIST_ENTRIES, help_text="Compared normalized; unknown ones are skipped")


class BlocklistOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    items = shapes.BlocklistEntrySerializer(many=True)


class BlocklistAddedSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    added = serializers.IntegerField()
    updated = serializers.IntegerField()


class RemovedSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    removed = serializers.IntegerField()


class GroupBlocklistApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS", "POST": "MANAGE_SETTINGS"}
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="blocklist_retrieve", responses={200: envelope(BlocklistOutputSerializer),
                                                                 **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        return Response({"version": group.settings_version, "items": selectors.blocklist_items(group=group)})

    @extend_schema(operation_id="blocklist_add", request=BlocklistAddSerializer,
                   responses={200: envelope(BlocklistAddedSerializer), **error_responses(403, 404, 409)})
    def post(self, request, group_id):
        group, data, write = _write(BlocklistAddSerializer, request, group_id)
        return Response(services.blocklist_add(group=group, entries=data["entries"], **write))


def removal_api(operation_id: str, serializer_class, service: str, field: str | None = None):
    """A POST that removes some of a group's entries (the `field` list of the body) or, without a field, all of
    them: core's `services.<service>` does it and answers {"version", "removed"}."""

    class RemovalApi(APIView):
        acting_user_permissions = {"POST": "MANAGE_SETTINGS"}
        acting_user_group_kwarg = "group_id"

        @extend_schema(operation_id=operation_id, request=serializer_class,
                       responses={200: envelope(RemovedSerializer), **error_responses(403, 404, 409)})
        def post(self, request, group_id):
            group, data, write = _write(serializer_class, request, group_id)
            values = {field: data[field]} if field else {}
            return Response(getattr(services, service)(group=group, **values, **write))

    return RemovalApi


BlocklistRemoveApi = removal_api("blocklist_remove", BlocklistRemoveSerializer, "blocklist_remove", "patterns")
BlocklistClearApi = removal_api("blocklist_clear", WriteSerializer, "blocklist_clear")


# -- replies: filters and notes

class ButtonInputSerializer(serializers.Serializer):
    text = StrictRegexField(NON_BLANK, max_length=services.MAX_BUTTON_TEXT)
    url = StrictRegexField(_BUTTON_URL, max_length=services.MAX_BUTTON_URL, help_text="http(s):// or tg://")


class ReplyInputSerializer(WriteSerializer):
    text = StrictCharField(max_length=m.MAX_TEXT, required=False, allow_blank=True, trim_whitespace=False,
                           help_text="Telegram HTML; some text or a media is required")
    media_type = serializers.ChoiceField(choices=services.MEDIA_TYPES, required=False, allow_null=True)
    media_file_id = StrictRegexField(f"^{NO_WHITESPACE}*$", max_length=m.MAX_FILE_ID, required=False,
                                     allow_blank=True, help_text="With media_type: a Telegram file id")
    buttons = serializers.ListField(child=serializers.ListField(child=ButtonInputSerializer()), required=False,
                                    help_text=f"Rows of URL buttons, at most {services.MAX_BUTTONS} in all")

    schema_rules = (*OptionalActorSerializer.schema_rules, *REPLY_RULES)


class FilterInputSerializer(ReplyInputSerializer):
    trigger = StrictRegexField(NON_BLANK, max_length=m.MAX_TRIGGER,
                               help_text="A word or phrase (without prefix: or exact:)")
    match = serializers.ChoiceField(choices=services.MATCHES, required=False, default="word")


class FilterOutputSerializer(shapes.ChatFilterSerializer):
    version = serializers.IntegerField()


class FiltersOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    items = shapes.ChatFilterSerializer(many=True)


class FiltersRemoveSerializer(WriteSerializer):
    triggers = serializers.ListField(
        child=StrictRegexField(NON_BLANK, max_length=m.MAX_TRIGGER + len("prefix:")),
        min_length=1, max_length=m.MAX_FILTERS,
        help_text='"prefix:x" or "exact:x" stop that filter only; a bare trigger stops every filter of it')


def _reply(data: dict) -> dict:
    return {name: data[name] for name in ("text", "media_type", "media_file_id", "buttons") if name in data}


class GroupFiltersApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS", "POST": "MANAGE_SETTINGS"}
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="filters_list", responses={200: envelope(FiltersOutputSerializer),
                                                           **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        return Response({"version": group.settings_version, "items": selectors.filter_items(group=group)})

    @extend_schema(operation_id="filters_save", request=FilterInputSerializer,
                   responses={200: envelope(FilterOutputSerializer), **error_responses(403, 404, 409)})
    def post(self, request, group_id):
        group, data, write = _write(FilterInputSerializer, request, group_id)
        version, item = services.filter_save(group=group, trigger=data["trigger"], match=data["match"],
                                             **_reply(data), **write)
        return Response({**item, "version": version})


FiltersRemoveApi = removal_api("filters_remove", FiltersRemoveSerializer, "filters_remove", "triggers")
FiltersClearApi = removal_api("filters_clear", WriteSerializer, "filters_clear")


class NoteInputSerializer(ReplyInputSerializer):
    name = StrictRegexField(NOTE_NAME_PATTERN, max_length=65,
                            help_text="Letters, digits, _ and - (kept lowercase, without the #)")


class NoteOutputSerializer(shapes.NoteSerializer):
    version = serializers.IntegerField()


class NotesOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    items = shapes.NoteSerializer(many=True)


class NotesRemoveSerializer(WriteSerializer):
    names = serializers.ListField(child=StrictRegexField(NOTE_NAME_PATTERN, max_length=65),
                                  min_length=1, max_length=m.MAX_NOTES)


class GroupNotesApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS", "POST": "MANAGE_SETTINGS"}
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="notes_list", responses={200: envelope(NotesOutputSerializer),
                                                         **error_responses(404)})
    def get(self, request, group_id):
        group = group_get(group_id=group_id)
        return Response(NotesOutputSerializer({"version": group.settings_version,
                                               "items": selectors.note_items(group=group)}).data)

    @extend_schema(operation_id="notes_save", request=NoteInputSerializer,
                   responses={200: envelope(NoteOutputSerializer), **error_responses(403, 404, 409)})
    def post(self, request, group_id):
        group, data, write = _write(NoteInputSerializer, request, group_id)
        version, item = services.note_save(group=group, name=data["name"], **_reply(data), **write)
        return Response(NoteOutputSerializer({**item, "version": version}).data)


class GroupNoteApi(APIView):
    acting_user_permissions = {"GET": "VIEW_GROUPS"}
    acting_user_group_kwarg = "group_id"

    @extend_schema(operation_id="notes_retrieve",
                   parameters=[OpenApiParameter("note_name", str, OpenApiParameter.PATH, pattern=NOTE_PATH_PATTERN)],
                   responses={200: envelope(shapes.NoteSerializer), **error_responses(404)})
    def get(self, request, group_id, note_name):
        group = group_get(group_id=group_id)
        note = selectors.note_get(group=group, name=note_name)
        return Response(shapes.NoteSerializer(selectors.note_view(note)).data)


NotesRemoveApi = removal_api("notes_remove", NotesRemoveSerializer, "notes_remove", "names")
NotesClearApi = removal_api("notes_clear", WriteSerializer, "notes_clear")
