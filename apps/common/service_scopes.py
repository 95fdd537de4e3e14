"""What each service may call in core: its scope, declared here as data.

An endpoint is one route of core's URL conf (its name in apps/*/urls.py) and one HTTP method, named below as
`<area>.<action>`. A scope is a set of endpoints. The bot and web have least-privilege scopes by default (BOT, WEB:
what apps/botgateway and apps/dashboard call through apps/coreclient; tests/common/test_service_scopes.py fails when
either calls outside its scope). Any other service gets the scope `SERVICE_SCOPE_<NAME>` configures for it (read in
config/settings/core.py): endpoint names, group names (an area such as `audit`; `read`; `bot`; `web`) or `*`, comma
separated. A service with no configured scope has full access, as it had before scopes existed. An out-of-scope call
answers 403 `service_forbidden` and is on the audit trail (apps/accounts/permissions.py, ServiceScopePermission).

This module is read by the settings, so it imports nothing of Django's but its configuration error.
"""

from collections.abc import Iterable, Mapping

from django.core.exceptions import ImproperlyConfigured

FULL_ACCESS = "*"

# Every endpoint a service can call, by area. (route name, HTTP method); HEAD counts as GET.
ENDPOINTS: dict[str, tuple[str, str]] = {
    # apps/users
    "users.list": ("users", "GET"),
    "users.create": ("users", "POST"),
    "users.get": ("user-detail", "GET"),
    "users.update": ("user-detail", "PATCH"),
    # apps/groups
    "groups.list": ("groups", "GET"),
    "groups.register": ("groups", "POST"),
    "groups.by_chat": ("group-by-chat", "GET"),
    "groups.get": ("group-detail", "GET"),
    "groups.update": ("group-detail", "PATCH"),
    "groups.migrate": ("group-migrate", "POST"),
    "groups.admins_sync": ("group-admins-sync", "POST"),
    "groups.anonymous_admin": ("group-anon-admin", "GET"),
    "members.list": ("group-members", "GET"),
    "members.set": ("group-members", "POST"),
    "members.get": ("group-member", "GET"),
    "members.update": ("group-member", "PATCH"),
    # apps/rbac
    "permissions.catalogue": ("rbac-permissions", "GET"),
    "permissions.check": ("rbac-check", "POST"),
    "permissions.check_batch": ("rbac-check-batch", "POST"),
    "roles.list": ("rbac-roles", "GET"),
    "roles.create": ("rbac-roles", "POST"),
    "roles.get": ("rbac-role-detail", "GET"),
    "roles.update": ("rbac-role-detail", "PATCH"),
    "assignments.list": ("rbac-assignments", "GET"),
    "assignments.create": ("rbac-assignments", "POST"),
    "assignments.revoke": ("rbac-revoke", "POST"),
    "stats.system": ("rbac-system-stats", "GET"),
    # apps/audit
    "audit.list": ("audit-events", "GET"),
    "audit.csv": ("audit-events-csv", "GET"),
    "audit.verify": ("audit-verify", "GET"),
    # apps/moderation
    "moderation.list": ("moderation-actions", "GET"),
    "moderation.record": ("moderation-actions", "POST"),
    "moderation.get": ("moderation-action", "GET"),
    "moderation.complete": ("moderation-complete", "POST"),
    "warnings.list": ("warnings", "GET"),
    "warnings.reset": ("warnings-reset", "POST"),
    "warnings.remove": ("warning-remove", "POST"),
    # apps/challenges: join verification
    "challenges.list": ("challenges", "GET"),
    "challenges.create": ("challenges", "POST"),
    "challenges.messages": ("challenge-messages", "POST"),
    "challenges.answer": ("challenge-answer", "POST"),
    "challenges.claim_expired": ("challenges-claim-expired", "POST"),
    # apps/protection: settings (versioned), raid mode, automated actions, approvals
    "protection.get": ("protection-group", "GET"),
    "protection.update": ("protection-group", "PATCH"),
    "protection.by_chat": ("protection-by-chat", "GET"),
    "protection.versions": ("protection-versions", "POST"),
    "protection.raid": ("protection-raid", "POST"),
    "protection.actions": ("protection-actions", "POST"),
    "approvals.grant": ("protection-approvals", "POST"),
    "approvals.revoke": ("protection-approvals-revoke", "POST"),
    "approvals.list": ("protection-approvals-list", "GET"),
    "protection.test": ("protection-test", "POST"),
    # apps/contentrules: locks, blocklist, filters, notes
    "locks.get": ("contentrules-locks", "GET"),
    "locks.update": ("contentrules-locks", "PATCH"),
    "blocklist.get": ("contentrules-blocklist", "GET"),
    "blocklist.add": ("contentrules-blocklist", "POST"),
    "blocklist.remove": ("contentrules-blocklist-remove", "POST"),
    "blocklist.clear": ("contentrules-blocklist-clear", "POST"),
    "filters.get": ("contentrules-filters", "GET"),
    "filters.save": ("contentrules-filters", "POST"),
    "filters.remove": ("contentrules-filters-remove", "POST"),
    "filters.clear": ("contentrules-filters-clear", "POST"),
    "notes.list": ("contentrules-notes", "GET"),
    "notes.save": ("contentrules-notes", "POST"),
    "notes.get": ("contentrules-note", "GET"),
    "notes.remove": ("contentrules-notes-remove", "POST"),
    "notes.clear": ("contentrules-notes-clear", "POST"),
    # apps/banlists: ban lists shared by many groups (federations)
    "banlists.list": ("banlists", "GET"),
    "banlists.create": ("banlists", "POST"),
    "banlists.get": ("banlist-detail", "GET"),
    "banlists.update": ("banlist-detail", "PATCH"),
    "banlists.delete": ("banlist-delete", "POST"),
    "banlists.admins": ("banlist-admins", "GET"),
    "banlists.admin_add": ("banlist-admins", "POST"),
    "banlists.admin_remove": ("banlist-admins-remove", "POST"),
    "banlists.subscriptions": ("banlist-subscriptions", "GET"),
    "banlists.subscribe": ("banlist-subscriptions", "POST"),
    "banlists.unsubscribe": ("banlist-subscriptions-remove", "POST"),
    "banlists.follows": ("banlist-follows", "GET"),
    "banlists.follow": ("banlist-follows", "POST"),
    "banlists.unfollow": ("banlist-follows-remove", "POST"),
    "banlists.bans": ("banlist-bans", "GET"),
    "banlists.ban": ("banlist-bans", "POST"),
    "banlists.unban": ("banlist-bans-remove", "POST"),
    "banlists.history": ("banlist-history", "GET"),
    "banlists.import": ("banlist-import", "POST"),
    "banlists.export": ("banlist-export", "GET"),
    "banlists.user_bans": ("banlists-user-bans", "GET"),
    "banlists.versions": ("banlists-versions", "GET"),
    "banlists.ids": ("banlist-ids", "GET"),
    "banlists.propagation": ("banlist-propagation", "GET"),
    "banlists.propagation_claim": ("banlists-propagation-claim", "POST"),
    "banlists.propagation_release": ("banlists-propagation-release", "POST"),
    "banlists.propagation_complete": ("banlists-propagation-complete", "POST"),
    # apps/logchannel: the log chat's posts, the last welcome (clean-welcome)
    "log.claim": ("protection-log-claim", "POST"),
    "log.result": ("protection-log-result", "POST"),
    "welcome.message": ("protection-welcome-message", "POST"),
    # apps/events
    "events.batch": ("events-batch", "POST"),
    "stats.group": ("stats-group", "GET"),
    # apps/analytics
    "analytics.group": ("analytics-group", "GET"),
    "analytics.member": ("analytics-member", "GET"),
    "analytics.overview": ("analytics-overview", "GET"),
    # apps/accounts: web's logins and its token revocation store
    "auth.verify_credentials": ("auth-verify-credentials", "POST"),
    "auth.revoke_token": ("auth-revoked-tokens", "POST"),
    "auth.revoked_token": ("auth-revoked-token", "GET"),
    "auth.revoked_family": ("auth-revoked-family", "GET"),
    # the OpenAPI schema and its Swagger UI
    "api.schema": ("schema", "GET"),
    "api.docs": ("docs", "GET"),
}

