"""A ban list's bans over HTTP (Rose's /fban, /unfban, /fbanlist, /fedstat), its history, import and export, and
what the bot's cache and propagation worker ask. Thin views: parse -> service or selector -> shape.

Writes name their actor (actor_user_id | actor_telegram_user_id: core checks BAN_LIST_BAN for them in the list's
scope, 403 naming it), or come with an acting user whose permission the header had checked, or none (the calling
service itself). Reads for an acting user need BAN_LIST_VIEW in the list's scope. The export is the file itself,
not enveloped.
"""

import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common import banlist_shapes as shapes
from apps.common.fields import (
    INT64_MAX,
    ObjectIdField,
    QueryBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
    TelegramIdField,
)
from apps.common.headers import ACTING_USER_HEADER
from apps.common.ids import get_or_404, parse_pk
from apps.common.pagination import PageQuerySerializer, paginate
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import STORE_ID_PATTERN, envelope, error_responses, list_envelope
from apps.contentrules.apis import ACTOR_FIELDS, OptionalActorSerializer
from apps.rbac.permissions import acting_user_id
from apps.users.selectors import actor_get

from . import ban_selectors as reads
from .access import viewable_ban_lists
from .bans import MAX_REASON, ban_actor_authorize, ban_list_ban, ban_list_unban
from .imports import FORMATS, MAX_CONTENT_BYTES, ban_list_import, export_csv, export_json, import_parse
from .models import BanList, Change, Propagation
from .propagation import (
    CLAIM_LIMIT,
    LEASE_SECONDS,
    propagation_complete,
    propagation_progress,
    propagations_claim,
    propagations_release,
)

_ACTING_META_KEY = "HTTP_" + ACTING_USER_HEADER.upper().replace("-", "_")
VIEW, BAN = "BAN_LIST_VIEW", "BAN_LIST_BAN"
# The import's body: the file (up to 32 MB) inside a JSON string, whose escapes can double it.
IMPORT_BODY_BYTES = 2 * MAX_CONTENT_BYTES + 64 * 1024


def active_ban_list(ban_list_id) -> BanList:
    """The active list the id names; 404 not_found otherwise (a deleted list too)."""
    return get_or_404(BanList, ban_list_id, label="Ban list", queryset=BanList.objects.filter(is_active=True))


def _write_actor(request, ban_list: BanList, data: dict):
    """The actor named in the body (checked for BAN_LIST_BAN in the list's scope), or the acting user whose
    permission the header had checked, or none. Takes the actor fields out of `data`."""
    actor_ids = {name: data.pop(name) for name in ACTOR_FIELDS if name in data}
    if actor_ids:
        return ban_actor_authorize(ban_list=ban_list, permission=BAN, **actor_ids)
    acting = request.META.get(_ACTING_META_KEY)
    return actor_get(actor_user_id=acting) if acting else None


class _ListRead:
    acting_user_permissions = {"GET": VIEW}
    acting_user_ban_list_kwarg = "ban_list_id"


# -- shapes (the answers' shapes are apps.common.banlist_shapes, web's too)

class BanWriteInput(OptionalActorSerializer):
    telegram_user_id = TelegramIdField(min_value=1, help_text="The Telegram user to ban")
    reason = StrictCharField(max_length=MAX_REASON, required=False, allow_blank=True, default="")


class ChangeSerializer(shapes.ChangeSerializer):
    kind = serializers.ChoiceField(choices=Change.Kind.choices)
    actor = shapes.BanListUserSerializer(allow_null=True, source="actor_brief")


# -- the bans

