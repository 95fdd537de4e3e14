"""Web's REST API for a group's content rules (locks, blocklist, filters, notes) and the "test a message" box: thin
views over apps.dashboard.content, which relays core as the token user (MANAGE_SETTINGS checked by core)."""


from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common import shapes
from apps.common.contentrules import LOCK_DESCRIPTIONS, LOCK_TYPES, MODES, TIMED_MODES
from apps.common.envelope import EnvelopeJSONRenderer
from apps.common.fields import (
    NON_BLANK,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
)
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import TEXT_PATTERN, RequiredBodySchema, any_of, at_most_one_of, envelope, implies
from apps.coreclient import ids

from . import blocklist_file, content, schema

MIN_SECONDS, MAX_SECONDS = blocklist_file.MIN_SECONDS, blocklist_file.MAX_SECONDS
MATCHES = ["word", "prefix", "exact"]
MEDIA_TYPES = ["photo", "sticker", "document", "animation", "video", "audio", "voice"]
NOTE_NAME = r"^[A-Za-z0-9_-]{1,64}$"
MAX_TEXT = 4096  # Telegram's longest message
MAX_PATTERN = 100
MAX_REASON = blocklist_file.MAX_REASON
MAX_FILE_ID = 256


# The rules between fields that core's endpoints state (apps/contentrules/apis.py), stated again here: web's schema
# says what core enforces on what web relays.
_TIMED = sorted(TIMED_MODES)
_UNTIMED = [mode for mode in MODES if mode not in TIMED_MODES]
_DURATION_GIVEN = {"required": ["duration_seconds"], "properties": {"duration_seconds": {"type": "integer"}}}
TIMED_MODE_RULES = (  # tmute and tban need a duration; no other mode (nor none: the default) takes one
    implies({"required": ["mode"], "properties": {"mode": {"enum": _TIMED}}}, _DURATION_GIVEN),
    implies(_DURATION_GIVEN, {"required": ["mode"], "properties": {"mode": {"type": "string"}},
                              "not": {"properties": {"mode": {"enum": _UNTIMED}}}}),
)
_MEDIA_GIVEN = {"required": ["media_type"], "properties": {"media_type": {"type": "string"}}}
_FILE_GIVEN = {"required": ["media_file_id"], "properties": {"media_file_id": {"minLength": 1}}}
REPLY_RULES = (  # a reply is some text or a media (its type and file id together)
    implies(_MEDIA_GIVEN, _FILE_GIVEN),
    implies(_FILE_GIVEN, _MEDIA_GIVEN),
    {"anyOf": [{"required": ["text"], "properties": {"text": {"pattern": NON_BLANK}}}, _MEDIA_GIVEN]},
)


def _timed_rule(attrs: dict) -> dict:
    """TIMED_MODE_RULES, enforced (core would refuse the same; the import reads its mode itself)."""
    mode, duration = attrs.get("mode"), attrs.get("duration_seconds")
    if mode in TIMED_MODES and duration is None:
        raise serializers.ValidationError({"duration_seconds": [f"Required when the mode is {mode}."]})
    if duration is not None and mode not in TIMED_MODES:
        raise serializers.ValidationError({"duration_seconds": ["Only with a mode of tmute or tban."]})
    return attrs


def _version(**options) -> StrictIntegerField:
    return StrictIntegerField(required=False, min_value=1, help_text="The version the edit is based on (the "
                              "group's settings version): when someone saved since, nothing is written and the "
                              "answer is 409 conflict", **options)


def _duration() -> StrictIntegerField:
    return StrictIntegerField(required=False, allow_null=True, min_value=MIN_SECONDS, max_value=MAX_SECONDS,
                              help_text="Seconds, for tmute and tban (required for them)")


def _reason() -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, max_length=MAX_REASON, help_text="Told to the member")


WRITE_RULES = ("As the token user: core checks MANAGE_SETTINGS in the group (403 permission_denied naming it), "
               "validates the values (400 validation_error) and refuses a stale expected_version (409 conflict); "
               "nothing is written on any refusal, and the change bumps the group's settings version and is "
               "audited ({audit}).")
