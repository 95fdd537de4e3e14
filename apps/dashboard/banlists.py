"""Ban lists (federations): web's side, relaying core. Reads are made for the signed-in user (acting_user_id: core
checks BAN_LIST_VIEW in the list's scope, or shows only the lists they may view); writes go to core with the user as
the actor (actor_user_id: core checks BAN_LIST_BAN, BAN_LIST_MANAGE, MANAGE_ROLES in the list's scope, or
BAN_LIST_SUBSCRIBE in the group). Core's refusals pass through: a 403 names the permission, a 400 its faults."""

from collections.abc import Iterator

from apps.common import banlist_shapes
from apps.common.errors import ErrorCode
from apps.coreclient import CoreError, ids

from .core import core
from .services import _denied
from .tokens import DashboardUser

BAN_LIST_VIEW = "BAN_LIST_VIEW"
BAN_LIST_BAN = "BAN_LIST_BAN"
BAN_LIST_MANAGE = "BAN_LIST_MANAGE"
BAN_LIST_SUBSCRIBE = "BAN_LIST_SUBSCRIBE"
EXPORT_FORMATS = ("csv", "json")
IMPORT_FORMATS = ("csv", "json")
CHANGE_KINDS = banlist_shapes.CHANGE_KINDS  # a change's kinds: the shape of core's history states them


def _refusal(exc: CoreError) -> Exception:
    """Core's 403 permission_denied in web's words, naming the permission core named; any other error as it is."""
    details = exc.details if isinstance(exc.details, dict) else {}
    permission = details.get("permission")
    if exc.status_code == 403 and exc.code == ErrorCode.PERMISSION_DENIED and isinstance(permission, str):
        return _denied(permission, details.get("reason") or exc.message)
    return exc


def _call(method, *args, **kwargs):
    try:
        return method(*args, **kwargs)
    except CoreError as exc:
        raise _refusal(exc) from None


def _list_id(ban_list_id) -> str:
    return ids.store_id(ban_list_id, name="ban_list_id")


def web_page(answer: dict, *, page: int, limit: int) -> dict:
    """Core's page as web's {"items", "total", "page", "limit"} (the same shape)."""
    return {"items": answer["items"], "total": answer["total"], "page": answer.get("page", page),
            "limit": answer.get("limit", limit)}


# -- the lists


def lists(user: DashboardUser, *, page: int = 1, limit: int = 20, **filters) -> dict:
    """The lists the user may view (all of them with BAN_LIST_VIEW globally), as a web page."""
    answer = _call(core().ban_lists, acting_user_id=user.id, page=page, limit=limit, **filters)
    return web_page(answer, page=page, limit=limit)


def create(user: DashboardUser, *, name: str) -> dict:
    """Any known user may create one (up to core's limit of lists owned); they become its owner."""
    return _call(core().ban_list_create, name=name, actor_user_id=user.id)


def get(user: DashboardUser, ban_list_id) -> dict:
    return _call(core().ban_list_get, _list_id(ban_list_id), acting_user_id=user.id)


def update(user: DashboardUser, ban_list_id, **fields) -> dict:
    """fields: name, log_chat_id (None unsets it). BAN_LIST_MANAGE."""
    return _call(core().ban_list_update, _list_id(ban_list_id), actor_user_id=user.id, **fields)


def delete(user: DashboardUser, ban_list_id) -> dict:
    return _call(core().ban_list_delete, _list_id(ban_list_id), actor_user_id=user.id)


# -- governance


def admins(user: DashboardUser, ban_list_id) -> dict:
    return _call(core().ban_list_admins, _list_id(ban_list_id), acting_user_id=user.id)


def _someone(user_id, telegram_user_id) -> dict:
    if user_id is not None:
        return {"user_id": ids.store_id(user_id, name="user_id")}
    return {"telegram_user_id": telegram_user_id}


def admin_add(user: DashboardUser, ban_list_id, *, user_id=None, telegram_user_id=None) -> dict:
    """Promotes a user to banlist_admin (core: MANAGE_ROLES in the list's scope and the rank rule)."""
    return _call(core().ban_list_admin_add, _list_id(ban_list_id), actor_user_id=user.id,
                 **_someone(user_id, telegram_user_id))


def admin_remove(user: DashboardUser, ban_list_id, *, user_id=None, telegram_user_id=None) -> dict:
    return _call(core().ban_list_admin_remove, _list_id(ban_list_id), actor_user_id=user.id,
                 **_someone(user_id, telegram_user_id))


