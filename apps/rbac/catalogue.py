"""The built-in permission catalogue and roles, installed by a data migration (one per migration tree)."""

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


def install_builtin_catalogue(*, permission_model, role_model, catalogue_version_model) -> None:
    """Creates the permissions and built-in roles that are missing; leaves existing ones as they are.

    Takes the models as arguments so that data migrations can pass their historical models.
    """
    by_code = {}
    for code, description in PERMISSIONS.items():
        by_code[code], _ = permission_model.objects.get_or_create(code=code, defaults={"description": description})
    for spec in BUILTIN_ROLES:
        role, created = role_model.objects.get_or_create(
            name=spec["name"],
            defaults={"rank": spec["rank"], "description": spec["description"], "is_builtin": True},
        )
        if created:
            role.permissions.set([by_code[code] for code in spec["permissions"]])
    if not catalogue_version_model.objects.exists():
        catalogue_version_model.objects.create(version=1)
