"""The built-in permission catalogue and roles, created by migration (0002) and described in the docs."""

PERMISSIONS = {
    "ADMIN_DASHBOARD": "Open the admin dashboard and platform-wide statistics",
    "VIEW_GROUPS": "See groups, their settings and members",
    "MANAGE_GROUPS": "Change a group's settings",
    "MANAGE_ROLES": "Grant and revoke roles ranked below one's own",
    "MANAGE_ADMINS": "Promote and demote Telegram administrators",
    "BAN_USERS": "Ban and unban members",
    "MUTE_USERS": "Mute and unmute members",
    "KICK_USERS": "Kick members",
    "WARN_USERS": "Warn members and remove warnings",
    "PIN_MESSAGES": "Pin and unpin messages",
    "DELETE_MESSAGES": "Delete and purge messages",
    "VIEW_AUDIT": "Read the audit trail",
    "VIEW_STATS": "Read group statistics",
}

_MODERATION = ["BAN_USERS", "MUTE_USERS", "KICK_USERS", "WARN_USERS", "PIN_MESSAGES", "DELETE_MESSAGES"]

BUILTIN_ROLES = [
    {"name": "owner", "rank": 100, "description": "Owns the group; every permission", "permissions": list(PERMISSIONS)},
    {
        "name": "admin",
        "rank": 80,
        "description": "Runs the group: moderation, roles below admin, settings, audit",
        "permissions": [
            "ADMIN_DASHBOARD", "VIEW_GROUPS", "MANAGE_GROUPS", "MANAGE_ROLES", *_MODERATION, "VIEW_AUDIT", "VIEW_STATS",
        ],
    },
    {
        "name": "moderator",
        "rank": 60,
        "description": "Moderates members and messages",
        "permissions": ["VIEW_GROUPS", *_MODERATION, "VIEW_STATS"],
    },
    {
        "name": "helper",
        "rank": 40,
        "description": "Helps keep order: warnings, mutes, deleting messages",
        "permissions": ["VIEW_GROUPS", "WARN_USERS", "MUTE_USERS", "DELETE_MESSAGES"],
    },
    {"name": "member", "rank": 10, "description": "An ordinary member", "permissions": ["VIEW_GROUPS"]},
]