class BanListBansApi(APIView):
    acting_user_permissions = {"GET": VIEW, "POST": BAN}
    acting_user_ban_list_kwarg = "ban_list_id"

    class FilterSerializer(PageQuerySerializer):
        telegram_user_id = serializers.IntegerField(min_value=1, max_value=INT64_MAX, required=False)
        q = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                  help_text="A Telegram id, or text in the reason or the user's name")
        active = QueryBooleanField(required=False, allow_null=True, default=True,
                                   help_text="Default true: the bans in force; false: the unbanned")

    OutputSerializer = shapes.BanResultSerializer

    @extend_schema(operation_id="banlist_bans_list", parameters=[FilterSerializer],
                   responses={200: list_envelope(shapes.BanSerializer), **error_responses(403, 404)})
    def get(self, request, ban_list_id):
        ban_list = active_ban_list(ban_list_id)
        query = parse_query(self.FilterSerializer, request)
        bans = reads.bans_query(ban_list=ban_list, telegram_user_id=query.get("telegram_user_id"),
                                q=query.get("q", ""), active=query.get("active"))
        page = paginate(bans, page=query["page"], limit=query["limit"], serializer_class=_Identity)
        page["items"] = shapes.BanSerializer(reads.ban_views(page["items"]), many=True).data
        return Response(page)

    @extend_schema(operation_id="banlist_ban", request=BanWriteInput,
                   responses={200: envelope(OutputSerializer), **error_responses(403, 404)},
                   description="Puts a Telegram user on the list (/fban): owed at once to every group the list "
                               "reaches (the bot's propagation worker claims them). The same ban again changes "
                               "nothing; a new reason for an active ban replaces the old one.",
                   examples=[OpenApiExample("fban", request_only=True, value={
                       "telegram_user_id": 777000123, "reason": "crypto spam", "actor_telegram_user_id": 1111})])
    def post(self, request, ban_list_id):
        ban_list = active_ban_list(ban_list_id)
        data = dict(parse_body(BanWriteInput, request))
        actor = _write_actor(request, ban_list, data)
        result = ban_list_ban(ban_list=ban_list, telegram_user_id=data["telegram_user_id"], reason=data["reason"],
                              actor=actor)
        result["ban"] = reads.ban_view(result["ban"])
        return Response(self.OutputSerializer(result).data)


class _Identity:
    """paginate()'s serializer for rows shaped afterwards (ban_views looks the page's users up in one query)."""

    def __init__(self, items, many=True):
        self.data = list(items)


class BanListUnbanApi(APIView):
    acting_user_permissions = {"POST": BAN}
    acting_user_ban_list_kwarg = "ban_list_id"

    OutputSerializer = shapes.UnbanResultSerializer

    @extend_schema(operation_id="banlist_unban", request=BanWriteInput,
                   responses={200: envelope(OutputSerializer), **error_responses(403, 404)},
                   description="Takes a Telegram user off the list (/unfban): an unban owed to every group the "
                               "list reaches, except where another of the group's lists still bans them.")
    def post(self, request, ban_list_id):
        ban_list = active_ban_list(ban_list_id)
        data = dict(parse_body(BanWriteInput, request))
        actor = _write_actor(request, ban_list, data)
        result = ban_list_unban(ban_list=ban_list, telegram_user_id=data["telegram_user_id"],
                                reason=data["reason"], actor=actor)
        result["ban"] = reads.ban_view(result["ban"])
        return Response(self.OutputSerializer(result).data)


class BanListHistoryApi(_ListRead, APIView):
    class FilterSerializer(PageQuerySerializer):
        kind = serializers.ChoiceField(choices=Change.Kind.choices, required=False)
        telegram_user_id = serializers.IntegerField(min_value=1, max_value=INT64_MAX, required=False)
        actor_user_id = ObjectIdField(required=False, max_length=64)
        since = serializers.DateTimeField(required=False, help_text="From this time (inclusive)")
        until = serializers.DateTimeField(required=False, help_text="Before this time")

    @extend_schema(operation_id="banlist_history", parameters=[FilterSerializer],
                   responses={200: list_envelope(ChangeSerializer), **error_responses(403, 404)})
    def get(self, request, ban_list_id):
        ban_list = active_ban_list(ban_list_id)
        query = dict(parse_query(self.FilterSerializer, request))
        page, limit = query.pop("page"), query.pop("limit")
        changes = reads.history_query(ban_list=ban_list, **query)
        result = paginate(changes, page=page, limit=limit, serializer_class=_Identity)
        for change in result["items"]:
            change.actor_brief = reads.user_brief(change.actor)
        result["items"] = ChangeSerializer(result["items"], many=True).data
        return Response(result)


