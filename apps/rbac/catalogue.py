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
    "MANAGE_SETTINGS": "Change a group's protection settings",
    "BYPASS_PROTECTION": "Exempt from automated protection (never from manual moderation)",
    # Ban lists (apps.banlists): held in a list's scope (banlist:<pk>) or globally, except BAN_LIST_SUBSCRIBE,
    # which is a group's.
    "BAN_LIST_VIEW": "See a ban list's bans, admins, groups and history; export it",
    "BAN_LIST_BAN": "Ban and unban users on a ban list; import bans",
    "BAN_LIST_MANAGE": "Rename or delete a ban list, set its log chat, make it follow other lists",
    "BAN_LIST_SUBSCRIBE": "Make a group follow a ban list or leave it",
}

# The role /approve grants in a group (apps.protection.services.approval_grant).
APPROVED_ROLE = "approved"
# Permissions added after the first catalogue, with the built-in roles that hold them: existing databases get them
# from a data migration (install_added_permissions), which leaves any other change to those roles alone.
ADDED_PERMISSIONS = ("MANAGE_SETTINGS", "BYPASS_PROTECTION")
# Issue 16's (ban lists), added by their own data migration with the roles banlist_owner and banlist_admin.
BAN_LIST_PERMISSIONS = ("BAN_LIST_VIEW", "BAN_LIST_BAN", "BAN_LIST_MANAGE", "BAN_LIST_SUBSCRIBE")
# The roles of a ban list's scope (apps/rbac/scopes.py): granted only there, and only they are granted there.
BANLIST_OWNER_ROLE = "banlist_owner"
BANLIST_ADMIN_ROLE = "banlist_admin"
BANLIST_ROLE_PREFIX = "banlist_"

_MODERATION = ["BAN_USERS", "MUTE_USERS", "KICK_USERS", "WARN_USERS", "PIN_MESSAGES", "DELETE_MESSAGES"]

BUILTIN_ROLES = [
    {"name": "owner", "rank": 100, "description": "Owns the group; every permission", "permissions": list(PERMISSIONS)},
    {
        "name": "admin",
        "rank": 80,
        "description": "Runs the group: moderation, roles below admin, settings, audit",
        "permissions": [
            "ADMIN_DASHBOARD", "VIEW_GROUPS", "MANAGE_GROUPS", "MANAGE_ROLES", *_MODERATION, "VIEW_AUDIT", "VIEW_STATS",
            "MANAGE_SETTINGS", "BYPASS_PROTECTION", "BAN_LIST_VIEW",
        ],
    },
    {
        "name": "moderator",
        "rank": 60,
        "description": "Moderates members and messages",
        "permissions": ["VIEW_GROUPS", *_MODERATION, "VIEW_STATS", "BYPASS_PROTECTION"],
    },
    {
        "name": "helper",
        "rank": 40,
        "description": "Helps keep order: warnings, mutes, deleting messages",
        "permissions": ["VIEW_GROUPS", "WARN_USERS", "MUTE_USERS", "DELETE_MESSAGES", "BYPASS_PROTECTION"],
    },
    {
        "name": APPROVED_ROLE,
        "rank": 20,
        "description": "Trusted member: exempt from automated protection (/approve)",
        "permissions": ["VIEW_GROUPS", "BYPASS_PROTECTION"],
    },
    {"name": "member", "rank": 10, "description": "An ordinary member", "permissions": ["VIEW_GROUPS"]},
    # Granted in a ban list's scope only (the group's owner holds BAN_LIST_SUBSCRIBE, as Rose's chat creator).
    {
        "name": BANLIST_OWNER_ROLE,
        "rank": 100,
        "description": "Owns a ban list: bans, admins, settings, follows",
        "permissions": ["BAN_LIST_VIEW", "BAN_LIST_BAN", "BAN_LIST_MANAGE", "MANAGE_ROLES"],
    },
    {
        "name": BANLIST_ADMIN_ROLE,
        "rank": 80,
        "description": "Bans and unbans users on a ban list",
        "permissions": ["BAN_LIST_VIEW", "BAN_LIST_BAN"],
    },
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


def install_added_permissions(*, permission_model, role_model, catalogue_version_model,
                              codes=ADDED_PERMISSIONS) -> None:
    """For a database whose catalogue predates `codes`: creates those permissions, gives them to the built-in roles
    the catalogue gives them to, creates the built-in roles that are missing, and bumps the catalogue version
    (cached decisions key on it). Idempotent; takes the models as arguments for data migrations."""
    by_code = {}
    for code in codes:
        by_code[code], _ = permission_model.objects.get_or_create(code=code,
                                                                  defaults={"description": PERMISSIONS[code]})
    for spec in BUILTIN_ROLES:
        role, created = role_model.objects.get_or_create(
            name=spec["name"],
            defaults={"rank": spec["rank"], "description": spec["description"], "is_builtin": True},
        )
        if created:
            role.permissions.set(list(permission_model.objects.filter(code__in=spec["permissions"])))
        elif role.is_builtin:
            role.permissions.add(*(by_code[code] for code in codes if code in spec["permissions"]))
    version = catalogue_version_model.objects.order_by("pk").first()
    if version is None:
        catalogue_version_model.objects.create(version=1)
    else:
        version.version += 1
        version.save(update_fields=["version"])
