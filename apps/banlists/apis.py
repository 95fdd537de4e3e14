"""Ban lists over HTTP (Rose's federations): the lists, their admins, the groups subscribed to them and the lists they
follow. Thin views: parse -> authorize the actor -> service or selector -> shape. The bans are in ban_apis.py.

Writes name their actor (actor_user_id | actor_telegram_user_id): core checks their permission in the list's scope
(BAN_LIST_MANAGE; MANAGE_ROLES and the rank rule for admins) or, for a subscription, BAN_LIST_SUBSCRIBE in the group,
403 permission_denied naming it. Or they come with an acting user (X-Acting-User-ID) whose permission the header had
checked; or with neither: the calling service itself. Creating a list needs an actor: its owner. Reads for an acting
user need BAN_LIST_VIEW in the list's scope; the lists' index answers only those they may view.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema
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
)
from apps.common.errors import PermissionDeniedError
from apps.common.fields import (
    INT64_MAX,
    INT64_MIN,
    NON_BLANK,
    ObjectIdField,
    QueryBooleanField,
    StrictRegexField,
    TelegramIdField,
)
from apps.common.pagination import PageQuerySerializer, page_total
from apps.common.parsing import parse_body, parse_query
from apps.common.schema import RequiredBodySchema, envelope, error_responses, exactly_one_of, list_envelope
from apps.contentrules.apis import ACTOR_FIELDS, OptionalActorSerializer
from apps.groups.selectors import group_resolve
from apps.rbac.permissions import acting_user_id
from apps.users.models import User
from apps.users.selectors import actor_get

from . import selectors, services
from .access import (
    actor_resolve,
    ban_list_actor_authorize,
    ban_list_get,
    group_actor_authorize,
    user_find,
    viewable_ban_lists,
)

VIEW, MANAGE, ROLES, SUBSCRIBE = "BAN_LIST_VIEW", "BAN_LIST_MANAGE", "MANAGE_ROLES", "BAN_LIST_SUBSCRIBE"


def _page(queryset, query: dict, rows) -> dict:
    """Core's page shape (apps.common.pagination): `rows(items)` shapes one page's objects."""
    page, limit = query["page"], query["limit"]
    offset = (page - 1) * limit
    items = list(queryset[offset:offset + limit])
    total = page_total(queryset, offset=offset, limit=limit, found=len(items))
    return {"items": rows(items), "total": total, "page": page, "limit": limit}


# -- the actor of a write

def _body_actor(data: dict) -> dict:
    return {name: data.pop(name) for name in ACTOR_FIELDS if name in data}


def list_actor(request, ban_list, data: dict, permission: str) -> User | None:
    """The actor named in the body (checked for `permission` in the list's scope), else the acting user whose
    permission the header had checked, else none (the calling service). Takes the actor fields out of `data`."""
    named = _body_actor(data)
    if named:
        return ban_list_actor_authorize(ban_list=ban_list, permission=permission, **named)
    acting = acting_user_id(request)
    return actor_get(actor_user_id=acting) if acting else None


def group_actor(request, group, data: dict) -> User | None:
    """The same for a subscription: BAN_LIST_SUBSCRIBE in the group, for the actor named or the acting user."""
    named = _body_actor(data)
    acting = acting_user_id(request)
    if not named and acting:
        named = {"actor_user_id": acting}
    if not named:
        return None
    return group_actor_authorize(group=group, permission=SUBSCRIBE, **named)


# -- inputs

def _name(**options) -> StrictRegexField:
    return StrictRegexField(NON_BLANK, max_length=services.MAX_NAME, help_text="1 to 64 characters", **options)


class BanListCreateSerializer(OptionalActorSerializer):
    name = _name()

    schema_rules = (*OptionalActorSerializer.schema_rules, {"anyOf": [{"required": [name]} for name in ACTOR_FIELDS]})

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not any(name in attrs for name in ACTOR_FIELDS):
            raise serializers.ValidationError("Give actor_user_id or actor_telegram_user_id: the list's owner.")
        return attrs


class BanListUpdateSerializer(OptionalActorSerializer):
    name = _name(required=False)
    log_chat_id = TelegramIdField(required=False, allow_null=True, help_text="A Telegram chat id; null unsets it")

    schema_rules = (*OptionalActorSerializer.schema_rules, {"anyOf": [{"required": ["name"]},
                                                                      {"required": ["log_chat_id"]}]})

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "name" not in attrs and "log_chat_id" not in attrs:
            raise serializers.ValidationError("Give name or log_chat_id.")
        return attrs


class BanListFilterSerializer(PageQuerySerializer):
    q = serializers.CharField(required=False, max_length=64, help_text="Name contains (any case)")
    group_id = ObjectIdField(required=False, help_text="The lists whose bans hold in this group")
    telegram_chat_id = serializers.IntegerField(required=False, min_value=INT64_MIN, max_value=INT64_MAX,
                                                help_text="The same, by the group's Telegram chat id")
    admin_user_id = ObjectIdField(required=False, help_text="The lists this user holds a role on")
    admin_telegram_user_id = serializers.IntegerField(required=False, min_value=INT64_MIN, max_value=INT64_MAX,
                                                      help_text="The same, by their Telegram id")
    include_deleted = QueryBooleanField(required=False, default=False,
                                        help_text="Deleted lists too (the service itself, or global staff)")

    def validate(self, attrs):
        if "group_id" in attrs and "telegram_chat_id" in attrs:
            raise serializers.ValidationError("Give group_id or telegram_chat_id, not both.")
        if "admin_user_id" in attrs and "admin_telegram_user_id" in attrs:
            raise serializers.ValidationError("Give admin_user_id or admin_telegram_user_id, not both.")
        return attrs


class BanListSomeoneSerializer(OptionalActorSerializer):
    user_id = ObjectIdField(required=False, help_text="A core user's id")
    telegram_user_id = TelegramIdField(required=False, help_text="Or their Telegram id")

    schema_rules = (*OptionalActorSerializer.schema_rules, exactly_one_of("user_id", "telegram_user_id"))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if ("user_id" in attrs) == ("telegram_user_id" in attrs):
            raise serializers.ValidationError("Give user_id or telegram_user_id (one of them).")
        return attrs


class BanListGroupSerializer(OptionalActorSerializer):
    group_id = ObjectIdField(required=False)
    telegram_chat_id = TelegramIdField(required=False, help_text="Or the group's Telegram chat id")

    schema_rules = (*OptionalActorSerializer.schema_rules, exactly_one_of("group_id", "telegram_chat_id"))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if ("group_id" in attrs) == ("telegram_chat_id" in attrs):
            raise serializers.ValidationError("Give group_id or telegram_chat_id (one of them).")
        return attrs


class BanListSourceSerializer(OptionalActorSerializer):
    source_id = ObjectIdField(help_text="The list whose bans this one takes on")


_ACTOR_EXAMPLE = {"actor_telegram_user_id": 123456789}


class _ListView(APIView):
    """A view of one list: reads for an acting user need BAN_LIST_VIEW in its scope."""

    acting_user_ban_list_kwarg = "ban_list_id"


# -- the lists

class BanListsApi(APIView):
    acting_user_view_checks = {"GET": VIEW}  # the index answers only what the acting user may view

    @extend_schema(operation_id="banlists_list", parameters=[BanListFilterSerializer],
                   description="The active lists, newest first. With X-Acting-User-ID: only those that user may view "
                               "(BAN_LIST_VIEW in the list's scope; globally: all of them).",
                   responses={200: list_envelope(BanListSerializer), **error_responses(403, 404)})
    def get(self, request):
        query = parse_query(BanListFilterSerializer, request)
        visible = viewable_ban_lists(acting_user_id(request))
        if query["include_deleted"] and visible is not None:
            raise PermissionDeniedError(f"Only global staff see deleted lists ({VIEW} globally)",
                                        details={"permission": VIEW, "reason": "permission_not_granted"})
        group = group_resolve(group_id=query.get("group_id"), telegram_chat_id=query.get("telegram_chat_id"))
        admin = None
        if "admin_user_id" in query or "admin_telegram_user_id" in query:
            admin = user_find(user_id=query.get("admin_user_id"),
                              telegram_user_id=query.get("admin_telegram_user_id"))
            if admin is None:  # someone core does not know holds no role on any list
                visible = set()
        queryset = selectors.ban_list_query(q=query.get("q"), group=group, admin=admin, visible=visible,
                                            include_deleted=query["include_deleted"])
        return Response(_page(queryset, query, selectors.ban_list_rows))

    @extend_schema(operation_id="banlists_create", request=BanListCreateSerializer,
                   description="Creates a list (Rose's /newfed): any known user may, up to BANLIST_MAX_OWNED active "
                               "lists owned (409 conflict beyond; global BAN_LIST_MANAGE: no limit). Its actor owns "
                               "it: banlist_owner in its scope. Audited as banlist.create.",
                   examples=[OpenApiExample("newfed", request_only=True,
                                            value={"name": "Spam watch", **_ACTOR_EXAMPLE})],
                   responses={201: envelope(BanListSerializer), **error_responses(404, 409)})
    def post(self, request):
        data = parse_body(BanListCreateSerializer, request)
        actor = actor_resolve(**_body_actor(data))
        ban_list = services.ban_list_create(name=data["name"], actor=actor)
        return Response(selectors.ban_list_detail(ban_list=ban_list), status=201)


class BanListApi(_ListView):
    schema = RequiredBodySchema()
    acting_user_permissions = {"GET": VIEW, "PATCH": MANAGE}

    @extend_schema(operation_id="banlists_retrieve", responses={200: envelope(BanListSerializer),
                                                                **error_responses(403, 404)})
    def get(self, request, ban_list_id):
        return Response(selectors.ban_list_detail(ban_list=ban_list_get(ban_list_id=ban_list_id)))

    @extend_schema(operation_id="banlists_update", request=BanListUpdateSerializer,
                   description="Renames the list (/renamefed) or sets its log chat (/setfedlog; null: /unsetfedlog). "
                               "BAN_LIST_MANAGE in its scope. Audited as banlist.update.",
                   examples=[OpenApiExample("setfedlog", request_only=True,
                                            value={"log_chat_id": -1001234567890, **_ACTOR_EXAMPLE})],
                   responses={200: envelope(BanListSerializer), **error_responses(403, 404)})
    def patch(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(BanListUpdateSerializer, request))
        actor = list_actor(request, ban_list, data, MANAGE)
        ban_list = services.ban_list_update(ban_list=ban_list, actor=actor, **data)
        return Response(selectors.ban_list_detail(ban_list=ban_list))


class BanListDeleteApi(_ListView):
    acting_user_permissions = {"POST": MANAGE}

    @extend_schema(operation_id="banlists_delete", request=OptionalActorSerializer,
                   description="Deletes the list (/delfed): from then on 404 (the staff's include_deleted aside); its "
                               "groups stop taking its bans, the lists it followed or that followed it are unlinked, "
                               "its pending bans are dropped. BAN_LIST_MANAGE in its scope. Audited as "
                               "banlist.delete.",
                   responses={200: envelope(BanListSerializer), **error_responses(403, 404)})
    def post(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(OptionalActorSerializer, request))
        actor = list_actor(request, ban_list, data, MANAGE)
        ban_list = services.ban_list_delete(ban_list=ban_list, actor=actor)
        return Response(selectors.ban_list_detail(ban_list=ban_list))


# -- admins

class BanListAdminsApi(_ListView):
    schema = RequiredBodySchema()  # one of two fields is required: so is the body
    acting_user_permissions = {"GET": VIEW, "POST": ROLES}

    @extend_schema(operation_id="banlists_admins_list", responses={200: envelope(BanListAdminsSerializer),
                                                                   **error_responses(403, 404)})
    def get(self, request, ban_list_id):
        return Response(selectors.ban_list_admins(ban_list=ban_list_get(ban_list_id=ban_list_id)))

    @extend_schema(operation_id="banlists_admins_add", request=BanListSomeoneSerializer,
                   description="Makes a user an admin of the list (/fedpromote: role banlist_admin in its scope). "
                               "MANAGE_ROLES in its scope and the rank rule (403 rank_violation). Audited as "
                               "banlist.admin_add (and role.assign).",
                   examples=[OpenApiExample("fedpromote", request_only=True,
                                            value={"telegram_user_id": 987654321, **_ACTOR_EXAMPLE})],
                   responses={200: envelope(BanListAdminAddedSerializer), 201: envelope(BanListAdminAddedSerializer),
                              **error_responses(403, 404)})
    def post(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(BanListSomeoneSerializer, request))
        actor = list_actor(request, ban_list, data, ROLES)
        _, created = services.ban_list_admin_add(ban_list=ban_list, actor=actor, **data)
        return Response({**selectors.ban_list_admins(ban_list=ban_list), "created": created},
                        status=201 if created else 200)


class BanListAdminRemoveApi(_ListView):
    schema = RequiredBodySchema()  # one of two fields is required: so is the body
    acting_user_permissions = {"POST": ROLES}

    @extend_schema(operation_id="banlists_admins_remove", request=BanListSomeoneSerializer,
                   description="Takes a user's admin role on the list away (/feddemote). MANAGE_ROLES in its scope "
                               "and the rank rule. The owner stays (400). Audited as banlist.admin_remove (and "
                               "role.revoke).",
                   responses={200: envelope(BanListAdminRemovedSerializer), **error_responses(403, 404)})
    def post(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(BanListSomeoneSerializer, request))
        actor = list_actor(request, ban_list, data, ROLES)
        removed = services.ban_list_admin_remove(ban_list=ban_list, actor=actor, **data)
        return Response({**selectors.ban_list_admins(ban_list=ban_list), "removed": removed})


# -- groups

class BanListSubscriptionsApi(_ListView):
    schema = RequiredBodySchema()  # one of two fields is required: so is the body
    acting_user_permissions = {"GET": VIEW}
    acting_user_view_checks = {"POST": SUBSCRIBE}  # checked in the group the body names

    @extend_schema(operation_id="banlists_subscriptions_list", parameters=[PageQuerySerializer],
                   description="The groups subscribed to the list (/fedchats), oldest first.",
                   responses={200: list_envelope(BanListSubscriptionSerializer),
                              **error_responses(403, 404)})
    def get(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        query = parse_query(PageQuerySerializer, request)
        queryset = selectors.ban_list_subscription_query(ban_list=ban_list)
        return Response(_page(queryset, query, selectors.subscription_rows))

    @extend_schema(operation_id="banlists_subscriptions_add", request=BanListGroupSerializer,
                   description="The group takes the list's bans (/joinfed): BAN_LIST_SUBSCRIBE in the group (its "
                               "owner's, as Rose lets only the chat's creator). Idempotent (200, created false). Its "
                               "bot reloads the lists it enforces; bans are owed to its known members at once. "
                               "Audited as banlist.subscribe.",
                   examples=[OpenApiExample("joinfed", request_only=True,
                                            value={"telegram_chat_id": -1001234567890, **_ACTOR_EXAMPLE})],
                   responses={200: envelope(BanListSubscribedSerializer), 201: envelope(BanListSubscribedSerializer),
                              **error_responses(403, 404)})
    def post(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(BanListGroupSerializer, request))
        group = group_resolve(group_id=data.pop("group_id", None), telegram_chat_id=data.pop("telegram_chat_id", None))
        actor = group_actor(request, group, data)
        subscription, created, written = services.ban_list_subscribe(ban_list=ban_list, group=group, actor=actor)
        body = {"created": created, "subscription": selectors.subscription_rows([subscription])[0],
                "propagations": written}
        return Response(body, status=201 if created else 200)


class BanListSubscriptionRemoveApi(_ListView):
    schema = RequiredBodySchema()  # one of two fields is required: so is the body
    acting_user_view_checks = {"POST": SUBSCRIBE}

    @extend_schema(operation_id="banlists_subscriptions_remove", request=BanListGroupSerializer,
                   description="The group stops taking the list's bans (/leavefed): BAN_LIST_SUBSCRIBE in the group. "
                               "Audited as banlist.unsubscribe.",
                   responses={200: envelope(BanListRemovedSerializer), **error_responses(403, 404)})
    def post(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(BanListGroupSerializer, request))
        group = group_resolve(group_id=data.pop("group_id", None), telegram_chat_id=data.pop("telegram_chat_id", None))
        actor = group_actor(request, group, data)
        return Response({"removed": services.ban_list_unsubscribe(ban_list=ban_list, group=group, actor=actor)})


# -- lists following lists

class BanListFollowsApi(_ListView):
    acting_user_permissions = {"GET": VIEW, "POST": MANAGE}

    @extend_schema(operation_id="banlists_follows_list", responses={200: envelope(BanListFollowsSerializer),
                                                                    **error_responses(403, 404)})
    def get(self, request, ban_list_id):
        return Response(selectors.ban_list_follows(ban_list=ban_list_get(ban_list_id=ban_list_id)))

    @extend_schema(operation_id="banlists_follows_add", request=BanListSourceSerializer,
                   description="The list takes on another list's bans (/subfed): its groups ban whom the source "
                               "bans. BAN_LIST_MANAGE in this list's scope. Itself or a loop: 400. Idempotent. "
                               "Audited as banlist.follow.",
                   responses={200: envelope(BanListFollowedSerializer), 201: envelope(BanListFollowedSerializer),
                              **error_responses(403, 404)})
    def post(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(BanListSourceSerializer, request))
        source = ban_list_get(ban_list_id=data.pop("source_id"))
        actor = list_actor(request, ban_list, data, MANAGE)
        _, created, written = services.ban_list_follow(ban_list=ban_list, source=source, actor=actor)
        body = {"created": created, "source": {"id": str(source.pk), "name": source.name}, "propagations": written}
        return Response(body, status=201 if created else 200)


class BanListFollowRemoveApi(_ListView):
    acting_user_permissions = {"POST": MANAGE}

    @extend_schema(operation_id="banlists_follows_remove", request=BanListSourceSerializer,
                   description="The list stops taking on another list's bans (/unsubfed). BAN_LIST_MANAGE in its "
                               "scope. Audited as banlist.unfollow.",
                   responses={200: envelope(BanListRemovedSerializer), **error_responses(403, 404)})
    def post(self, request, ban_list_id):
        ban_list = ban_list_get(ban_list_id=ban_list_id)
        data = dict(parse_body(BanListSourceSerializer, request))
        source = ban_list_get(ban_list_id=data.pop("source_id"), include_deleted=True)
        actor = list_actor(request, ban_list, data, MANAGE)
        return Response({"removed": services.ban_list_unfollow(ban_list=ban_list, source=source, actor=actor)})

