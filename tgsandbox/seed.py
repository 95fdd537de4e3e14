"""The demo world ``make run`` and ``botchat`` start from: the one core's ``manage.py seed_demo`` loads too
(apps/common/demo_world.py), with the same people, Telegram ids, @usernames and groups.

``seed_demo(world)`` creates:

* the bot: token ``SANDBOX_BOT_TOKEN`` (default ``123456:sandbox-token``, the bot role's development
  default, so its user id is 123456) and username ``SANDBOX_BOT_USERNAME`` (default ``sandbox_mod_bot``);
* people: ``@alice`` (owner), ``@bob_mod`` (admin who may restrict and delete; in core also a platform-wide
  admin, so ``/admin_dashboard`` works for him), ``@carol`` (a moderator in core), ``@dave`` and ``@spammer``
  (ids 2000001..2000005);
* "Sandbox Group" (@sandbox_group, supergroup -1002000000001) owned by alice with bob as admin, carol, dave and
  spammer as members, and the bot as an administrator with all rights;
* "Basic Group" (basic group -4000000001) owned by alice, with carol and the bot as a plain member, to try the
  group/supergroup differences (e.g. ``/upgrade`` it in botchat);
* with ``history`` (the default), what everyone said before the first command (``demo_world.HISTORY``), so a
  command can reply to one of the spammer's messages.

The bot's update queue starts empty (it joined, and everyone spoke, "before" the sandbox started).
"""

from __future__ import annotations

import os
from typing import Any

from apps.common import demo_world

from .world import World
from .world.model import ALL_RIGHTS

DEFAULT_BOT_TOKEN = demo_world.BOT_TOKEN
DEFAULT_BOT_USERNAME = demo_world.BOT_USERNAME
DEMO_USERS = [
    # (id, first name, last name, username)
    (person.telegram_id, person.first_name, person.last_name, person.telegram_username)
    for person in demo_world.PEOPLE
]
MODERATOR_RIGHTS = {"can_restrict_members": True, "can_delete_messages": True, "can_pin_messages": True,
                    "can_invite_users": True}


def seed_demo(world: World, *, token: str | None = None, bot_username: str | None = None,
              bot_name: str = demo_world.BOT_NAME, history: bool = True) -> dict[str, Any]:
    """Fill an empty world with the demo bot, people and groups; returns a summary."""
    token = token or os.environ.get("SANDBOX_BOT_TOKEN") or DEFAULT_BOT_TOKEN
    bot_username = bot_username or os.environ.get("SANDBOX_BOT_USERNAME") or DEFAULT_BOT_USERNAME
    with world.lock:
        bot = world.create_bot(token, bot_username, bot_name)
        users = {person.login: world.create_user(person.first_name, last_name=person.last_name,
                                                 username=person.telegram_username, user_id=person.telegram_id)
                 for person in demo_world.PEOPLE}
        chats = {}
        for group in demo_world.GROUPS:
            chat = world.create_chat(group.title, users[group.owner], type=group.type, username=group.username,
                                     members=[users[login] for login in (*group.admins, *group.members)],
                                     description=group.description, chat_id=group.telegram_chat_id)
            for login in group.admins:
                world.promote(chat, users[login], rights=MODERATOR_RIGHTS)
            if group.type == "supergroup":
                world.add_member(chat, bot, by=users[group.owner], status="administrator", rights=dict(ALL_RIGHTS))
            else:
                world.add_member(chat, bot, by=users[group.owner])
            chats[group.title] = chat
        if history:
            for title, login, text in demo_world.HISTORY:
                world.send_message(chats[title], users[login], text)
        bot.updates.clear()  # the bot joined "earlier": it starts with an empty queue
        group, basic = (chats[group.title] for group in demo_world.GROUPS)
        return {
            "bot": {"token": token, **bot.user.to_dict()},
            "users": {user.username: user.to_dict() for user in users.values()},
            "chats": {"supergroup": group.short_dict(world), "group": basic.short_dict(world)},
        }