def subscriptions(user: DashboardUser, ban_list_id, *, page: int = 1, limit: int = 20) -> dict:
    answer = _call(core().ban_list_subscriptions, _list_id(ban_list_id), acting_user_id=user.id, page=page,
                   limit=limit)
    return web_page(answer, page=page, limit=limit)


def _group(group_id, telegram_chat_id) -> dict:
    if group_id is not None:
        return {"group_id": ids.store_id(group_id, name="group_id")}
    return {"telegram_chat_id": telegram_chat_id}


def subscribe(user: DashboardUser, ban_list_id, *, group_id=None, telegram_chat_id=None) -> dict:
    """Core checks BAN_LIST_SUBSCRIBE in the group (only its owner holds it, as in Rose)."""
    return _call(core().ban_list_subscribe, _list_id(ban_list_id), actor_user_id=user.id,
                 **_group(group_id, telegram_chat_id))


def unsubscribe(user: DashboardUser, ban_list_id, *, group_id=None, telegram_chat_id=None) -> dict:
    return _call(core().ban_list_unsubscribe, _list_id(ban_list_id), actor_user_id=user.id,
                 **_group(group_id, telegram_chat_id))


def follows(user: DashboardUser, ban_list_id) -> dict:
    return _call(core().ban_list_follows, _list_id(ban_list_id), acting_user_id=user.id)


def follow(user: DashboardUser, ban_list_id, *, source_id) -> dict:
    return _call(core().ban_list_follow, _list_id(ban_list_id), source_id=source_id, actor_user_id=user.id)


def unfollow(user: DashboardUser, ban_list_id, *, source_id) -> dict:
    return _call(core().ban_list_unfollow, _list_id(ban_list_id), source_id=source_id, actor_user_id=user.id)


# -- bans


def bans(user: DashboardUser, ban_list_id, *, page: int = 1, limit: int = 20, **query) -> dict:
    """query: telegram_user_id, q, active (core's default: true)."""
    answer = _call(core().ban_list_bans, _list_id(ban_list_id), acting_user_id=user.id, page=page, limit=limit,
                   **query)
    return web_page(answer, page=page, limit=limit)


def ban(user: DashboardUser, ban_list_id, *, telegram_user_id: int, reason: str = "") -> dict:
    return _call(core().ban_list_ban, _list_id(ban_list_id), telegram_user_id=telegram_user_id, reason=reason,
                 actor_user_id=user.id)


def unban(user: DashboardUser, ban_list_id, *, telegram_user_id: int, reason: str = "") -> dict:
    return _call(core().ban_list_unban, _list_id(ban_list_id), telegram_user_id=telegram_user_id, reason=reason,
                 actor_user_id=user.id)


def history(user: DashboardUser, ban_list_id, *, page: int = 1, limit: int = 20, **filters) -> dict:
    """filters: kind, telegram_user_id, actor_user_id, since, until; newest first."""
    answer = _call(core().ban_list_history, _list_id(ban_list_id), acting_user_id=user.id, page=page, limit=limit,
                   **filters)
    return web_page(answer, page=page, limit=limit)


def import_file(user: DashboardUser, ban_list_id, *, format: str, content: str) -> dict:
    """All the rows or none: core's 400 validation_error names the first rows at fault."""
    return _call(core().ban_list_import, _list_id(ban_list_id), format=format, content=content,
                 actor_user_id=user.id)


def export(user: DashboardUser, ban_list_id, *, format: str = "csv") -> tuple[str, str, Iterator[bytes]]:
    """(file name, content type, chunks) of the list's export, streamed from core as it sends it."""
    list_id = _list_id(ban_list_id)
    chunks = _call(core().ban_list_export, list_id, format=format, acting_user_id=user.id)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    return f"banlist-{list_id}.{format}", media, chunks


def propagation(user: DashboardUser, ban_list_id) -> dict:
    return _call(core().ban_list_propagation, _list_id(ban_list_id), acting_user_id=user.id)


def user_bans(user: DashboardUser, *, telegram_user_id: int) -> dict:
    """The lists (of those the user may view) a Telegram user is on: {"telegram_user_id", "bans": [...]}."""
    return _call(core().user_ban_lists, telegram_user_id=telegram_user_id, acting_user_id=user.id)
