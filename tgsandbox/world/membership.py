"""Groups and who is in them: creating chats, joining, leaving, bans, promotions, restrictions, upgrades.

These are the control operations of simulated *people* (the owner promotes someone, a user leaves);
each emits the ``my_chat_member`` / ``chat_member`` updates and service messages Telegram would.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import SandboxError
from .model import (
    ADMIN_RIGHTS,
    ALL_RIGHTS,
    BASIC_GROUP_ADMIN_RIGHTS,
    CHANNEL_RIGHTS,
    PERMISSION_FIELDS,
    Chat,
    Member,
    User,
)


class Membership:
    """Mixin of :class:`~tgsandbox.world.World`: chats, members, their rights and permissions."""

    def rights_of(self, chat: Chat, member: Member) -> dict[str, bool]:
        names = ADMIN_RIGHTS + CHANNEL_RIGHTS if chat.type == "channel" else ADMIN_RIGHTS
        if member.status == "creator":
            return dict.fromkeys(names, True)
        if member.status == "administrator":
            if chat.type == "group":
                return dict(BASIC_GROUP_ADMIN_RIGHTS)
            return {right: bool(member.rights.get(right)) for right in names}
        return dict.fromkeys(names, False)

    def permissions_of(self, chat: Chat, member: Member) -> dict[str, bool]:
        """What a member may do as a participant (admins: everything)."""
        if member.is_admin:
            return dict.fromkeys(PERMISSION_FIELDS, True)
        if member.status == "restricted":
            return {name: bool(member.permissions.get(name)) and chat.permissions.get(name, True)
                    for name in PERMISSION_FIELDS}
        return dict(chat.permissions)

    def _member_changed(self, chat: Chat, user_id: int, old: Member, new: Member, actor_id: int) -> None:
        """my_chat_member to a bot whose own status changed; chat_member to admin bots for anyone else."""
        if old.status == new.status and old == new:
            return
        for bot in self.chat_bots(chat):
            if bot.id == user_id:
                kind = "my_chat_member"
            elif self.member(chat, bot.id).is_admin:
                kind = "chat_member"
            else:
                continue
            self.emit(bot, kind, {
                "chat": chat.short_dict(self),
                "from": self.user_dict(actor_id),
                "date": self.now(),
                "old_chat_member": self.member_dict(chat, old, bot),
                "new_chat_member": self.member_dict(chat, new, bot),
            })


    def create_chat(self, title: str, owner: Any, *, type: str = "supergroup", username: str | None = None,
                    members: Iterable[Any] = (), description: str | None = None,
                    permissions: dict[str, bool] | None = None, chat_id: int | None = None) -> Chat:
        """A group or supergroup created by ``owner``; ``members`` join right away (as plain members). ``chat_id``:
        a fixed id (the demo world's), else the next of its kind."""
        if type not in ("group", "supergroup", "channel"):
            raise SandboxError("type must be 'group', 'supergroup' or 'channel'")
        with self.lock:
            owner_user = self.user(owner)
            if type == "group" and username:
                raise SandboxError("basic groups cannot have a username")
            if chat_id is None:
                chat_id = self._next_chat_id(type)
            elif chat_id in self.chats or chat_id >= 0:
                raise SandboxError(f"chat id {chat_id} is taken or not a group's")
            chat = Chat(id=chat_id, type=type, title=title, username=username, description=description)
            if permissions:
                chat.permissions.update(permissions)
            chat.members[owner_user.id] = Member(user_id=owner_user.id, status="creator")
            self.chats[chat_id] = chat
            created = {"group": "group_chat_created", "supergroup": "supergroup_chat_created",
                       "channel": "channel_chat_created"}[type]
            self.add_message(chat, from_id=owner_user.id, service={created: True})
            for ref in members:
                self.add_member(chat, ref, by=owner_user)
            return chat

    def _next_chat_id(self, type: str) -> int:
        """The next free id of a group or supergroup (a chat created with a fixed id may hold the next one)."""
        ids = self._group_ids if type == "group" else self._supergroup_ids  # channels share the -100... ids
        chat_id = -next(ids)
        while chat_id in self.chats:
            chat_id = -next(ids)
        return chat_id

    def add_member(self, chat: Any, user: Any, *, by: Any = None, status: str = "member",
                   rights: dict[str, bool] | None = None, custom_title: str | None = None,
                   is_anonymous: bool = False) -> Member:
        """``user`` joins (``by`` = None) or is added by ``by``. Bots may be added straight as admins."""
        with self.lock:
            chat = self.chat(chat)
            target = self.user(user)
            actor = self.user(by) if by is not None else target
            old = self.member(chat, target.id).copy()
            if old.present:
                raise SandboxError(f"{target.label} is already in {chat.title}")
            if old.status == "kicked":  # a ban stops joining by link or being added, until an admin lifts it
                if actor.id == target.id:
                    raise SandboxError(f"{target.label} is banned in {chat.title}", 403)
                if not self.member(chat, actor.id).is_admin:
                    raise SandboxError(f"{target.label} is banned; only an admin can add them back", 403)
            if status not in ("member", "administrator"):
                raise SandboxError("status must be member or administrator")
            if by is not None and actor.id != target.id and not self.member(chat, actor.id).present:
                raise SandboxError(f"{actor.label} is not in {chat.title}")
            new = Member(user_id=target.id, status="member", invited_by=actor.id if actor.id != target.id else None)
            if old.status == "restricted" and status == "member":
                # A restriction outlives leaving: who comes back is a restricted member again (Telegram keeps it).
                new = old.copy()
                new.is_member = True
                new.invited_by = actor.id if actor.id != target.id else None
            if status == "administrator":
                if chat.type != "group" and not self.rights_of(chat, self.member(chat, actor.id)).get(
                        "can_promote_members") and actor.id != target.id:
                    raise SandboxError(f"{actor.label} cannot appoint admins")
                new.status = "administrator"
                names = ADMIN_RIGHTS + CHANNEL_RIGHTS if chat.type == "channel" else ADMIN_RIGHTS
                new.rights = _rights_with_manage({**dict.fromkeys(names, False),
                                                  **(rights or dict.fromkeys(names, True))})
                new.promoted_by = actor.id
                new.custom_title = custom_title
                new.is_anonymous = is_anonymous
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            if chat.type != "channel":  # a channel posts no join notices
                self._service(chat, actor.id, new_chat_members=[target.id])
            return new

    def remove_member(self, chat: Any, user: Any, *, by: Any = None, ban: bool = False,
                      until_date: int = 0) -> Member:
        """``user`` leaves (``by`` = None), or an admin removes/bans them from the chat."""
        with self.lock:
            chat = self.chat(chat)
            target = self.user(user)
            actor = self.user(by) if by is not None else target
            old = self.member(chat, target.id).copy()
            if actor.id != target.id:
                actor_member = self.member(chat, actor.id)
                if not (actor_member.status == "creator" or self.rights_of(chat, actor_member)["can_restrict_members"]):
                    raise SandboxError(f"{actor.label} cannot remove members of {chat.title}")
                if old.status == "creator":
                    raise SandboxError("can't remove chat owner")
            elif old.status == "creator":
                raise SandboxError("the owner cannot leave in the sandbox (transfer ownership first)")
            if not old.present and not ban:
                raise SandboxError(f"{target.label} is not in {chat.title}")
            kicked = ban or (target.is_bot and actor.id != target.id and chat.type == "group")
            if kicked and chat.type == "supergroup":
                new = Member(user_id=target.id, status="kicked", until_date=self.normalize_until(until_date))
            elif kicked and target.is_bot:
                new = Member(user_id=target.id, status="kicked")
            elif old.status == "restricted":
                new = old.copy()  # leaving keeps a restriction: "restricted", is_member false
                new.is_member = False
            else:
                new = Member(user_id=target.id, status="left")
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            if old.present and chat.type != "channel":
                self._service(chat, actor.id, left_chat_member=target.id)
            return new

    def unban_member(self, chat: Any, user: Any, *, by: Any = None) -> Member:
        """An admin (default: the owner) lifts ``user``'s ban, as in the group's "Removed users" list: they may join
        again (they are not added back). Who is not banned stays as they are."""
        with self.lock:
            chat = self.chat(chat)
            if chat.type not in ("supergroup", "channel"):
                raise SandboxError("only supergroups and channels keep a list of banned users")
            target = self.user(user)
            actor = self.user(by) if by is not None else self._owner(chat)
            actor_member = self.member(chat, actor.id)
            if not (actor_member.status == "creator" or self.rights_of(chat, actor_member)["can_restrict_members"]):
                raise SandboxError(f"{actor.label} cannot unban members of {chat.title}")
            old = self.member(chat, target.id).copy()
            if old.status != "kicked":
                return old
            new = Member(user_id=target.id, status="left")
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            return new

    def promote(self, chat: Any, user: Any, *, by: Any = None, rights: dict[str, bool] | None = None,
                custom_title: str | None = None, is_anonymous: bool = False) -> Member:
        """An owner/admin (default: the owner) makes ``user`` an administrator; ``rights`` = {} demotes."""
        with self.lock:
            chat = self.chat(chat)
            target = self.user(user)
            actor = self.user(by) if by is not None else self._owner(chat)
            actor_member = self.member(chat, actor.id)
            if not (actor_member.status == "creator" or
                    (chat.type == "supergroup" and self.rights_of(chat, actor_member)["can_promote_members"])):
                raise SandboxError(f"{actor.label} cannot promote members of {chat.title}")
            old = self.member(chat, target.id).copy()
            if old.status == "creator":
                raise SandboxError("the owner is already an admin")
            if not old.present:
                raise SandboxError(f"{target.label} is not in {chat.title}")
            if rights is not None and not any(rights.values()) and not is_anonymous:
                new = Member(user_id=target.id, status="member", invited_by=old.invited_by)
            else:
                granted = {**dict.fromkeys(ADMIN_RIGHTS, False), **(ALL_RIGHTS if rights is None else rights)}
                new = Member(user_id=target.id, status="administrator", rights=_rights_with_manage(granted),
                             is_anonymous=is_anonymous, custom_title=custom_title, promoted_by=actor.id,
                             invited_by=old.invited_by)
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            return new

    def restrict(self, chat: Any, user: Any, *, by: Any = None, permissions: dict[str, bool] | None = None,
                 until_date: int = 0) -> Member:
        """An admin restricts ``user`` in a supergroup (``permissions`` default: read-only)."""
        with self.lock:
            chat = self.chat(chat)
            if chat.type != "supergroup":
                raise SandboxError("restrictions exist only in supergroups")
            target = self.user(user)
            actor = self.user(by) if by is not None else self._owner(chat)
            if not self.rights_of(chat, self.member(chat, actor.id))["can_restrict_members"]:
                raise SandboxError(f"{actor.label} cannot restrict members")
            old = self.member(chat, target.id).copy()
            if old.is_admin:
                raise SandboxError("user is an administrator of the chat")
            new = Member(user_id=target.id, status="restricted", is_member=old.present,
                         permissions={**dict.fromkeys(PERMISSION_FIELDS, False), **(permissions or {})},
                         until_date=self.normalize_until(until_date))
            chat.members[target.id] = new
            self._member_changed(chat, target.id, old, new, actor.id)
            return new

    def _owner(self, chat: Chat) -> User:
        for member in chat.members.values():
            if member.status == "creator":
                return self.users[member.user_id]
        raise SandboxError(f"{chat.title} has no owner")

    def set_chat_permissions(self, chat: Any, permissions: dict[str, bool]) -> dict[str, bool]:
        with self.lock:
            chat = self.chat(chat)
            chat.permissions.update({k: bool(v) for k, v in permissions.items() if k in PERMISSION_FIELDS})
            return dict(chat.permissions)


    def upgrade_group(self, chat: Any, *, by: Any = None) -> Chat:
        """Upgrade a basic group to a supergroup: a new chat id (-100...), members and admins carried over.

        Telegram posts ``migrate_to_chat_id`` in the old group and ``migrate_from_chat_id`` in the new
        one; after that the old id answers writes with ``group chat was upgraded to a supergroup chat``.
        """
        with self.lock:
            old_chat = self.chat(chat)
            if old_chat.type != "group":
                raise SandboxError("only basic groups can be upgraded")
            if old_chat.migrated_to:
                raise SandboxError("this group was upgraded already")
            actor = self.user(by) if by is not None else self._owner(old_chat)
            if self.member(old_chat, actor.id).status != "creator":
                raise SandboxError("only the owner can upgrade the group")
            new_chat = Chat(id=self._next_chat_id("supergroup"), type="supergroup", title=old_chat.title,
                            description=old_chat.description, permissions=dict(old_chat.permissions),
                            migrated_from=old_chat.id)
            for user_id, member in old_chat.members.items():
                moved = member.copy()
                if moved.status == "administrator":
                    moved.rights = dict(BASIC_GROUP_ADMIN_RIGHTS)
                    moved.promoted_by = moved.promoted_by or self._owner(old_chat).id
                new_chat.members[user_id] = moved
            self.chats[new_chat.id] = new_chat
            old_chat.migrated_to = new_chat.id
            self._service(old_chat, actor.id, migrate_to_chat_id=new_chat.id)
            # Telegram's migrate_from message comes from the upgrading user, in the new supergroup.
            self._service(new_chat, actor.id, migrate_from_chat_id=old_chat.id)
            return new_chat



def _rights_with_manage(rights: dict[str, bool]) -> dict[str, bool]:
    """can_manage_chat is implied by any other administrator privilege."""
    rights = {k: bool(v) for k, v in rights.items() if k in ADMIN_RIGHTS + CHANNEL_RIGHTS}
    if any(v for k, v in rights.items() if k != "can_manage_chat"):
        rights["can_manage_chat"] = True
    return rights
