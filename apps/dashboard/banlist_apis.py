"""Web's REST API for ban lists (federations): thin views over apps.dashboard.banlists, which relays core as the token
user (reads for them, writes with them as the actor; core checks the permissions in the list's own scope)."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.banlist_shapes import (
    BanListAdminAddedSerializer,
    BanListAdminRemovedSerializer,
    BanListAdminsSerializer,
    BanListFollowedSerializer,
    BanListFollowsSerializer,
    BanListRemovedSerializer,
    BanListSerializer,
    BanListSubscribedSerializer,
    BanListSubscriptionSerializer,
    BanResultSerializer,
    BanSerializer,
    ChangeSerializer,
    ImportResultSerializer,
    PropagationProgressSerializer,
    UnbanResultSerializer,
    UserBansSerializer,
)
from apps.common.envelope import EnvelopeJSONRenderer
from apps.common.fields import (
    NON_BLANK,
    QueryBooleanField,
    StrictCharField,
    StrictRegexField,
    TelegramIdField,
)
from apps.common.pagination import PageQuerySerializer
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import RequiredBodySchema, envelope, exactly_one_of
from apps.coreclient import ids

from . import banlists, schema
from .apis import OBJECT_ID, CsvRenderer, web_list

MAX_NAME = 64
MAX_REASON = 1024  # core's (a ban's reason)
MAX_IMPORT_CHARS = 32 * 1024 * 1024  # core's limit for an import (32 MB)
# The import's body: the file inside a JSON string, whose escapes can double it (core's limit for the same view).
IMPORT_BODY_BYTES = 2 * MAX_IMPORT_CHARS + 64 * 1024
POSITIVE_ID = {"min_value": 1, "max_value": 2**63 - 1}

VIEW = "Needs BAN_LIST_VIEW in the list's scope (or globally)."
WRITE = ("As the token user: core checks {permission} in the list's scope (403 permission_denied naming it) and "
         "validates the values (400 validation_error); the change is audited ({audit}) and posted to the list's log "
         "chat.")


# -- inputs


def _name(**options) -> StrictRegexField:
    return StrictRegexField(NON_BLANK, max_length=MAX_NAME, help_text="1 to 64 characters", **options)


def _reason() -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, max_length=MAX_REASON, default="")


class BanListApiBase(APIView):
    """An endpoint of one list: its id is checked (400 invalid_id) before the body or anything else is read."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        ids.store_id(kwargs["ban_list_id"], name="ban_list_id")


class ListFilterSerializer(PageQuerySerializer):
    q = serializers.CharField(required=False, max_length=64, help_text="Name contains")


class CreateSerializer(serializers.Serializer):
    name = _name()


class BanListsApi(APIView):
    @extend_schema(operation_id="banlists_list", parameters=[ListFilterSerializer],
                   description="The lists the token user may view (every list with BAN_LIST_VIEW globally).",
                   responses={200: schema.web_list(BanListSerializer)})
    def get(self, request):
        return web_list(banlists.lists(request.user, **parse_query(ListFilterSerializer, request)))

    @extend_schema(operation_id="banlists_create", request=CreateSerializer,
                   description="Creates a list owned by the token user (they get banlist_owner in its scope); "
                               "core refuses more than its limit of lists owned (409 conflict). Audited as "
                               "banlist.create.",
                   responses={201: envelope(BanListSerializer), **schema.web_errors(409)})
    def post(self, request):
        data = parse_body(CreateSerializer, request)
        return Response(banlists.create(request.user, name=data["name"]), status=201)


class UpdateSerializer(serializers.Serializer):
    name = _name(required=False)
    log_chat_id = TelegramIdField(required=False, allow_null=True, help_text="A Telegram chat id; null unsets it")

    schema_rules = ({"minProperties": 1},)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give name or log_chat_id.")
        return attrs


class RequiredBodyBanListApi(BanListApiBase):
    """One whose body is required though no one field is (a PATCH's name or log chat; a user, a group: one of two
    fields): without a body the answer is 400, as for {}."""

    schema = RequiredBodySchema()


