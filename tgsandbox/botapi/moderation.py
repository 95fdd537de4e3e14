"""Bot API methods that moderate members: banChatMember, unbanChatMember, restrictChatMember,
setChatPermissions, promoteChatMember, setChatAdministratorCustomTitle, with Telegram's rules for
supergroups and basic groups."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from ..world.model import ADMIN_RIGHTS, MEDIA_PERMISSIONS, PERMISSION_FIELDS, Member
from .checks import bot_can_edit, bot_rights, known_user, parse_user_id, resolve_chat, set_member
from .params import Call


def ban_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    call.world.check_action_rate(call.bot)
    p, world = call.params, call.world
    user_id = parse_user_id(p)
    until_date = p.int("until_date")
    # revoke_messages (always true in supergroups) takes the chat's history from the removed user's view: the sandbox
    # keeps no per-user view of a chat, so the parameter is accepted and changes nothing here.
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    target_user = known_user(call, user_id, "PARTICIPANT_ID_INVALID")
    old = world.member(chat, user_id)
    me = world.member(chat, call.bot.id)
    if chat.type == "group":
        if user_id == call.bot.id:
            raise bad_request("can't restrict self")
        if old.present and old.is_admin:
            raise bad_request("only the creator of a basic group can kick group administrators")
        if not me.is_admin and old.invited_by != call.bot.id:
            raise bad_request("need to be inviter of a user to kick it from a basic group")
        if not old.present:
            raise bad_request("USER_NOT_PARTICIPANT")
        status = "kicked" if target_user.is_bot else "left"
        set_member(call, chat, user_id, Member(user_id=user_id, status=status))
        return True
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if user_id == call.bot.id:
        raise bad_request("can't restrict self")
    if not world.rights_of(chat, me)["can_restrict_members"]:
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    if old.status == "administrator" and not bot_can_edit(call, old):
        raise bad_request("user is an administrator of the chat")
    set_member(call, chat, user_id,
                Member(user_id=user_id, status="kicked", until_date=world.normalize_until(until_date)))
    return True


def unban_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    call.world.check_action_rate(call.bot)
    p, world = call.params, call.world
    user_id = parse_user_id(p)
    if chat.type != "supergroup":
        raise bad_request("method is available for supergroup and channel chats only")
    old = world.member(chat, user_id)
    if p.bool("only_if_banned") and old.status != "kicked":
        return True
    known_user(call, user_id, "PARTICIPANT_ID_INVALID")
    if old.status == "left":
        return True
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if not bot_rights(call, chat)["can_restrict_members"] and user_id != call.bot.id:
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    if old.status == "administrator" and not bot_can_edit(call, old) and user_id != call.bot.id:
        raise bad_request("user is an administrator of the chat")
    # Telegram's well-known trap: unbanning someone who is in the chat removes them from it.
    set_member(call, chat, user_id, Member(user_id=user_id, status="left"))
    return True


def _permissions(call: Call) -> dict[str, bool]:
    p = call.params
    raw = p.json("permissions", "permissions")
    if raw is None:
        raw = {name: p.bool(name) for name in PERMISSION_FIELDS if name in p.data}
    if not isinstance(raw, dict):
        raise bad_request("can't parse permissions JSON object")
    permissions = {name: bool(raw.get(name, False)) for name in PERMISSION_FIELDS}
    if not p.bool("use_independent_chat_permissions"):
        if permissions["can_send_other_messages"] or permissions["can_add_web_page_previews"]:
            permissions["can_send_messages"] = True
            for name in MEDIA_PERMISSIONS:
                permissions[name] = True
        if permissions["can_send_polls"]:
            permissions["can_send_messages"] = True
    return permissions


def restrict_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    call.world.check_action_rate(call.bot)
    p, world = call.params, call.world
    user_id = parse_user_id(p)
    until_date = p.int("until_date")
    permissions = _permissions(call)
    if chat.type != "supergroup":
        raise bad_request("method is available only for supergroups")
    known_user(call, user_id)
    old = world.member(chat, user_id)
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if user_id == call.bot.id:
        raise bad_request("can't restrict self")
    if not bot_rights(call, chat)["can_restrict_members"]:
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    if old.status == "administrator" and not bot_can_edit(call, old):
        raise bad_request("user is an administrator of the chat")
    present = old.present
    if all(permissions.values()):
        new = Member(user_id=user_id, status="member" if present else "left", invited_by=old.invited_by)
    else:
        new = Member(user_id=user_id, status="restricted", is_member=present, permissions=permissions,
                     until_date=world.normalize_until(until_date), invited_by=old.invited_by)
    set_member(call, chat, user_id, new)
    return True


def set_chat_permissions(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    permissions = _permissions(call)
    if chat.type == "private":
        raise bad_request("method is not available for private chats")
    if not bot_rights(call, chat)["can_restrict_members"]:
        raise bad_request("not enough rights to change chat permissions")
    chat.permissions = permissions
    return True


def promote_chat_member(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    p, world = call.params, call.world
    user_id = parse_user_id(p)
    wanted = {name: p.bool(name) for name in ADMIN_RIGHTS}
    is_anonymous = p.bool("is_anonymous")
    if chat.type != "supergroup":
        raise bad_request("method is available for supergroup and channel chats only")
    known_user(call, user_id)
    old = world.member(chat, user_id)
    promoting = any(wanted.values()) or is_anonymous
    if old.status == "creator":
        raise bad_request("can't remove chat owner")
    if user_id == call.bot.id:
        if promoting:
            raise bad_request("can't promote self")
    else:
        mine = bot_rights(call, chat)
        if not mine["can_promote_members"]:
            raise bad_request("not enough rights")
        if old.status == "administrator" and not bot_can_edit(call, old):
            raise bad_request("CHAT_ADMIN_REQUIRED")
        if not old.present:
            raise bad_request("USER_NOT_PARTICIPANT")
        if any(value and not mine.get(right) for right, value in wanted.items()):
            raise bad_request("RIGHT_FORBIDDEN")
    if not promoting:
        new = Member(user_id=user_id, status="member", invited_by=old.invited_by)
    else:
        if any(v for k, v in wanted.items() if k != "can_manage_chat"):
            wanted["can_manage_chat"] = True
        new = Member(user_id=user_id, status="administrator", rights=wanted, is_anonymous=is_anonymous,
                     custom_title=old.custom_title if old.status == "administrator" else None,
                     promoted_by=call.bot.id, invited_by=old.invited_by)
    set_member(call, chat, user_id, new)
    return True


def set_chat_administrator_custom_title(call: Call) -> Any:
    chat = resolve_chat(call, "write")
    p, world = call.params, call.world
    user_id = parse_user_id(p)
    if chat.type != "supergroup":
        raise bad_request("method is available only for supergroups")
    known_user(call, user_id)
    old = world.member(chat, user_id)
    if old.status == "creator":
        raise bad_request("only creator can edit their custom title")
    if old.status != "administrator":
        raise bad_request("user is not an administrator")
    if not bot_can_edit(call, old):
        raise bad_request("not enough rights to change custom title of the user")
    title = p.str("custom_title")
    if len(title) > 16:
        raise bad_request("ADMIN_RANK_INVALID")
    new = old.copy()
    new.custom_title = title or None
    set_member(call, chat, user_id, new)
    return True
