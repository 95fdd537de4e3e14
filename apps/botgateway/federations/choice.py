"""Which ban list a /fed... command means (the contract's rule):
1. the id given in the command;
2. in a group whose effective lists (subscribed and followed, from the bot's settings cache) are exactly one, that one;
3. otherwise the lists among the group's (or, in private, those the asker holds a role on) where core lets the asker
   do what the command does (one batch check in each list's scope): exactly one -> it; none -> the refusal naming
   the permission; several -> the reply names them and the syntax.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apps.common.error_codes import ErrorCode
from apps.coreclient import CoreError, CoreUnavailable

from ..flows import UNAVAILABLE_REPLY, Actor, Denial, StopCommand, core_call, denial, is_group
from . import texts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chosen:
    id: str
    name: str = ""
    token_used: bool = False  # the optional token read as the list's id (/fban <user> [id] [reason])


def scope(ban_list_id: str) -> dict:
    return {"ban_list_id": ban_list_id}


async def group_lists(context, chat) -> dict[str, str]:
    """The group's effective lists {id: name}, from the bot's settings cache (loaded from core when not cached)."""
    cache = context.bot_data.protection
    settings = cache.get(chat.id)
    if settings is None:
        try:
            settings = await cache.load(context.core, chat.id)
        except CoreUnavailable as exc:
            logger.warning("core unavailable while choosing a ban list", extra={"error": str(exc)})
            raise StopCommand(UNAVAILABLE_REPLY) from exc
        except CoreError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                return {}
            raise
    ids = tuple(getattr(settings, "ban_lists", ()) or ())
    names = getattr(settings, "ban_list_names", {}) or {}
    return {str(item): names.get(item, "") for item in ids}


async def actor_lists(context, actor: Actor) -> dict[str, str]:
    """The lists the asker holds a role on {id: name} (owner or admin), as core lists them."""
    if actor.telegram_user_id is None:
        return {}
    found: dict[str, str] = {}
    page = 1
    while True:
        answer = await core_call(context.core.ban_lists(admin_telegram_user_id=actor.telegram_user_id,
                                                        page=page, limit=100))
        items, total = texts.page_items(answer)
        for item in items:
            found[str(item["id"])] = item.get("name", "")
        if not items or len(found) >= (total or 0) or page >= 10:
            return found
        page += 1


async def allowed(context, actor: Actor, permission: str, ids: list[str]) -> list[str]:
    """The ids among `ids` where core grants the asker `permission` (one batch call)."""
    if not ids:
        return []
    checks = [{"permission": permission, **actor.check_kwargs(), **scope(item)} for item in ids]
    decisions = await core_call(context.core.check_permissions(checks))
    return [item for item, decision in zip(ids, decisions, strict=True) if decision.allowed]


def refused(permission: str, reason: str | None, where: str) -> Denial:
    """Core's refusal in a list's scope, naming the permission (or core's reason when it is about the account); a
    Denial, so a group that answers denials in private (/privatedenials) has this one answered there too."""
    if reason == "user_inactive":
        return Denial(denial(permission, reason).reply)
    return Denial(f"You need the {permission} permission {where} to do that.")


async def require(context, actor: Actor, permission: str, ban_list_id: str) -> None:
    """Core's decision on `permission` in the list's scope; refused: the reply naming the permission."""
    decision = await core_call(context.core.check_permission(permission=permission, **actor.check_kwargs(),
                                                             **scope(ban_list_id)))
    if not decision.allowed:
        raise refused(permission, decision.reason, "in this federation")


async def choose(context, update, actor: Actor, permission: str | None, *, given: str | None = None,
                 token: str | None = None, usage: str = "") -> Chosen:
    """The list the command means (see the module). `token`: an optional word of the command that is read as the
    list's id when it names one of the group's lists or of the asker's (and is left to the reason otherwise)."""
    if given is not None:
        return Chosen(given)
    chat = update.effective_chat
    in_group = is_group(chat)
    if in_group:
        mine = await group_lists(context, chat)
        if token is not None and token in mine:
            return Chosen(token, mine[token], True)
        if token is not None:  # a federation of the asker's that this chat does not take: named, so meant
            own = await actor_lists(context, actor)
            if token in own:
                return Chosen(token, own[token], True)
        if len(mine) == 1:
            ((only, name),) = mine.items()
            return Chosen(only, name)
        if not mine:
            raise StopCommand("This chat hasn't joined any federation. The group's owner can join one with "
                              "/joinfed &lt;fed id&gt;.")
    else:
        mine = await actor_lists(context, actor)
        if token is not None and token in mine:
            return Chosen(token, mine[token], True)
        if not mine:
            raise StopCommand("You don't own or admin any federation. Create one with /newfed &lt;name&gt;, or "
                              f"name the federation: {texts.esc(usage)}")
    # permission None: a command anyone may run (/fedinfo...): every candidate is one.
    usable = list(mine) if permission is None else await allowed(context, actor, permission, list(mine))
    if len(usable) == 1:
        return Chosen(usable[0], mine[usable[0]])
    if not usable:
        where = "this chat's federations" if in_group else "your federations"
        raise refused(permission, None, f"in {where}")
    raise StopCommand(texts.candidates(usage, [{"id": item, "name": mine[item]} for item in usable]))
