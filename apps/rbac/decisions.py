"""The permission check, the platform's hottest path: queries in, decisions out (a pure read; services record them).

Decisions come from a per-(user, scope) snapshot of roles and membership, cached (locmem or Redis) under
a key that carries the user's `rbac_version` and the catalogue version. Every change that can alter a
decision bumps one of them inside its own transaction, so a check after a revoke, a deactivation or a
membership change never reads a stale snapshot, in any worker process. Expiry is compared at decision time.

A check in a ban list's scope (PermissionQuery.ban_list_id, apps/rbac/scopes.py) keys its snapshot on that scope,
counts the list's grants and the global ones, and needs no membership; it takes the general path, so the single
check's statement stays what it was for group and global checks.

A single check reads the user's row, the group's row and the catalogue version in one statement, compiled
once per connection (`_subject_statement`); anything unusual (an unknown user or chat id, a chat id from
before a supergroup migration) takes the general path, which names what is missing on the record.
"""

import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db.models import Q, Subquery

from apps.common.errors import ValidationFailed
from apps.common.ids import parse_pk
from apps.common.prepared import PreparedQuery
from apps.groups.models import ChatIdAlias, Group, Membership
from apps.users.models import User

from .models import CatalogueVersion, Role, RoleAssignment
from .scopes import BAN_LIST, scope_kind
from .selectors import (
    BAN_LIST_NOT_FOUND,
    BANNED_IN_GROUP,
    GRANTED_BY_ROLE,
    GROUP_INACTIVE,
    GROUP_NOT_FOUND,
    NOT_A_MEMBER,
    NOT_GRANTED,
    USER_INACTIVE,
    USER_NOT_FOUND,
    Decision,
    PermissionQuery,
    active_grants_query,
    catalogue_version,
    ensure_known_permissions,
)

# A snapshot is plain tuples (they unpickle several times faster than dataclasses; the cache holds them):
# (grants, membership_status), each grant (role name, rank, frozenset of permission codes, expiry epoch or None,
# whether it is global).
_Grant = tuple[str, int, frozenset, float | None, bool]
_Snapshot = tuple[tuple[_Grant, ...], str | None]
_SNAPSHOT_KEY = "rbac:snapshot:v3"  # renamed with each tuple form: entries in an earlier form are never read


def _load_snapshot(user_pk, group_pk, scope: str | None = None) -> _Snapshot:
    rows = active_grants_query(user_pk, group_pk, scope).values_list("role_id", "expires_at", "scope")
    role_ids = {role_id for role_id, _, _ in rows}
    roles = {role.pk: role for role in Role.objects.filter(pk__in=role_ids)}
    permissions_by_role: dict = {role_id: set() for role_id in role_ids}
    through = Role.permissions.through.objects.filter(role_id__in=role_ids).values_list("role_id", "permission__code")
    for role_id, code in through:
        permissions_by_role[role_id].add(code)
    grants = tuple(
        (
            roles[role_id].name,
            roles[role_id].rank,
            frozenset(permissions_by_role[role_id]),
            expires_at.timestamp() if expires_at else None,
            scope == RoleAssignment.GLOBAL_SCOPE,
        )
        for role_id, expires_at, scope in rows
    )
    status = None
    if group_pk is not None:
        status = Membership.objects.filter(user_id=user_pk, group_id=group_pk).values_list("status", flat=True).first()
    return grants, status


def _snapshot(user_pk, user_version: int, group_pk, catalogue: int, backend=None,
              scope: str | None = None) -> _Snapshot:
    """`scope`: a registered kind's scope ("banlist:<pk>"), instead of the group; it is the key's last part (a
    group's part is its pk, which never holds a colon)."""
    backend = backend or caches[DEFAULT_CACHE_ALIAS]
    where = scope if scope is not None else (group_pk if group_pk is not None else "-")
    key = f"{_SNAPSHOT_KEY}:{user_pk}:{user_version}:{catalogue}:{where}"
    snapshot = backend.get(key)
    if snapshot is None:
        snapshot = _load_snapshot(user_pk, group_pk, scope)
        backend.set(key, snapshot, settings.RBAC_DECISION_CACHE_SECONDS)
    return snapshot


_NOT_MEMBER = frozenset({Membership.Status.LEFT, Membership.Status.KICKED})