# A group's content rules, read and written by the bot's commands and the dashboard's editors alike.
CONTENT_RULES = (
    "locks.get", "locks.update", "blocklist.get", "blocklist.add", "blocklist.remove", "blocklist.clear",
    "filters.get", "filters.save", "filters.remove", "filters.clear",
    "notes.list", "notes.save", "notes.get", "notes.remove", "notes.clear",
)

# Ban lists' governance and bans, by the bot's /fed... commands and the dashboard's pages alike.
BAN_LISTS = (
    "banlists.list", "banlists.create", "banlists.get", "banlists.update", "banlists.delete",
    "banlists.admins", "banlists.admin_add", "banlists.admin_remove",
    "banlists.subscriptions", "banlists.subscribe", "banlists.unsubscribe",
    "banlists.follows", "banlists.follow", "banlists.unfollow",
    "banlists.bans", "banlists.ban", "banlists.unban", "banlists.history", "banlists.import", "banlists.export",
    "banlists.user_bans", "banlists.propagation",
)

# The bot: the sensor and the hand in Telegram chats.
BOT = (
    "permissions.check", "permissions.check_batch",
    "moderation.record", "moderation.complete", "moderation.get",
    "events.batch",
    "groups.register", "groups.by_chat", "groups.get", "groups.update", "groups.migrate", "groups.admins_sync",
    "groups.anonymous_admin",
    "members.list", "members.set", "members.update",
    "warnings.list", "warnings.remove", "warnings.reset",
    "users.list", "users.create", "users.get",  # members by Telegram id (or @username), created when first seen
    "assignments.list", "assignments.create", "assignments.revoke",  # /roles, /grant, /revoke (core checks the actor)
    "stats.group", "stats.system",  # /stats, /admin_dashboard
    "analytics.group", "analytics.member", "analytics.overview",  # /stats, /mystats, the weekly digest
    # protection: the settings cache and in-chat settings, raid mode, automated actions, /approve
    "protection.by_chat", "protection.versions", "protection.update", "protection.raid", "protection.actions",
    "approvals.grant", "approvals.revoke", "approvals.list",
    "challenges.create", "challenges.messages", "challenges.answer", "challenges.claim_expired",  # join verification
    "log.claim", "log.result", "welcome.message",  # the log channel's poster, clean-welcome
    *CONTENT_RULES,  # /lock, /addblocklist, /filter, /save, #notes...
    *BAN_LISTS,  # /newfed, /fban, /joinfed...
    "banlists.versions", "banlists.ids", "banlists.propagation_claim", "banlists.propagation_complete",  # its cache
    "banlists.propagation_release",  # and its propagation worker
)

