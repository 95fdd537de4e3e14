"""The demo world ``make run`` and ``botchat`` start from.

``seed_demo(world)`` creates (ids are fixed, so scripts can rely on them):

* the bot: token ``SANDBOX_BOT_TOKEN`` (default ``123456:sandbox-token``, the bot role's development
  default, so its user id is 123456) and username ``SANDBOX_BOT_USERNAME`` (default ``sandbox_mod_bot``);
* people: ``@alice`` (owner), ``@bob_mod`` (admin who may restrict and delete), ``@carol``,
  ``@dave`` and ``@spammer``;
* "Sandbox Group" (@sandbox_group, a supergroup) owned by alice with bob as admin, carol, dave and
  spammer as members, and the bot as an administrator with all rights;
* "Basic Group" (a basic group) owned by alice, with carol and the bot as a plain member, to try the
  group/supergroup differences (e.g. ``/upgrade`` it in botchat).

The bot's update queue starts empty (it joined "before" the sandbox started).
"""

from __future__ import annotations

import os
from typing import Any

from .state import ALL_RIGHTS, World

# The bot role's development default (config/settings/bot.py), so both agree without configuration.
DEFAULT_BOT_TOKEN = "123456:sandbox-token"  # noqa: S105 - a fake, local-only token
DEFAULT_BOT_USERNAME = "sandbox_mod_bot"
DEMO_USERS = [
    # (id, first name, last name, username)
    (2000001, "Alice", "Owner", "alice"),
    (2000002, "Bob", "Moderator", "bob_mod"),
    (2000003, "Carol", None, "carol"),
    (2000004, "Dave", None, "dave"),
    (2000005, "Spam", "Bot", "spammer"),
]
MODERATOR_RIGHTS = {"can_restrict_members": True, "can_delete_messages": True, "can_pin_messages": True,
                    "can_invite_users": True}


def seed_demo(world: World, *, token: str | None = None, bot_username: str | None = None,
              bot_name: str = "Sandbox Moderator") -> dict[str, Any]:
    """Fill an empty world with the demo bot, people and groups; returns a summary."""
    token = token or os.environ.get("SANDBOX_BOT_TOKEN") or DEFAULT_BOT_TOKEN
    bot_username = bot_username or os.environ.get("SANDBOX_BOT_USERNAME") or DEFAULT_BOT_USERNAME
    with world.lock:
        bot = world.create_bot(token, bot_username, bot_name)
        users = {}
        for user_id, first, last, username in DEMO_USERS:
            users[username] = world.create_user(first, last_name=last, username=username, user_id=user_id)
        group = world.create_chat("Sandbox Group", users["alice"], type="supergroup", username="sandbox_group",
                                  members=[users["bob_mod"], users["carol"], users["dave"], users["spammer"]],
                                  description="A supergroup to try the moderation bot in.")
        world.promote(group, users["bob_mod"], rights=MODERATOR_RIGHTS)
        world.add_member(group, bot, by=users["alice"], status="administrator", rights=dict(ALL_RIGHTS))
        basic = world.create_chat("Basic Group", users["alice"], type="group", members=[users["carol"]])
        world.add_member(basic, bot, by=users["alice"])
        bot.updates.clear()  # the bot joined "earlier": it starts with an empty queue
        return {
            "bot": {"token": token, **bot.user.to_dict()},
            "users": {name: user.to_dict() for name, user in users.items()},
            "chats": {"supergroup": group.short_dict(world), "group": basic.short_dict(world)},
        }
