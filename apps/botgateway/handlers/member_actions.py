"""What the member-targeted moderation commands do on Telegram, and their table: /ban, /tban, /unban, /kick,
/mute, /tmute, /unmute, /promote, /demote, and Rose's quiet variants of ban, mute and kick: /sban, /smute, /skick
(silent: the command is deleted and the bot says nothing when it worked) and /dban, /dmute, /dkick (by reply: the
replied-to message is deleted too)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from telegram import ChatPermissions

from ..context import BotContext
from ..durations import restriction_end
from ..parsing import Duration

Act = Callable[[BotContext, int, int, int | None], Awaitable[object]]


async def _ban(context, chat_id, user_id, seconds):
    await context.bot.ban_chat_member(chat_id, user_id, until_date=restriction_end(seconds))


async def _unban(context, chat_id, user_id, seconds):
    await context.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)


async def _kick(context, chat_id, user_id, seconds):
    await context.bot.ban_chat_member(chat_id, user_id)
    await context.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)


async def _mute(context, chat_id, user_id, seconds):
    await context.bot.restrict_chat_member(chat_id, user_id, ChatPermissions.no_permissions(),
                                           until_date=restriction_end(seconds))


async def _unmute(context, chat_id, user_id, seconds):
    # Only all-true permissions lift a restriction; the chat's defaults still apply to everyone.
    await context.bot.restrict_chat_member(chat_id, user_id, ChatPermissions.all_permissions())


_MODERATOR_RIGHTS = {"can_delete_messages": True, "can_restrict_members": True, "can_pin_messages": True,
                     "can_invite_users": True, "can_manage_chat": True}


async def _promote(context, chat_id, user_id, seconds):
    await context.bot.promote_chat_member(chat_id, user_id, **_MODERATOR_RIGHTS)


async def _demote(context, chat_id, user_id, seconds):
    await context.bot.promote_chat_member(chat_id, user_id, **dict.fromkeys(_MODERATOR_RIGHTS, False))


SILENT, DELETE = "silent", "delete"
NO_DURATION = "/{name} takes no duration ({{token}} reads as one): {why}"
STAY_OUT = "to keep someone out for a while, /tban (user) 10m [reason]."
SPEAK_LATER = "to silence someone for a while, /tmute (user) 10m [reason]."


@dataclass(frozen=True)
class TargetCommand:
    """A command that acts on one member. `duration` (parsing.Duration): REQUIRED (/tban, /tmute), OPTIONAL (/ban,
    /mute: a duration-like token right after the target is applied, and the reply says for how long) or REFUSED
    (the action is never temporary: such a token is a usage error, `no_duration` says why)."""

    name: str
    action: str
    permission: str
    bot_right: str
    act: Act
    done: str  # the reply; with a duration, `done_for`
    duration: str = Duration.REFUSED
    done_for: str = ""
    no_duration: str = ""
    quiet: str = ""  # "" | SILENT | DELETE (see quiet_variants)

    @property
    def usage(self) -> str:
        duration = {Duration.REQUIRED: " <duration>", Duration.OPTIONAL: " [duration]"}.get(self.duration, "")
        target = "(reply)" if self.quiet == DELETE else "(reply, @username or id)"
        return f"/{self.name} {target}{duration} [reason]"

    @property
    def refused_duration(self) -> str:
        return NO_DURATION.format(name=self.name, why=self.no_duration or f"a {self.action} is never temporary.")


TARGET_COMMANDS = [
    TargetCommand("ban", "ban", "BAN_USERS", "can_restrict_members", _ban, "{target} is banned.",
                  Duration.OPTIONAL, "{target} is banned for {duration}."),
    TargetCommand("tban", "ban", "BAN_USERS", "can_restrict_members", _ban, "{target} is banned for {duration}.",
                  Duration.REQUIRED, "{target} is banned for {duration}."),
    TargetCommand("unban", "unban", "BAN_USERS", "can_restrict_members", _unban, "{target} may come back.",
                  no_duration="it lifts the ban now."),
    TargetCommand("kick", "kick", "KICK_USERS", "can_restrict_members", _kick, "{target} was kicked.",
                  no_duration=f"a kicked member may rejoin at once; {STAY_OUT}"),
    TargetCommand("mute", "mute", "MUTE_USERS", "can_restrict_members", _mute, "{target} is muted.",
                  Duration.OPTIONAL, "{target} is muted for {duration}."),
    TargetCommand("tmute", "mute", "MUTE_USERS", "can_restrict_members", _mute, "{target} is muted for {duration}.",
                  Duration.REQUIRED, "{target} is muted for {duration}."),
    TargetCommand("unmute", "unmute", "MUTE_USERS", "can_restrict_members", _unmute, "{target} may speak again.",
                  no_duration="it lifts the mute now."),
    TargetCommand("promote", "promote", "MANAGE_ADMINS", "can_promote_members", _promote, "{target} is now an admin."),
    TargetCommand("demote", "demote", "MANAGE_ADMINS", "can_promote_members", _demote,
                  "{target} is no longer an admin."),
]


def quiet_variants(command: TargetCommand) -> list[TargetCommand]:
    """Rose's /s<name> (silent: the command message is deleted, nothing said when it worked) and /d<name> (by
    reply: the replied-to message is deleted as well)."""
    return [replace(command, name=f"s{command.name}", quiet=SILENT),
            replace(command, name=f"d{command.name}", quiet=DELETE)]


QUIET_COMMANDS = [variant for command in TARGET_COMMANDS if command.name in ("ban", "mute", "kick")
                  for variant in quiet_variants(command)]
WARN_NO_DURATION = NO_DURATION.format(name="warn", why=f"warnings stay until removed; {SPEAK_LATER}")



# What the warn limit's required action does on Telegram.
LIMIT_ACTS = {"ban": _ban, "kick": _kick, "mute": _mute}
