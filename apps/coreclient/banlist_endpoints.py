"""Core's ban-list endpoints (issue 16: federations), one method each, mixed into Endpoints.

Writes take the actor as `actor_user_id` or `actor_telegram_user_id` (core checks their permission in the list's
scope, or BAN_LIST_SUBSCRIBE in the group for subscriptions); reads may be made for a dashboard user
(`acting_user_id`). Answers stay core's JSON (the bot formats them, web relays them), except `ids`, which the bot's
cache decodes itself.
"""

from .calls import Call, acting, compact, object_id

_ACTOR = frozenset({"actor_user_id", "actor_telegram_user_id"})
IMPORT_SECONDS = 120.0  # the read timeout of an import (100,000 ids take core well under a minute)


def _ban_list(ban_list_id) -> str:
    return object_id(ban_list_id, "ban_list_id")


def _lists(data: dict) -> dict:
    """The versions answer's map (through Call.answer: the async client's _send is a coroutine)."""
    return data["lists"]


class BanListEndpoints:
    def _send(self, call: Call):
        raise NotImplementedError

    def _actor_write(self, endpoint: str, path: str, body: dict, actor: dict, method: str = "POST",
                     acting_user_id: str | None = None, retry: bool = False):
        unknown = set(actor) - _ACTOR
        if unknown:
            raise TypeError(f"{endpoint}() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        return self._send(Call(endpoint, method, path, json=compact({**body, **actor}), retry=retry,
                               headers=acting(acting_user_id)))

    # -- the lists and their governance
    def ban_lists(self, *, acting_user_id: str | None = None, **filters) -> dict:
        """A page of lists {"items": [list], "total", "page", "limit"}; filters: group_id, telegram_chat_id
        (the lists whose bans hold in that group), admin_user_id, admin_telegram_user_id (lists the user holds a
        role on), q (name contains), include_deleted, page, limit (1..200)."""
        return self._send(Call("ban_lists", "GET", "/api/banlists", params=compact(filters), retry=True,
                               headers=acting(acting_user_id)))

    def ban_list_create(self, *, name: str, **actor) -> dict:
        """The new list; its actor becomes its owner (role banlist_owner in its scope)."""
        return self._actor_write("ban_list_create", "/api/banlists", {"name": name}, actor)

    def ban_list_get(self, ban_list_id, *, acting_user_id: str | None = None) -> dict:
        return self._send(Call("ban_list_get", "GET", f"/api/banlists/{_ban_list(ban_list_id)}", retry=True,
                               headers=acting(acting_user_id)))

    def ban_list_update(self, ban_list_id, *, acting_user_id: str | None = None, **fields) -> dict:
        """fields: name, log_chat_id (None is sent as null: unset), plus the actor."""
        actor = {key: fields.pop(key) for key in list(fields) if key in _ACTOR}
        body = {key: value for key, value in fields.items()}
        return self._send(Call("ban_list_update", "PATCH", f"/api/banlists/{_ban_list(ban_list_id)}",
                               json={**body, **compact(actor)}, headers=acting(acting_user_id)))

    def ban_list_delete(self, ban_list_id, *, acting_user_id: str | None = None, **actor) -> dict:
        return self._actor_write("ban_list_delete", f"/api/banlists/{_ban_list(ban_list_id)}/delete", {}, actor,
                                 acting_user_id=acting_user_id, retry=True)

    def ban_list_admins(self, ban_list_id, *, acting_user_id: str | None = None) -> dict:
        """{"owner": user, "admins": [{"user", "role", "granted_at", "granted_by"}]}."""
        return self._send(Call("ban_list_admins", "GET", f"/api/banlists/{_ban_list(ban_list_id)}/admins",
                               retry=True, headers=acting(acting_user_id)))

    def ban_list_admin_add(self, ban_list_id, *, acting_user_id: str | None = None, user_id: str | None = None,
                           telegram_user_id: int | None = None, **actor) -> dict:
        body = {"user_id": user_id, "telegram_user_id": telegram_user_id}
        return self._actor_write("ban_list_admin_add", f"/api/banlists/{_ban_list(ban_list_id)}/admins", body,
                                 actor, acting_user_id=acting_user_id, retry=True)

    def ban_list_admin_remove(self, ban_list_id, *, acting_user_id: str | None = None, user_id: str | None = None,
                              telegram_user_id: int | None = None, **actor) -> dict:
        body = {"user_id": user_id, "telegram_user_id": telegram_user_id}
        return self._actor_write("ban_list_admin_remove", f"/api/banlists/{_ban_list(ban_list_id)}/admins/remove",
                                 body, actor, acting_user_id=acting_user_id, retry=True)

    def ban_list_subscriptions(self, ban_list_id, *, acting_user_id: str | None = None, **query) -> dict:
        """A page of {"group_id", "telegram_chat_id", "title", "subscribed_at", "subscribed_by"}."""
        return self._send(Call("ban_list_subscriptions", "GET",
                               f"/api/banlists/{_ban_list(ban_list_id)}/subscriptions", params=compact(query),
                               retry=True, headers=acting(acting_user_id)))

    def ban_list_subscribe(self, ban_list_id, *, acting_user_id: str | None = None, group_id: str | None = None,
                           telegram_chat_id: int | None = None, **actor) -> dict:
        body = {"group_id": group_id, "telegram_chat_id": telegram_chat_id}
        return self._actor_write("ban_list_subscribe", f"/api/banlists/{_ban_list(ban_list_id)}/subscriptions",
                                 body, actor, acting_user_id=acting_user_id, retry=True)

    def ban_list_unsubscribe(self, ban_list_id, *, acting_user_id: str | None = None, group_id: str | None = None,
                             telegram_chat_id: int | None = None, **actor) -> dict:
        body = {"group_id": group_id, "telegram_chat_id": telegram_chat_id}
        path = f"/api/banlists/{_ban_list(ban_list_id)}/subscriptions/remove"
        return self._actor_write("ban_list_unsubscribe", path, body, actor, acting_user_id=acting_user_id,
                                 retry=True)

    def ban_list_follows(self, ban_list_id, *, acting_user_id: str | None = None) -> dict:
        """{"follows": [{"id", "name"}], "followers": [{"id", "name"}]}."""
        return self._send(Call("ban_list_follows", "GET", f"/api/banlists/{_ban_list(ban_list_id)}/follows",
                               retry=True, headers=acting(acting_user_id)))

    def ban_list_follow(self, ban_list_id, *, source_id, acting_user_id: str | None = None, **actor) -> dict:
        body = {"source_id": object_id(source_id, "source_id")}
        return self._actor_write("ban_list_follow", f"/api/banlists/{_ban_list(ban_list_id)}/follows", body, actor,
                                 acting_user_id=acting_user_id, retry=True)

    def ban_list_unfollow(self, ban_list_id, *, source_id, acting_user_id: str | None = None, **actor) -> dict:
        body = {"source_id": object_id(source_id, "source_id")}
        return self._actor_write("ban_list_unfollow", f"/api/banlists/{_ban_list(ban_list_id)}/follows/remove",
                                 body, actor, acting_user_id=acting_user_id, retry=True)

    # -- bans
    def ban_list_bans(self, ban_list_id, *, acting_user_id: str | None = None, **query) -> dict:
        """A page of bans {"telegram_user_id", "user_id", "name", "reason", "source", "banned_by", "banned_at",
        "active"}; query: telegram_user_id, q, active (default true), page, limit."""
        return self._send(Call("ban_list_bans", "GET", f"/api/banlists/{_ban_list(ban_list_id)}/bans",
                               params=compact(query), retry=True, headers=acting(acting_user_id)))

    def ban_list_ban(self, ban_list_id, *, telegram_user_id: int, reason: str = "",
                     acting_user_id: str | None = None, **actor) -> dict:
        """{"ban": ban, "created": bool (False: already banned, reason updated), "version", "propagation":
        {"groups", "exempt"}}."""
        body = {"telegram_user_id": telegram_user_id, "reason": reason}
        return self._actor_write("ban_list_ban", f"/api/banlists/{_ban_list(ban_list_id)}/bans", body, actor,
                                 acting_user_id=acting_user_id, retry=True)

    def ban_list_unban(self, ban_list_id, *, telegram_user_id: int, reason: str = "",
                       acting_user_id: str | None = None, **actor) -> dict:
        """{"ban": ban|None, "removed": bool, "version", "propagation": {"groups"}}."""
        body = {"telegram_user_id": telegram_user_id, "reason": reason}
        return self._actor_write("ban_list_unban", f"/api/banlists/{_ban_list(ban_list_id)}/bans/remove", body,
                                 actor, acting_user_id=acting_user_id, retry=True)

    def ban_list_history(self, ban_list_id, *, acting_user_id: str | None = None, **filters) -> dict:
        """A page of changes {"id", "kind", "telegram_user_id", "reason", "count", "actor", "source_service",
        "created_at"}, newest first; filters: kind, telegram_user_id, actor_user_id, since, until, page."""
        return self._send(Call("ban_list_history", "GET", f"/api/banlists/{_ban_list(ban_list_id)}/history",
                               params=compact(filters), retry=True, headers=acting(acting_user_id)))

    def ban_list_import(self, ban_list_id, *, format: str, content: str, acting_user_id: str | None = None,
                        **actor) -> dict:
        """A CSV or JSON file's text (see the contract): {"added", "updated", "unchanged", "version"}; any invalid
        row is a validation_error naming the first rows at fault, and nothing is written."""
        unknown = set(actor) - _ACTOR
        if unknown:
            raise TypeError(f"ban_list_import() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        # Core checks and writes up to a million rows in one go: far longer than a caller's usual read timeout.
        return self._send(Call("ban_list_import", "POST", f"/api/banlists/{_ban_list(ban_list_id)}/import",
                               json=compact({"format": format, "content": content, **actor}),
                               headers=acting(acting_user_id), min_read_timeout=IMPORT_SECONDS))

    def _ban_list_export_path(self, ban_list_id, *, format: str = "csv") -> str:
        """The export's path (GET, not enveloped: the file itself), for callers that stream it through."""
        return f"/api/banlists/{_ban_list(ban_list_id)}/export?format={format}"

    def user_ban_lists(self, *, telegram_user_id: int, acting_user_id: str | None = None) -> dict:
        """{"telegram_user_id", "bans": [{"ban_list": {"id", "name"}, "reason", "banned_at", "banned_by"}]}: the
        active lists the user is on (/fedstat, the user's page)."""
        return self._send(Call("user_ban_lists", "GET", "/api/banlists/bans",
                               params={"telegram_user_id": telegram_user_id}, retry=True,
                               headers=acting(acting_user_id)))

    def ban_list_propagation(self, ban_list_id, *, acting_user_id: str | None = None) -> dict:
        """{"pending", "done", "failed", "notify"}: how far the list's bans have reached its groups."""
        return self._send(Call("ban_list_propagation", "GET",
                               f"/api/banlists/{_ban_list(ban_list_id)}/propagation", retry=True,
                               headers=acting(acting_user_id)))

    # -- the bot's cache and its propagation worker
    def ban_list_versions(self, ban_list_ids: list[str]) -> dict:
        """{list id: {"version", "name"}} for the active ones among `ban_list_ids` (at most 100 a call)."""
        return self._send(Call("ban_list_versions", "GET", "/api/banlists/versions",
                               params={"ids": ",".join(_ban_list(value) for value in ban_list_ids)}, retry=True,
                               answer=_lists))

    def ban_list_ids(self, ban_list_id, *, since: int = 0) -> dict:
        """{"version", "full", "banned": [telegram ids], "unbanned": [telegram ids]}: every active ban when
        `since` is 0 (full), else what changed after version `since`."""
        return self._send(Call("ban_list_ids", "GET", f"/api/banlists/{_ban_list(ban_list_id)}/ids",
                               params={"since": since}, retry=True))

    def ban_propagations_claim(self, *, limit: int = 50, lease_seconds: int = 60) -> dict:
        """{"results": [{"id", "ban_list_id", "ban_list_name", "group_id", "telegram_chat_id", "telegram_user_id",
        "action", "reason", "moderation_action_id"}]}: owed bans, unbans and notices, leased to this caller."""
        return self._send(Call("ban_propagations_claim", "POST", "/api/banlists/propagations/claim",
                               json={"limit": limit, "lease_seconds": lease_seconds}))

    def ban_propagations_release(self, propagation_ids: list[str]) -> dict:
        """{"released": int}: gives back claimed propagations not started (a stopping bot), claimable again at once;
        done, failed or unknown ones are left as they are (idempotent)."""
        return self._send(Call("ban_propagations_release", "POST", "/api/banlists/propagations/release",
                               json={"ids": [object_id(value, "propagation_id") for value in propagation_ids]},
                               retry=True))

    def ban_propagation_complete(self, propagation_id, *, error: str | None = None) -> dict:
        """Done (error None) or failed with Telegram's error; completes its moderation record the same way."""
        path = f"/api/banlists/propagations/{object_id(propagation_id, 'propagation_id')}/complete"
        return self._send(Call("ban_propagation_complete", "POST", path, json=compact({"error": error}),
                               retry=True))