def _decide(snapshot: _Snapshot, permission: str, group_scoped: bool, now: float) -> tuple[bool, str]:
    grants, membership_status = snapshot
    holding = [
        grant for grant in grants if permission in grant[2] and (grant[3] is None or grant[3] > now)
    ]
    if not holding:
        return False, NOT_GRANTED
    if group_scoped and (membership_status is None or membership_status in _NOT_MEMBER
                         or membership_status == Membership.Status.BANNED):
        # A group grant needs membership there; a global one (platform staff) applies in every group regardless.
        everywhere = [grant for grant in holding if grant[4]]
        if not everywhere:
            return False, BANNED_IN_GROUP if membership_status == Membership.Status.BANNED else NOT_A_MEMBER
        holding = everywhere
    best = max(holding, key=lambda grant: (grant[1], grant[0]))
    return True, f"{GRANTED_BY_ROLE}:{best[0]}"


def _rows_in(model, fields: tuple[str, ...], first: str, second: str, values: tuple):
    """Rows of `model` WHERE first IN (...) OR second IN (...). Plain ORM: a compiled statement bought under 15%
    of a batch's CPU here (docs/benchmarks.md, "The prepared-SQL seam"), so the ORM builds it each time."""
    condition = Q(**{f"{first}__in": values[0]}) | Q(**{f"{second}__in": values[1]})
    return model.objects.filter(condition).values_list(*fields).order_by()


def _users_by(queries: list[PermissionQuery]) -> tuple[dict, dict]:
    """(pk -> (pk, is_active, version), telegram id -> same) for every user the queries name."""
    pks = {parse_pk(User, q.user_id) for q in queries if q.user_id is not None} - {None}
    telegram_ids = {q.telegram_user_id for q in queries if q.user_id is None and q.telegram_user_id is not None}
    by_pk, by_telegram = {}, {}
    rows = _rows_in(User, ("pk", "telegram_user_id", "is_active", "rbac_version"), "pk", "telegram_user_id",
                    (pks, telegram_ids))
    for pk, telegram_id, is_active, version in rows:
        by_pk[pk] = (pk, is_active, version)
        if telegram_id is not None:
            by_telegram[telegram_id] = (pk, is_active, version)
    return by_pk, by_telegram


def _groups_by(queries: list[PermissionQuery]) -> tuple[dict, dict]:
    pks = {parse_pk(Group, q.group_id) for q in queries if q.group_id is not None} - {None}
    chat_ids = {q.telegram_chat_id for q in queries if q.group_id is None and q.telegram_chat_id is not None}
    if not pks and not chat_ids:
        return {}, {}
    by_pk, by_chat = {}, {}
    rows = _rows_in(Group, ("pk", "telegram_chat_id", "is_active"), "pk", "telegram_chat_id", (pks, chat_ids))
    for pk, chat_id, is_active in rows:
        by_pk[pk] = by_chat[chat_id] = (pk, is_active)
    migrated_from = chat_ids - set(by_chat)
    if migrated_from:  # a chat id the group had before Telegram made it a supergroup
        aliases = ChatIdAlias.objects.filter(telegram_chat_id__in=migrated_from)
        for chat_id, pk, is_active in aliases.values_list("telegram_chat_id", "group_id", "group__is_active"):
            by_chat[chat_id] = (pk, is_active)
    return by_pk, by_chat


def _decision(query: PermissionQuery, user: tuple | None, group: tuple | None, catalogue: int, now: float,
              backend, scope: str | None = None) -> Decision:
    """user: (pk, is_active, rbac_version) or None; group: (pk, is_active) or None; backend: the cache; scope: a
    ban list's ("banlist:<pk>") for a check in it."""
    user_pk, group_pk = (user[0] if user else None), (group[0] if group else None)
    if user is None:
        allowed, reason = False, USER_NOT_FOUND
    elif not user[1]:
        allowed, reason = False, USER_INACTIVE
    elif query.group_scoped and group is None:
        allowed, reason = False, GROUP_NOT_FOUND
    elif group is not None and not group[1]:
        allowed, reason = False, GROUP_INACTIVE
    else:
        snapshot = _snapshot(user_pk, user[2], group_pk, catalogue, backend, scope)
        allowed, reason = _decide(snapshot, query.permission, query.group_scoped, now)
    if scope is not None:
        return Decision(allowed, reason, query.permission, user_pk, None, scope.partition(":")[2])
    return Decision(allowed, reason, query.permission, user_pk, group_pk)


# Stand-ins the single-check statement is compiled with; real ids replace them at each execution.
_USER_SLOT = -7_301_000_000_000_000_001
_GROUP_SLOT = -7_301_000_000_000_000_002