class BanListDetailApi(RequiredBodyBanListApi):
    @extend_schema(operation_id="banlists_retrieve", description=VIEW,
                   responses={200: envelope(BanListSerializer), **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        return Response(banlists.get(request.user, ban_list_id))

    @extend_schema(operation_id="banlists_update", request=UpdateSerializer,
                   description="Renames the list or sets its log chat. "
                               + WRITE.format(permission="BAN_LIST_MANAGE", audit="banlist.update"),
                   responses={200: envelope(BanListSerializer), **schema.web_errors(404)})
    def patch(self, request, ban_list_id):
        data = parse_body(UpdateSerializer, request)
        return Response(banlists.update(request.user, ban_list_id, **data))


class NoBodySerializer(serializers.Serializer):
    pass


class BanListDeleteApi(BanListApiBase):
    @extend_schema(operation_id="banlists_delete", request=NoBodySerializer,
                   description="Deletes the list (its groups stop following it; pending bans are dropped). "
                               + WRITE.format(permission="BAN_LIST_MANAGE", audit="banlist.delete"),
                   responses={200: envelope(BanListSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        parse_body(NoBodySerializer, request)
        return Response(banlists.delete(request.user, ban_list_id))


class SomeoneSerializer(serializers.Serializer):
    user_id = serializers.CharField(required=False, **OBJECT_ID, help_text="A core user's id")
    telegram_user_id = TelegramIdField(required=False, help_text="Or their Telegram id")

    schema_rules = (exactly_one_of("user_id", "telegram_user_id"),)

    def validate(self, attrs):
        if ("user_id" in attrs) == ("telegram_user_id" in attrs):
            raise serializers.ValidationError("Give user_id or telegram_user_id (one of them).")
        return attrs


class BanListAdminsApi(RequiredBodyBanListApi):
    @extend_schema(operation_id="banlists_admins_list", description=VIEW,
                   responses={200: envelope(BanListAdminsSerializer), **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        return Response(banlists.admins(request.user, ban_list_id))

    @extend_schema(operation_id="banlists_admins_add", request=SomeoneSerializer,
                   description="Promotes a user to banlist_admin. "
                               + WRITE.format(permission="MANAGE_ROLES", audit="banlist.admin_add")
                               + " The rank rule applies (403 rank_violation).",
                   responses={200: envelope(BanListAdminAddedSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        return Response(banlists.admin_add(request.user, ban_list_id, **parse_body(SomeoneSerializer, request)))


class BanListAdminRemoveApi(RequiredBodyBanListApi):
    @extend_schema(operation_id="banlists_admins_remove", request=SomeoneSerializer,
                   description="Demotes a list admin. "
                               + WRITE.format(permission="MANAGE_ROLES", audit="banlist.admin_remove"),
                   responses={200: envelope(BanListAdminRemovedSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        return Response(banlists.admin_remove(request.user, ban_list_id, **parse_body(SomeoneSerializer, request)))


class GroupRefSerializer(serializers.Serializer):
    group_id = serializers.CharField(required=False, **OBJECT_ID)
    telegram_chat_id = TelegramIdField(required=False, help_text="Or the group's Telegram chat id")

    schema_rules = (exactly_one_of("group_id", "telegram_chat_id"),)

    def validate(self, attrs):
        if ("group_id" in attrs) == ("telegram_chat_id" in attrs):
            raise serializers.ValidationError("Give group_id or telegram_chat_id (one of them).")
        return attrs


SUBSCRIBE = ("As the token user: core checks BAN_LIST_SUBSCRIBE in the group (its owner's right, as in Rose; 403 "
             "permission_denied naming it); audited ({audit}). The group's bot reloads the lists it enforces.")


class BanListSubscriptionsApi(RequiredBodyBanListApi):
    @extend_schema(operation_id="banlists_subscriptions_list", parameters=[PageQuerySerializer], description=VIEW,
                   responses={200: schema.web_list(BanListSubscriptionSerializer), **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        return web_list(banlists.subscriptions(request.user, ban_list_id,
                                               **parse_query(PageQuerySerializer, request)))

    @extend_schema(operation_id="banlists_subscriptions_add", request=GroupRefSerializer,
                   description="Makes a group follow the list's bans (/joinfed). "
                               + SUBSCRIBE.format(audit="banlist.subscribe"),
                   responses={200: envelope(BanListSubscribedSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        return Response(banlists.subscribe(request.user, ban_list_id, **parse_body(GroupRefSerializer, request)))


class BanListSubscriptionRemoveApi(RequiredBodyBanListApi):
    @extend_schema(operation_id="banlists_subscriptions_remove", request=GroupRefSerializer,
                   description="The group stops following the list (/leavefed). "
                               + SUBSCRIBE.format(audit="banlist.unsubscribe"),
                   responses={200: envelope(BanListRemovedSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        return Response(banlists.unsubscribe(request.user, ban_list_id, **parse_body(GroupRefSerializer, request)))


class SourceSerializer(serializers.Serializer):
    source_id = serializers.CharField(**OBJECT_ID, help_text="The list whose bans this one takes on")


class BanListFollowsApi(BanListApiBase):
    @extend_schema(operation_id="banlists_follows_list", description=VIEW,
                   responses={200: envelope(BanListFollowsSerializer), **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        return Response(banlists.follows(request.user, ban_list_id))

    @extend_schema(operation_id="banlists_follows_add", request=SourceSerializer,
                   description="The list takes on another list's bans (/subfed); a cycle is refused (400). "
                               + WRITE.format(permission="BAN_LIST_MANAGE", audit="banlist.follow"),
                   responses={200: envelope(BanListFollowedSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        data = parse_body(SourceSerializer, request)
        return Response(banlists.follow(request.user, ban_list_id, source_id=data["source_id"]))


class BanListFollowRemoveApi(BanListApiBase):
    @extend_schema(operation_id="banlists_follows_remove", request=SourceSerializer,
                   description="The list stops taking on another list's bans (/unsubfed). "
                               + WRITE.format(permission="BAN_LIST_MANAGE", audit="banlist.unfollow"),
                   responses={200: envelope(BanListRemovedSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        data = parse_body(SourceSerializer, request)
        return Response(banlists.unfollow(request.user, ban_list_id, source_id=data["source_id"]))


# -- bans


class BanFilterSerializer(PageQuerySerializer):
    telegram_user_id = serializers.IntegerField(required=False, **POSITIVE_ID,
                                                help_text="Only this Telegram user's ban")
    q = serializers.CharField(required=False, max_length=100,
                              help_text="A Telegram id, or text in the reason or the user's name")
    active = QueryBooleanField(required=False, allow_null=True, default=None,
                               help_text="Omitted: active bans only (core's default); false: lifted ones")


class BanInputSerializer(serializers.Serializer):
    telegram_user_id = TelegramIdField(min_value=1, help_text="The Telegram user")
    reason = _reason()


class BanListBansApi(BanListApiBase):
    @extend_schema(operation_id="banlists_bans_list", parameters=[BanFilterSerializer], description=VIEW,
                   responses={200: schema.web_list(BanSerializer), **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        query = {key: value for key, value in parse_query(BanFilterSerializer, request).items() if value is not None}
        return web_list(banlists.bans(request.user, ban_list_id, **query))

    @extend_schema(operation_id="banlists_bans_add", request=BanInputSerializer,
                   description="Bans a Telegram user in every group following the list (/fban): the bot bans them "
                               "in the background, paced; banning again updates the reason. "
                               + WRITE.format(permission="BAN_LIST_BAN", audit="banlist.ban"),
                   responses={200: envelope(BanResultSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        data = parse_body(BanInputSerializer, request)
        return Response(banlists.ban(request.user, ban_list_id, **data))


class BanListUnbanApi(BanListApiBase):
    @extend_schema(operation_id="banlists_bans_remove", request=BanInputSerializer,
                   description="Lifts a ban (/unfban) in every group following the list. "
                               + WRITE.format(permission="BAN_LIST_BAN", audit="banlist.unban"),
                   responses={200: envelope(UnbanResultSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        data = parse_body(BanInputSerializer, request)
        return Response(banlists.unban(request.user, ban_list_id, **data))


class HistoryFilterSerializer(PageQuerySerializer):
    kind = serializers.ChoiceField(required=False, choices=banlists.CHANGE_KINDS)
    telegram_user_id = serializers.IntegerField(required=False, **POSITIVE_ID)
    actor_user_id = serializers.CharField(required=False, **OBJECT_ID, help_text="Changes made by this core user")
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError("since must be before until.")
        return attrs


class BanListHistoryApi(BanListApiBase):
    @extend_schema(operation_id="banlists_history", parameters=[HistoryFilterSerializer],
                   description="The list's changes, newest first. " + VIEW,
                   responses={200: schema.web_list(ChangeSerializer), **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        filters = parse_query(HistoryFilterSerializer, request)
        if filters.get("actor_user_id") is not None:
            ids.store_id(filters["actor_user_id"], name="actor_user_id")
        return web_list(banlists.history(request.user, ban_list_id, **filters))


class ImportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=banlists.IMPORT_FORMATS)
    content = StrictCharField(max_length=MAX_IMPORT_CHARS, trim_whitespace=False,
                              help_text="The file's text. CSV: telegram_user_id[,reason[,date]], an optional header "
                                        "(telegram_user_id, user_id or id), one id a line is enough. JSON: a list "
                                        "of ids, or of objects {telegram_user_id, reason?, date?}.")


class BanListImportApi(BanListApiBase):
    max_request_body_bytes = IMPORT_BODY_BYTES  # apps.common.middleware: the one view with a larger body
    @extend_schema(operation_id="banlists_import", request=ImportSerializer,
                   description="Adds the file's bans as one change: all of them, or none when a row is invalid "
                               "(400 validation_error, details.faults: the first 20 rows at fault). Bodies up to "
                               "64 MB here. "
                               + WRITE.format(permission="BAN_LIST_BAN", audit="banlist.import"),
                   responses={200: envelope(ImportResultSerializer), **schema.web_errors(404)})
    def post(self, request, ban_list_id):
        data = parse_body(ImportSerializer, request)
        return Response(banlists.import_file(request.user, ban_list_id, **data))




class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=banlists.EXPORT_FORMATS, required=False, default="csv")


class BanListExportApi(BanListApiBase):
    renderer_classes = [EnvelopeJSONRenderer, CsvRenderer]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = EnvelopeJSONRenderer(), "application/json"
        return response

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)  # ?format= is the file's, not DRF's

    @extend_schema(operation_id="banlists_export", parameters=[ExportQuerySerializer],
                   description="The list's active bans as a file (attachment banlist-<id>.csv or .json), streamed "
                               "from core: CSV telegram_user_id,reason,date (ISO 8601 UTC), or a JSON list of "
                               "those objects. " + VIEW,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
                              (200, "application/json"): OpenApiResponse(OpenApiTypes.ANY,
                                                                         description="The JSON list"),
                              **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        query = parse_export_query(request.query_params)
        filename, media, chunks = banlists.export(request.user, ban_list_id, format=query)
        response = StreamingHttpResponse(chunks, content_type=media)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def parse_export_query(params) -> str:
    unknown = sorted(set(params) - {"format"})
    if unknown:
        raise serializers.ValidationError({name: ["Unknown query parameter."] for name in unknown})
    if len(params.getlist("format")) > 1:
        raise serializers.ValidationError({"format": ["Given more than once."]})
    serializer = ExportQuerySerializer(data={"format": params["format"]} if "format" in params else {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["format"]


class BanListPropagationApi(BanListApiBase):
    @extend_schema(operation_id="banlists_propagation", description="How far the list's bans and unbans have "
                   "reached its groups (the bot's work queue). " + VIEW,
                   responses={200: envelope(PropagationProgressSerializer), **schema.web_errors(404)})
    def get(self, request, ban_list_id):
        return Response(banlists.propagation(request.user, ban_list_id))


class UserBansQuerySerializer(serializers.Serializer):
    telegram_user_id = serializers.IntegerField(**POSITIVE_ID)


class UserBansApi(APIView):
    @extend_schema(operation_id="banlists_user_bans", parameters=[UserBansQuerySerializer],
                   description="The lists a Telegram user is on (/fedstat), among those the token user may view.",
                   responses={200: envelope(UserBansSerializer)})
    def get(self, request):
        query = parse_query(UserBansQuerySerializer, request)
        return Response(banlists.user_bans(request.user, telegram_user_id=query["telegram_user_id"]))