class UserBansApi(APIView):
    """The lists a Telegram user is on (/fedstat, a user's page). For an acting user: the lists they may view."""

    acting_user_view_checks = {"GET": VIEW}  # answers only the lists the acting user may view

    class FilterSerializer(serializers.Serializer):
        telegram_user_id = serializers.IntegerField(min_value=1, max_value=INT64_MAX)

    OutputSerializer = shapes.UserBansSerializer

    @extend_schema(operation_id="banlist_user_bans", parameters=[FilterSerializer],
                   responses={200: envelope(OutputSerializer), **error_responses(403)})
    def get(self, request):
        telegram_user_id = parse_query(self.FilterSerializer, request)["telegram_user_id"]
        visible = viewable_ban_lists(acting_user_id(request))
        bans = reads.user_ban_lists(telegram_user_id=telegram_user_id, ban_list_pks=visible)
        return Response(self.OutputSerializer({"telegram_user_id": telegram_user_id, "bans": bans}).data)


# -- import and export

class BanListImportApi(APIView):
    acting_user_permissions = {"POST": BAN}
    acting_user_ban_list_kwarg = "ban_list_id"
    # The one view whose body may be larger than the platform's limit (apps.common.middleware).
    max_request_body_bytes = IMPORT_BODY_BYTES

    class InputSerializer(OptionalActorSerializer):
        format = serializers.ChoiceField(choices=FORMATS)
        content = StrictCharField(allow_blank=True, trim_whitespace=False,
                                  help_text="The file's text: CSV (telegram_user_id[,reason[,date]], optional "
                                            "header) or JSON (a list of ids, or of objects {telegram_user_id, "
                                            "reason?, date?}); up to 1,000,000 rows and 32 MB")

    OutputSerializer = shapes.ImportResultSerializer

    @extend_schema(operation_id="banlist_import", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses(403, 404, 413)},
                   description="Strict: one invalid row refuses the file (400 validation_error, details.faults: "
                               "the first 20 rows at fault with their CSV line or JSON item), nothing written. A "
                               "valid file is one change of the list: one version, one history row, one audit "
                               "row. Bodies up to 64 MB here.",
                   examples=[OpenApiExample("CAS-style CSV", request_only=True, value={
                       "format": "csv", "content": "telegram_user_id,reason,date\n777000123,spam,"
                                                   "2024-05-01T10:00:00Z\n777000124,,1714557600\n"})])
    def post(self, request, ban_list_id):
        ban_list = active_ban_list(ban_list_id)
        _read_large_json(request)
        data = dict(parse_body(self.InputSerializer, request))
        actor = _write_actor(request, ban_list, data)
        rows = import_parse(format=data["format"], content=data["content"])
        result = ban_list_import(ban_list=ban_list, rows=rows, actor=actor, format=data["format"])
        return Response(self.OutputSerializer(result).data)


def _read_large_json(request) -> None:
    """Parses the JSON body itself, from the stream: Django's own read refuses a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE (the platform's limit), which the middleware already raised to this view's."""
    if request.content_type.split(";")[0].strip() != "application/json":
        raise UnsupportedMediaType(request.content_type)
    raw = request._request.read()
    try:
        request._full_data = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"JSON parse error - {exc}") from None