# Web: logins, token revocation, and the lists and writes of the dashboard's pages, API and live feed.
WEB = (
    "auth.verify_credentials", "auth.revoke_token", "auth.revoked_token", "auth.revoked_family",
    "permissions.check", "permissions.check_batch", "permissions.catalogue",
    "groups.list", "groups.get", "groups.update", "members.list",
    "users.list", "users.get",
    "roles.list", "assignments.list", "assignments.create", "assignments.revoke",
    "audit.list", "audit.csv", "audit.verify",
    "moderation.list",
    "stats.group", "stats.system",
    "analytics.group", "analytics.member", "analytics.overview",  # the Statistics pages
    # the group page's Protection section: settings, the raid mode switch, approved members and their revocation
    "protection.get", "protection.update", "protection.raid", "approvals.list", "approvals.revoke",
    *CONTENT_RULES, "protection.test",  # the editors of locks, blocklist, filters and notes; "test a message"
    *BAN_LISTS,  # the ban-list pages
)

DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {"bot": BOT, "web": WEB}


def _groups() -> dict[str, frozenset[tuple[str, str]]]:
    """Names for sets of endpoints: each area (`users`, `audit`...), `read` (every GET), `bot` and `web`."""
    groups: dict[str, set[tuple[str, str]]] = {}
    for name, endpoint in ENDPOINTS.items():
        groups.setdefault(name.partition(".")[0], set()).add(endpoint)
    groups["read"] = {endpoint for endpoint in ENDPOINTS.values() if endpoint[1] == "GET"}
    for service, names in DEFAULT_SCOPES.items():
        groups[service] = {ENDPOINTS[name] for name in names}
    return {name: frozenset(endpoints) for name, endpoints in groups.items()}


GROUPS = _groups()

# A compiled scope: the (route name, method) pairs allowed, or None for full access.
Scope = frozenset[tuple[str, str]] | None


def compile_scope(entries: Iterable[str], *, service: str = "") -> Scope:
    """The endpoints that `entries` (endpoint names, group names, `*`) allow."""
    allowed: set[tuple[str, str]] = set()
    entries = list(entries)
    if not entries:
        raise ImproperlyConfigured(f"The scope of service {service!r} is empty: name endpoints, groups, or *")
    for entry in entries:
        if entry == FULL_ACCESS:
            return None
        if entry in ENDPOINTS:
            allowed.add(ENDPOINTS[entry])
        elif entry in GROUPS:
            allowed |= GROUPS[entry]
        else:
            raise ImproperlyConfigured(
                f"Unknown endpoint or group {entry!r} in the scope of service {service!r}; groups are "
                f"{', '.join(sorted(GROUPS))} or *, endpoints are listed in apps/common/service_scopes.py")
    return frozenset(allowed)


def compile_scopes(configured: Mapping[str, Iterable[str]]) -> dict[str, Scope]:
    """Every scoped service's endpoints: the defaults of bot and web, replaced by what is configured."""
    entries = {**DEFAULT_SCOPES, **configured}
    return {service: compile_scope(names, service=service) for service, names in entries.items()}


def scope_allows(scope: Scope, route: str | None, method: str) -> bool:
    if scope is None:
        return True
    return (route, "GET" if method == "HEAD" else method) in scope
