"""The catalogue of audited actions: vocabulary on the wire, shared as the error codes are. Core records these (and its
audit API accepts only these as a filter); web offers the same list in its audit filter and form, and both roles'
OpenAPI schemas name them."""

PERMISSION_CHECK = "permission.check"
USER_CREATE = "user.create"
USER_UPDATE = "user.update"
ROLE_CREATE = "role.create"
ROLE_UPDATE = "role.update"
ROLE_ASSIGN = "role.assign"
ROLE_REVOKE = "role.revoke"
GROUP_CREATE = "group.create"
GROUP_UPDATE = "group.update"
GROUP_MIGRATE = "group.migrate"
GROUP_ADMINS_SYNC = "group.admins_sync"
MEMBERSHIP_UPSERT = "membership.upsert"
MODERATION_REQUEST = "moderation.request"
MODERATION_COMPLETE = "moderation.complete"
WARNING_REMOVE = "warning.remove"
WARNINGS_RESET = "warnings.reset"
EVENTS_INGEST = "events.ingest"

ALL_ACTIONS = [
    PERMISSION_CHECK,
    USER_CREATE,
    USER_UPDATE,
    ROLE_CREATE,
    ROLE_UPDATE,
    ROLE_ASSIGN,
    ROLE_REVOKE,
    GROUP_CREATE,
    GROUP_UPDATE,
    GROUP_MIGRATE,
    GROUP_ADMINS_SYNC,
    MEMBERSHIP_UPSERT,
    MODERATION_REQUEST,
    MODERATION_COMPLETE,
    WARNING_REMOVE,
    WARNINGS_RESET,
    EVENTS_INGEST,
]

# Dashboard logins (apps.accounts): every attempt, and every token revocation.
AUTH_LOGIN = "auth.login"
AUTH_TOKEN_REVOKE = "auth.token_revoke"  # noqa: S105 (an action name)
ALL_ACTIONS += [AUTH_LOGIN, AUTH_TOKEN_REVOKE]

# A service's call outside its scope (apps/common/service_scopes.py), refused with 403 service_forbidden.
SERVICE_FORBIDDEN = "service.forbidden"
ALL_ACTIONS += [SERVICE_FORBIDDEN]

# Join verification (apps.challenges): each round's start, every answer, and the rounds whose time ran out.
CHALLENGE_CREATE = "challenge.create"
CHALLENGE_ANSWER = "challenge.answer"
CHALLENGE_EXPIRE = "challenge.expire"
ALL_ACTIONS += [CHALLENGE_CREATE, CHALLENGE_ANSWER, CHALLENGE_EXPIRE]

# Group protection (apps.protection): a settings change (details.changed), raid mode switched on or off.
PROTECTION_UPDATE = "protection.update"
PROTECTION_RAID = "protection.raid"
ALL_ACTIONS += [PROTECTION_UPDATE, PROTECTION_RAID]

# The log channel (apps.logchannel): a post the bot could not make in a group's log chat.
LOG_POST_FAILED = "logchannel.post_failed"
ALL_ACTIONS += [LOG_POST_FAILED]

# Content rules (apps.contentrules): locks changed, blocklist entries added/updated/removed, filters and notes saved
# or removed; one row per call (details: counts and up to 20 of the patterns, triggers or names).
PROTECTION_LOCK = "protection.lock"
PROTECTION_BLOCKLIST = "protection.blocklist"
PROTECTION_FILTER = "protection.filter"
PROTECTION_NOTE = "protection.note"
ALL_ACTIONS += [PROTECTION_LOCK, PROTECTION_BLOCKLIST, PROTECTION_FILTER, PROTECTION_NOTE]

# Ban lists (apps.banlists): a Telegram user put on a list or taken off it, a list's import (one row per import,
# details: counts). target: the ban list.
BANLIST_BAN = "banlist.ban"
BANLIST_UNBAN = "banlist.unban"
BANLIST_IMPORT = "banlist.import"
ALL_ACTIONS += [BANLIST_BAN, BANLIST_UNBAN, BANLIST_IMPORT]

# Ban lists' governance (apps.banlists): a list created, renamed or its log chat set, deleted; an admin added or
# removed; a group subscribed or unsubscribed; a list following another or no longer. target: the ban list.
BANLIST_CREATE = "banlist.create"
BANLIST_UPDATE = "banlist.update"
BANLIST_DELETE = "banlist.delete"
BANLIST_ADMIN_ADD = "banlist.admin_add"
BANLIST_ADMIN_REMOVE = "banlist.admin_remove"
BANLIST_SUBSCRIBE = "banlist.subscribe"
BANLIST_UNSUBSCRIBE = "banlist.unsubscribe"
BANLIST_FOLLOW = "banlist.follow"
BANLIST_UNFOLLOW = "banlist.unfollow"
ALL_ACTIONS += [BANLIST_CREATE, BANLIST_UPDATE, BANLIST_DELETE, BANLIST_ADMIN_ADD, BANLIST_ADMIN_REMOVE,
                BANLIST_SUBSCRIBE, BANLIST_UNSUBSCRIBE, BANLIST_FOLLOW, BANLIST_UNFOLLOW]