class _FileNegotiation(DefaultContentNegotiation):
    """?format= names the export's file format here, not a renderer: answers (errors) stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BanListExportApi(_ListRead, APIView):
    content_negotiation_class = _FileNegotiation

    class FilterSerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=FORMATS, default="csv")

    @extend_schema(operation_id="banlist_export", parameters=[FilterSerializer],
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=(
                       "telegram_user_id,reason,date (ISO 8601 UTC), ids ascending; a reason a spreadsheet would "
                       "run as a formula starts with ' (taken off again on import)")),
                       (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description=(
                           'A list of {"telegram_user_id", "reason", "date"}: the file, not enveloped')),
                       **error_responses(403, 404)},
                   description="The list's active bans as a file (attachment banlist-<id>.csv or .json), streamed.")
    def get(self, request, ban_list_id):
        ban_list = active_ban_list(ban_list_id)
        format = parse_query(self.FilterSerializer, request)["format"]
        if format == "csv":
            response = StreamingHttpResponse(export_csv(ban_list=ban_list), content_type="text/csv; charset=utf-8")
        else:
            response = StreamingHttpResponse(export_json(ban_list=ban_list),
                                             content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="banlist-{ban_list.pk}.{format}"'
        return response


# -- the bot's cache

_ONE_ID = STORE_ID_PATTERN.removeprefix("^").removesuffix("$")
_LIST_IDS = rf"^(?:{_ONE_ID}(?:,{_ONE_ID}){{0,{reads.MAX_VERSIONS - 1}}})?$"


class BanListVersionsApi(APIView):
    class FilterSerializer(serializers.Serializer):
        ids = StrictRegexField(_LIST_IDS, allow_blank=True,
                               help_text="Comma-separated list ids, at most 100; unknown ones are left out")

    class OutputSerializer(serializers.Serializer):
        class VersionSerializer(serializers.Serializer):
            version = serializers.IntegerField()
            name = serializers.CharField()

        lists = serializers.DictField(child=VersionSerializer(),
                                      help_text="List id -> its version and name; unknown or deleted lists are "
                                                "left out")

    @extend_schema(operation_id="banlist_versions", parameters=[FilterSerializer],
                   responses={200: envelope(OutputSerializer), **error_responses()})
    def get(self, request):
        raw = parse_query(self.FilterSerializer, request)["ids"]
        values = [value for value in raw.split(",") if value] if raw else []
        if len(values) > reads.MAX_VERSIONS:
            raise serializers.ValidationError({"ids": [f"At most {reads.MAX_VERSIONS} ids."]})
        # An id of the other store's form (24 hex digits on SQL, a number on MongoDB) names no list here.
        pks = [pk for pk in (parse_pk(BanList, value) for value in values) if pk is not None]
        return Response({"lists": reads.ban_list_versions(pks=pks)})


class BanListIdsApi(APIView):
    class FilterSerializer(serializers.Serializer):
        since = serializers.IntegerField(min_value=0, max_value=INT64_MAX, default=0,
                                         help_text="0: every active ban; else the bans changed after this version")

    class OutputSerializer(serializers.Serializer):
        version = serializers.IntegerField(help_text="The list's version these ids are of")
        full = serializers.BooleanField(help_text="True: `banned` is the whole list (replace the copy); false: a "
                                                  "delta since `since`")
        banned = serializers.ListField(child=serializers.IntegerField(), help_text="Telegram ids, ascending")
        unbanned = serializers.ListField(child=serializers.IntegerField(), help_text="Telegram ids, ascending")

    @extend_schema(operation_id="banlist_ids", parameters=[FilterSerializer],
                   responses={200: envelope(OutputSerializer), **error_responses(404)},
                   description="The bot's cache of the list: every active ban, or what changed since the version "
                               "it holds (a version the list never reached answers the whole list).")
    def get(self, request, ban_list_id):
        ban_list = active_ban_list(ban_list_id)
        since = parse_query(self.FilterSerializer, request)["since"]
        return Response(reads.ban_ids(ban_list=ban_list, since=since))


# -- propagation

class PropagationSerializer(serializers.Serializer):
    id = ObjectIdField()
    ban_list_id = ObjectIdField()
    ban_list_name = serializers.CharField(source="ban_list.name")
    group_id = ObjectIdField()
    telegram_chat_id = serializers.IntegerField(source="group.telegram_chat_id")
    telegram_user_id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=Propagation.Action.choices,
                                     help_text="ban, unban, or notify: the user is exempt in the group, tell its "
                                               "moderators")
    reason = serializers.CharField()
    moderation_action_id = ObjectIdField(allow_null=True, help_text="The moderation record it completes (none "
                                                                    "for a notice)")


class BanListPropagationApi(_ListRead, APIView):
    OutputSerializer = shapes.PropagationProgressSerializer

    @extend_schema(operation_id="banlist_propagation", responses={200: envelope(OutputSerializer),
                                                                  **error_responses(403, 404)})
    def get(self, request, ban_list_id):
        return Response(propagation_progress(ban_list=active_ban_list(ban_list_id)))


class PropagationClaimApi(APIView):
    class InputSerializer(serializers.Serializer):
        limit = StrictIntegerField(min_value=CLAIM_LIMIT[0], max_value=CLAIM_LIMIT[1], required=False, default=50)
        lease_seconds = StrictIntegerField(min_value=LEASE_SECONDS[0], max_value=LEASE_SECONDS[1], required=False,
                                           default=60, help_text="Claimable again after this unless completed")

    class OutputSerializer(serializers.Serializer):
        results = PropagationSerializer(many=True)

    @extend_schema(operation_id="banlist_propagations_claim", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses()},
                   description="Owed bans, unbans and notices, oldest first, each leased to the caller: a bot that "
                               "dies holding them loses nothing.")
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        rows = propagations_claim(limit=data["limit"], lease_seconds=data["lease_seconds"])
        return Response(self.OutputSerializer({"results": rows}).data)


RELEASE_LIMIT = 1000  # a bot holds at most a claim or two (200 each) when it stops


class PropagationReleaseApi(APIView):
    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(child=StrictRegexField(STORE_ID_PATTERN), allow_empty=False,
                                    max_length=RELEASE_LIMIT,
                                    help_text="Propagations this caller claimed and has not started")

        def validate_ids(self, values):
            # An id of the other store's form (24 hex digits on SQL, a number on MongoDB) names no row here.
            pks = (parse_pk(Propagation, value) for value in values)
            return list(dict.fromkeys(pk for pk in pks if pk is not None))

    class OutputSerializer(serializers.Serializer):
        released = serializers.IntegerField(help_text="Those still pending and leased, now claimable at once")

    @extend_schema(operation_id="banlist_propagations_release", request=InputSerializer,
                   responses={200: envelope(OutputSerializer), **error_responses()},
                   examples=[OpenApiExample("Release", request_only=True,
                                            value={"ids": ["6650f0c2a1b2c3d4e5f60718", "6650f0c2a1b2c3d4e5f60719"]})],
                   description="Gives claimed propagations back before their lease runs out (a bot stopping with "
                               "work it has not started): the pending ones are claimable at once; done, failed or "
                               "unknown ones are left as they are. Releasing twice changes nothing.")
    def post(self, request):
        data = parse_body(self.InputSerializer, request)
        return Response(self.OutputSerializer({"released": propagations_release(pks=data["ids"])}).data)


class PropagationCompleteApi(APIView):
    class InputSerializer(serializers.Serializer):
        error = StrictCharField(max_length=1024, required=False, allow_null=True, allow_blank=True,
                                help_text="Telegram's error; null or absent: done")

    class OutputSerializer(serializers.Serializer):
        id = ObjectIdField()
        status = serializers.ChoiceField(choices=Propagation.Status.choices)
        error = serializers.CharField()
        moderation_action_id = ObjectIdField(allow_null=True)
        moderation_status = serializers.CharField(source="moderation_action.status", allow_null=True,
                                                  help_text="executed or failed, as the propagation")

    @extend_schema(operation_id="banlist_propagation_complete", request=InputSerializer,
                   parameters=[OpenApiParameter("propagation_id", str, OpenApiParameter.PATH)],
                   responses={200: envelope(OutputSerializer), **error_responses(404)},
                   description="Done (no error) or failed with Telegram's error; its moderation record is completed "
                               "the same way. Completing it again changes nothing.")
    def post(self, request, propagation_id):
        row = get_or_404(Propagation, propagation_id, label="Propagation")
        data = parse_body(self.InputSerializer, request)
        return Response(self.OutputSerializer(propagation_complete(propagation=row, error=data.get("error"))).data)