def _subject_statement(user_by: str, group_by: str | None) -> PreparedQuery | None:
    """SELECT the user's (pk, is_active, rbac_version), the catalogue version and, when the check names a
    group, the group's pk and is_active: one round trip. None off SQL backends."""

    def build(connection) -> PreparedQuery:
        annotations = {"_catalogue": Subquery(CatalogueVersion.objects.order_by("pk").values("version")[:1])}
        slots = {"user": _USER_SLOT}
        if group_by is not None:
            groups = Group.objects.filter(**{group_by: _GROUP_SLOT})
            annotations["_group_pk"] = Subquery(groups.values("pk")[:1])
            annotations["_group_active"] = Subquery(groups.values("is_active")[:1])
            slots["group"] = _GROUP_SLOT
        queryset = (
            User.objects.filter(**{user_by: _USER_SLOT})
            .annotate(**annotations)
            .values_list("pk", "is_active", "rbac_version", *annotations)
            .order_by()[:1]
        )
        return PreparedQuery(queryset, connection, slots)

    return PreparedQuery.get(("rbac:subject", user_by, group_by), build)


def _decide_single(query: PermissionQuery) -> Decision | None:
    """The single check in one read, or None when the general path has to answer it."""
    if query.ban_list_id is not None:
        return None
    if query.user_id is not None:
        user_by, user_key = "pk", parse_pk(User, query.user_id)
    else:
        user_by, user_key = "telegram_user_id", query.telegram_user_id
    group_by, group_key = None, None
    if query.group_id is not None:
        group_by, group_key = "pk", parse_pk(Group, query.group_id)
    elif query.telegram_chat_id is not None:
        group_by, group_key = "telegram_chat_id", query.telegram_chat_id
    if type(user_key) is not int or (group_by is not None and type(group_key) is not int):
        return None
    statement = _subject_statement(user_by, group_by)
    if statement is None:
        return None
    rows = statement.rows(user=user_key, group=group_key) if group_by else statement.rows(user=user_key)
    if not rows:
        return None
    user_pk, is_active, version, catalogue, *group = rows[0]
    if group_by is not None and group[0] is None:
        return None
    catalogue = catalogue or 0
    ensure_known_permissions({query.permission}, catalogue)
    group = tuple(group) if group else None
    return _decision(query, (user_pk, is_active, version), group, catalogue, time.time(), caches[DEFAULT_CACHE_ALIAS])


def permission_decide_many(queries: list[PermissionQuery]) -> list[Decision]:
    """Decides each query in order. Pure read: the caller records the decisions (see services)."""
    if len(queries) == 1:
        decision = _decide_single(queries[0])
        if decision is not None:
            return [decision]
    catalogue = catalogue_version()
    ensure_known_permissions({q.permission for q in queries}, catalogue)
    list_scopes = _ban_list_scopes(queries)
    users_by_pk, users_by_telegram = _users_by(queries)
    groups_by_pk, groups_by_chat = _groups_by(queries)
    now = time.time()
    backend = caches[DEFAULT_CACHE_ALIAS]
    decisions = []
    for query in queries:
        if query.user_id is not None:
            user = users_by_pk.get(parse_pk(User, query.user_id))
        else:
            user = users_by_telegram.get(query.telegram_user_id)
        group = None
        if query.group_id is not None:
            group = groups_by_pk.get(parse_pk(Group, query.group_id))
        elif query.telegram_chat_id is not None:
            group = groups_by_chat.get(query.telegram_chat_id)
        scope = None
        if query.ban_list_id is not None:
            scope = list_scopes[query.ban_list_id]
            if scope is None:
                decisions.append(Decision(False, BAN_LIST_NOT_FOUND, query.permission, user[0] if user else None))
                continue
        decisions.append(_decision(query, user, group, catalogue, now, backend, scope))
    return decisions


def _ban_list_scopes(queries: list[PermissionQuery]) -> dict:
    """ban_list_id -> its scope for every list the queries name, None for a list that does not exist (or is
    deleted: the decision says ban_list_not_found). A query naming a group as well is a 400."""
    scopes = {}
    for query in queries:
        if query.ban_list_id is None:
            continue
        if query.group_scoped:
            raise ValidationFailed("Give a ban list or a group, not both",
                                   details={"ban_list_id": ["Exclusive with group_id and telegram_chat_id."]})
        if query.ban_list_id not in scopes:
            pk = scope_kind(BAN_LIST).resolve(query.ban_list_id)
            scopes[query.ban_list_id] = None if pk is None else f"{BAN_LIST}:{pk}"
    return scopes