READ_RULES = "Needs VIEW_GROUPS in the group (or globally)."


class GroupApi(APIView):
    """An endpoint of one group: its id is checked (400 invalid_id) before the body or anything else is read."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        ids.store_id(kwargs["group_id"], name="group_id")


class RequiredBodyGroupApi(GroupApi):
    """One whose body is required though no one field says so (the locks PATCH needs locks, the test box text or
    message): without a body the answer is 400, as for {}."""

    schema = RequiredBodySchema()


# -- locks


class LockInputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=MODES, help_text="Every mode also deletes the message")
    duration_seconds = _duration()
    reason = _reason()

    schema_rules = TIMED_MODE_RULES

    def validate(self, attrs):
        return _timed_rule(attrs)


def _lock_schema(description: str) -> dict:
    return {
        "type": "object", "nullable": True, "description": description, "additionalProperties": False,
        "required": ["mode"],
        "properties": {
            "mode": {"type": "string", "enum": list(MODES), "description": "Every mode also deletes the message"},
            "duration_seconds": {"type": "integer", "nullable": True, "minimum": MIN_SECONDS,
                                 "maximum": MAX_SECONDS, "description": "For tmute and tban"},
            "reason": {"type": "string", "maxLength": MAX_REASON, "pattern": TEXT_PATTERN,
                       "description": "Told to the member"},  # as _reason() reads it: any text but NUL
        },
        "allOf": list(TIMED_MODE_RULES),
    }


@extend_schema_field({
    "type": "object", "minProperties": 1, "additionalProperties": False,
    "properties": {name: _lock_schema(LOCK_DESCRIPTIONS.get(name, "")) for name in LOCK_TYPES},
})
class LockChangesField(serializers.DictField):
    """{lock type: its lock, or null to unlock it}."""

    def __init__(self, **kwargs):
        super().__init__(child=LockInputSerializer(allow_null=True), allow_empty=False, **kwargs)


class LocksSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    locks = serializers.DictField(child=shapes.LockSerializer(), help_text="Locked types only: type -> its lock")


class LocksPatchSerializer(serializers.Serializer):
    locks = LockChangesField(help_text=f"type -> its lock, or null to unlock it. Types: {', '.join(LOCK_TYPES)}")
    expected_version = _version()

    schema_rules = ({"required": ["locks"]},)  # a PATCH's schema has every field optional; the changes are not

    def validate_locks(self, value):
        unknown = sorted(set(value) - set(LOCK_TYPES))
        if unknown:
            raise serializers.ValidationError(f"Unknown lock type(s): {', '.join(unknown)}. Lock types: "
                                              f"{', '.join(LOCK_TYPES)}.")
        return value


class GroupLocksApi(RequiredBodyGroupApi):
    @extend_schema(operation_id="groups_locks_retrieve", description=READ_RULES,
                   responses={200: envelope(LocksSerializer), **schema.web_errors(404)})
    def get(self, request, group_id):
        return Response(content.locks_get(request.user, group_id))

    @extend_schema(operation_id="groups_locks_update", request=LocksPatchSerializer,
                   description="Locks and unlocks the types given; the others stay. "
                               + WRITE_RULES.format(audit="protection.lock"),
                   responses={200: envelope(LocksSerializer), **schema.web_errors(404, 409)})
    def patch(self, request, group_id):
        data = parse_body(LocksPatchSerializer, request)
        locks = {kind: dict(spec) if spec is not None else None for kind, spec in data["locks"].items()}
        return Response(content.locks_update(request.user, group_id, locks=locks,
                                             expected_version=data.get("expected_version")))


# -- blocklist


class BlocklistSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    items = shapes.BlocklistEntrySerializer(many=True, help_text="Oldest first")


class BlocklistNewEntrySerializer(serializers.Serializer):
    pattern = StrictRegexField(NON_BLANK, max_length=MAX_PATTERN,
                               help_text="At most 4 * and 100 characters; whole-word unless it starts or ends with *")
    mode = serializers.ChoiceField(choices=MODES, required=False, allow_null=True,
                                   help_text="Omitted or null: the group's blocklist_action")
    duration_seconds = _duration()
    reason = _reason()

    schema_rules = TIMED_MODE_RULES

    def validate(self, attrs):
        return _timed_rule(attrs)


class BlocklistAddSerializer(serializers.Serializer):
    entries = BlocklistNewEntrySerializer(many=True, min_length=1, max_length=blocklist_file.MAX_LINES)
    expected_version = _version()


class BlocklistChangedSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    added = serializers.IntegerField()
    updated = serializers.IntegerField()


class BlocklistImportSerializer(serializers.Serializer):
    text = StrictCharField(max_length=600_000, allow_blank=False, trim_whitespace=False,
                           help_text="The file's text: one entry a line, `pattern`, `pattern | mode` or `pattern | "
                                     "mode | reason` (tmute and tban take a length: `tban 2d`; an empty mode is "
                                     "the group's; # starts a comment; \\| and \\\\ in a pattern stand for | and "
                                     "\\). What GET .../blocklist.txt exports.")
    mode = serializers.ChoiceField(choices=MODES, required=False, allow_null=True,
                                   help_text="For the lines without a mode (omitted: the group's)")
    duration_seconds = _duration()
    expected_version = _version()

    schema_rules = TIMED_MODE_RULES

    def validate(self, attrs):
        return _timed_rule(attrs)


class BlocklistImportedSerializer(BlocklistChangedSerializer):
    lines = serializers.IntegerField(help_text="Entries read from the text")


class BlocklistRemoveSerializer(serializers.Serializer):
    patterns = serializers.ListField(child=StrictRegexField(NON_BLANK, max_length=MAX_PATTERN), min_length=1,
                                     max_length=blocklist_file.MAX_LINES,
                                     help_text="As listed (matched by their normalized form)")
    expected_version = _version()


class RemovedSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    removed = serializers.IntegerField()


class ClearSerializer(serializers.Serializer):
    expected_version = _version()


class GroupBlocklistApi(GroupApi):
    @extend_schema(operation_id="groups_blocklist_retrieve", description=READ_RULES,
                   responses={200: envelope(BlocklistSerializer), **schema.web_errors(404)})
    def get(self, request, group_id):
        return Response(content.blocklist_get(request.user, group_id))

    @extend_schema(operation_id="groups_blocklist_add", request=BlocklistAddSerializer,
                   description="Adds the entries, or updates those whose pattern is there already (compared "
                               "normalized: case, accents and look-alike letters folded). At most 5,000 entries a "
                               "group. " + WRITE_RULES.format(audit="protection.blocklist"),
                   responses={200: envelope(BlocklistChangedSerializer), **schema.web_errors(404, 409)})
    def post(self, request, group_id):
        data = parse_body(BlocklistAddSerializer, request)
        entries = [{key: value for key, value in entry.items() if value is not None} for entry in data["entries"]]
        return Response(content.blocklist_add(request.user, group_id, entries=entries,
                                              expected_version=data.get("expected_version")))


def _problems_error(problems: list) -> serializers.ValidationError:
    return serializers.ValidationError({"text": [str(problem) for problem in problems[:50]]})


class GroupBlocklistImportApi(GroupApi):
    @extend_schema(operation_id="groups_blocklist_import", request=BlocklistImportSerializer,
                   description="Adds (or updates) the entries of a blocklist file's text: all of them, or none when a "
                               "line cannot be read (400 validation_error listing the lines). "
                               + WRITE_RULES.format(audit="protection.blocklist"),
                   responses={200: envelope(BlocklistImportedSerializer), **schema.web_errors(404, 409)})
    def post(self, request, group_id):
        data = parse_body(BlocklistImportSerializer, request)
        entries, problems = blocklist_file.parse(data["text"], default_mode=data.get("mode"),
                                                 default_duration=data.get("duration_seconds"))
        if problems:
            raise _problems_error(problems)
        if not entries:
            raise serializers.ValidationError({"text": ["No entry in the text (only blank lines and comments)."]})
        result = content.blocklist_add(request.user, group_id, entries=entries,
                                       expected_version=data.get("expected_version"))
        return Response({**result, "lines": len(entries)})


class TextRenderer(EnvelopeJSONRenderer):
    """Lets clients ask for text/plain; errors are switched back to JSON below."""

    media_type = "text/plain"
    format = "txt"


class GroupBlocklistExportApi(GroupApi):
    renderer_classes = [EnvelopeJSONRenderer, TextRenderer]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = EnvelopeJSONRenderer(), "application/json"
        return response

    @extend_schema(operation_id="groups_blocklist_export", description=READ_RULES + " The blocklist as a text file "
                   "(the format POST .../blocklist/import reads), as an attachment.",
                   responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The file"),
                              **schema.web_errors(404)})
    def get(self, request, group_id):
        if request.query_params.get("format") not in (None, "json", "txt"):  # DRF lets an empty one through
            raise NotFound("Unknown format.")
        parse_query(NoQuerySerializer, request)
        return text_download(*content.blocklist_export(request.user, group_id))


class NoQuerySerializer(serializers.Serializer):
    pass


def text_download(filename: str, text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def removal_api(operation_id: str, serializer_class, service: str, description: str, field: str | None = None,
                each=None):
    """A POST that removes some of a group's entries (the `field` list of the body, each value passed through
    `each` when given) or, without a field, all of them, by relaying `content.<service>` as the token user."""

    class RemovalApi(GroupApi):
        @extend_schema(operation_id=operation_id, request=serializer_class, description=description,
                       responses={200: envelope(RemovedSerializer), **schema.web_errors(404, 409)})
        def post(self, request, group_id):
            data = parse_body(serializer_class, request)
            values = {field: [each(value) for value in data[field]] if each else data[field]} if field else {}
            return Response(getattr(content, service)(request.user, group_id, **values,
                                                      expected_version=data.get("expected_version")))

    return RemovalApi


GroupBlocklistRemoveApi = removal_api(
    "groups_blocklist_remove", BlocklistRemoveSerializer, "blocklist_remove", "Removes the entries with these "
    "patterns (those not there are skipped). " + WRITE_RULES.format(audit="protection.blocklist"), "patterns")
GroupBlocklistClearApi = removal_api("groups_blocklist_clear", ClearSerializer, "blocklist_clear",
                                     "Removes every entry. " + WRITE_RULES.format(audit="protection.blocklist"))


# -- the "test a message" box


class ProtectionTestSerializer(serializers.Serializer):
    text = StrictCharField(required=False, max_length=MAX_TEXT, allow_blank=True, trim_whitespace=False,
                           help_text="A plain text message from a member")
    message = serializers.DictField(required=False, help_text="Or a whole Telegram Message object (Bot API JSON): "
                                                              "media, entities, forwards, buttons...")

    schema_rules = (any_of("text", "message"), at_most_one_of("text", "message"))

    def validate(self, attrs):
        if ("text" in attrs) == ("message" in attrs):
            raise serializers.ValidationError("Give text or message (one of them).")
        return attrs


class GroupProtectionTestApi(RequiredBodyGroupApi):
    @extend_schema(operation_id="groups_protection_test", request=ProtectionTestSerializer,
                   description="What the group's current locks, blocklist, filters and notes would do with a message, "
                               "and why. Nothing is sent or recorded. " + READ_RULES,
                   responses={200: envelope(shapes.ProtectionTestSerializer), **schema.web_errors(404)})
    def post(self, request, group_id):
        data = parse_body(ProtectionTestSerializer, request)
        return Response(content.protection_test(request.user, group_id, text=data.get("text"),
                                                message=data.get("message")))
