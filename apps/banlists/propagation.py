"""What a list's bans owe its groups: one Propagation row per (group, user, ban or unban), each ban or unban with its
moderation record (type ban/unban, rule "banlist", status requested until the bot reports Telegram's answer), and a
`notify` row, with no record, where the user is exempt in that group (a Telegram administrator there, or holding
BYPASS_PROTECTION: approved, or staff): the group's moderators are told instead.

Which groups: those whose effective lists include the list (apps.banlists.selectors.group_ban_lists, read from the
other end): the list's subscribers and the subscribers of every list following it, transitively, up to
MAX_FOLLOW_DEPTH. A bot claims rows under a lease (a bot that dies holding them loses nothing: the lease runs out and
another claim takes them), bans or unbans on Telegram, and completes each: done or failed with Telegram's error, and
its moderation record executed or failed the same way (moderation's own completion: membership, audit, log channel).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from apps.audit.services import AuditEntry, audit_record_many
from apps.common import audit_actions as actions
from apps.common.context import current_context
from apps.common.db import atomic_attempts
from apps.groups.models import Group, Membership
from apps.moderation.models import ModerationAction
from apps.moderation.services import moderation_action_complete
from apps.rbac.models import RoleAssignment
from apps.users.models import User

from .models import Ban, BanList, Follow, Propagation, Subscription
from .selectors import MAX_FOLLOW_DEPTH, group_ban_lists

RULE = "banlist"
BYPASS_PERMISSION = "BYPASS_PROTECTION"
CLAIM_LIMIT = (1, 200)
LEASE_SECONDS = (10, 600)
BATCH = 500
# Ids in one `IN (...)`: far below SQLite's limit on bound variables, small enough for one MongoDB query.
ID_CHUNK = 5000
MAX_ERROR = 1024

Action = Propagation.Action
Status = Propagation.Status


def chunks(values: list, size: int = ID_CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


# -- who is reached

def lists_reaching(*, ban_list: BanList) -> set:
    """The pks of the lists whose groups the list's bans hold in: itself and the lists following it, transitively
    (Follow: `ban_list` follows `source`), up to MAX_FOLLOW_DEPTH, as group_ban_lists reads them from a group."""
    seen, frontier = {ban_list.pk}, {ban_list.pk}
    for _ in range(MAX_FOLLOW_DEPTH):
        followers = set(Follow.objects.filter(source_id__in=frontier).values_list("ban_list_id", flat=True))
        frontier = followers - seen
        if not frontier:
            break
        seen |= frontier
    return seen


def groups_reached(*, ban_list: BanList) -> list[Group]:
    """The active groups whose effective lists include `ban_list`, ordered by pk."""
    if not ban_list.is_active:
        return []
    lists = lists_reaching(ban_list=ban_list)
    group_pks = set(Subscription.objects.filter(ban_list_id__in=lists).values_list("group_id", flat=True))
    if not group_pks:
        return []
    return sorted(Group.objects.filter(pk__in=group_pks, is_active=True), key=lambda group: str(group.pk))


def _live_bypass(now: datetime) -> Q:
    return Q(revoked_at__isnull=True, role__permissions__code=BYPASS_PERMISSION) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def exempt_pairs(*, user_pks: list, group_pks: list) -> set[tuple[str, str]]:
    """(user pk, group pk) as strings, for each of the users exempt in each of the groups: a Telegram administrator
    there (core's membership), or holding BYPASS_PROTECTION there or globally (an active user: protection's rule,
    apps.protection.selectors.exemption). Two queries per chunk of users, whatever the number of groups."""
    pairs: set[tuple[str, str]] = set()
    if not user_pks or not group_pks:
        return pairs
    group_keys = {str(pk) for pk in group_pks}
    now = timezone.now()
    for chunk in chunks(list(user_pks)):
        admins = Membership.objects.filter(user_id__in=chunk, group_id__in=group_pks, is_admin=True)
        pairs |= {(str(user), str(group)) for user, group in admins.values_list("user_id", "group_id")}
        grants = (RoleAssignment.objects.filter(_live_bypass(now), user_id__in=chunk,
                                                scope__in=[RoleAssignment.GLOBAL_SCOPE, *group_keys])
                  .filter(user__is_active=True).values_list("user_id", "scope"))
        for user, scope in grants:
            if scope == RoleAssignment.GLOBAL_SCOPE:
                pairs |= {(str(user), key) for key in group_keys}
            else:
                pairs.add((str(user), scope))
    return pairs


# -- writing what is owed

@dataclass(frozen=True)
class Owed:
    group: Group
    user: User
    action: str  # Action.BAN, UNBAN or NOTIFY
    reason: str = ""


def moderation_reason(ban_list: BanList, reason: str) -> str:
    text = f"Ban list {ban_list.name}: {reason}" if reason else f"Ban list {ban_list.name}"
    return text[:1024]


def propagations_write(*, ban_list: BanList, owed: list[Owed], actor: User | None) -> list[Propagation]:
    """The rows for `owed`, in bulk, and a moderation record (requested, audited as moderation.request) for each ban
    or unban. Joins the caller's transaction (the ban's, the import's, the subscription's)."""
    if not owed:
        return []
    rows = [Propagation(ban_list=ban_list, group=item.group, telegram_user_id=item.user.telegram_user_id,
                        action=item.action, reason=item.reason[:1024]) for item in owed]
    Propagation.objects.bulk_create(rows, batch_size=BATCH)
    service = current_context().service or "internal"
    recorded = []
    for row, item in zip(rows, owed, strict=True):
        if item.action == Action.NOTIFY:
            continue
        action = ModerationAction(
            type=item.action, group=item.group, actor=actor, target=item.user,
            reason=moderation_reason(ban_list, item.reason), source_service=service, rule=RULE,
            details={"ban_list_id": str(ban_list.pk), "ban_list_name": ban_list.name, "propagation_id": str(row.pk)},
        )
        recorded.append((row, action))
    if recorded:
        ModerationAction.objects.bulk_create([action for _, action in recorded], batch_size=BATCH)
        for row, action in recorded:
            row.moderation_action = action
        Propagation.objects.bulk_update([row for row, _ in recorded], ["moderation_action"], batch_size=BATCH)
        audit_record_many([
            AuditEntry(action=actions.MODERATION_REQUEST, result="success",
                       actor_user_id=actor.pk if actor else None, target_type="user", target_id=action.target_id,
                       group_id=action.group_id, reason=action.reason[:255],
                       details={"type": action.type, "action_id": str(action.pk), "until": None, "rule": RULE,
                                "ban_list_id": str(ban_list.pk), "propagation_id": str(row.pk)})
            for row, action in recorded
        ])
    return rows


def owed_for_user(*, ban_list: BanList, user: User, action: str, reason: str = "",
                  groups: list[Group] | None = None) -> list[Owed]:
    """A ban (or unban) of one user in every group the list reaches: exempt members are notified instead of banned
    (an unban needs no exemption). Groups where the user stays banned by another of the group's lists are left out
    of an unban."""
    groups = groups_reached(ban_list=ban_list) if groups is None else groups
    if not groups:
        return []
    if action == Action.UNBAN:
        still = still_banned_groups(ban_list=ban_list, telegram_user_id=user.telegram_user_id, groups=groups)
        return [Owed(group=group, user=user, action=Action.UNBAN, reason=reason) for group in groups
                if group.pk not in still]
    exempt = exempt_pairs(user_pks=[user.pk], group_pks=[group.pk for group in groups])
    return [Owed(group=group, user=user, reason=reason,
                 action=Action.NOTIFY if (str(user.pk), str(group.pk)) in exempt else Action.BAN)
            for group in groups]


def still_banned_groups(*, ban_list: BanList, telegram_user_id: int, groups: list[Group]) -> set:
    """The pks of those of `groups` where another of their effective lists still bans the user."""
    others = set(Ban.objects.filter(telegram_user_id=telegram_user_id, active=True, ban_list__is_active=True)
                 .exclude(ban_list=ban_list).values_list("ban_list_id", flat=True))
    if not others:
        return set()
    still = set()
    for other in BanList.objects.filter(pk__in=others):
        still |= {group.pk for group in groups_reached(ban_list=other)}
    return still & {group.pk for group in groups}


def members_owed(*, ban_list: BanList, bans: dict[int, str], groups: list[Group]) -> list[Owed]:
    """The bans (telegram id -> reason) owed to the users core knows as current members of `groups` (an import's
    propagation: the others are banned on arrival by the bot's cache)."""
    if not bans or not groups:
        return []
    by_pk = {group.pk: group for group in groups}
    owed = []
    for chunk in chunks(list(bans)):
        users = {user.pk: user for user in User.objects.filter(telegram_user_id__in=chunk)}
        if not users:
            continue
        present = list(Membership.objects.filter(user_id__in=list(users), group_id__in=list(by_pk),
                                                 status__in=Membership.PRESENT).values_list("user_id", "group_id"))
        if not present:
            continue
        exempt = exempt_pairs(user_pks=list({user for user, _ in present}),
                              group_pks=list({group for _, group in present}))
        for user_pk, group_pk in present:
            user = users[user_pk]
            action = Action.NOTIFY if (str(user_pk), str(group_pk)) in exempt else Action.BAN
            owed.append(Owed(group=by_pk[group_pk], user=user, action=action,
                             reason=bans[user.telegram_user_id]))
    return owed


def propagate_to_new_subscriber(group: Group, *, actor: User | None = None) -> int:
    """A group that just subscribed (or whose lists just followed another list): bans owed for the active bans of
    its effective lists whose users core knows as its current members, once per (list, group, user): a ban already
    owed to the group (any status) is not owed again. Joins the caller's transaction; answers the rows written.
    The other banned users are banned on arrival (the bot's cache of the group's lists)."""
    if not group.is_active:
        return 0
    list_pks = [entry["id"] for entry in group_ban_lists(group=group)]
    if not list_pks:
        return 0
    members = dict(Membership.objects.filter(group=group, status__in=Membership.PRESENT,
                                             user__telegram_user_id__isnull=False)
                   .values_list("user__telegram_user_id", "user_id"))
    if not members:
        return 0
    lists = {str(item.pk): item for item in BanList.objects.filter(pk__in=list_pks, is_active=True)}
    written = 0
    for ban_list in lists.values():
        bans: dict[int, str] = {}
        for chunk in chunks(list(members)):
            bans.update(Ban.objects.filter(ban_list=ban_list, active=True, telegram_user_id__in=chunk)
                        .values_list("telegram_user_id", "reason"))
        if not bans:
            continue
        already = set(Propagation.objects.filter(ban_list=ban_list, group=group, action__in=[Action.BAN,
                                                                                           Action.NOTIFY],
                                                 telegram_user_id__in=list(bans))
                      .values_list("telegram_user_id", flat=True))
        owed = members_owed(ban_list=ban_list, groups=[group],
                            bans={tid: reason for tid, reason in bans.items() if tid not in already})
        written += len(propagations_write(ban_list=ban_list, owed=owed, actor=actor))
    return written


# -- the bot's side: claim, complete

def propagations_claim(*, limit: int, lease_seconds: int, now: datetime | None = None) -> list[Propagation]:
    """Up to `limit` pending rows whose lease is absent or over, oldest first, each leased to this caller for
    `lease_seconds`: one conditional update per row, so of two bots claiming at once each row goes to one."""
    now = now or timezone.now()
    lease_end = now + timedelta(seconds=lease_seconds)
    candidates = list(
        Propagation.objects.select_related("group", "ban_list")
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now), status=Status.PENDING)
        .order_by("created_at", "id")[:limit]
    )
    claimed = []
    for row in candidates:
        won = Propagation.objects.filter(pk=row.pk, status=Status.PENDING, claimed_until=row.claimed_until).update(
            claimed_until=lease_end, claims=row.claims + 1)
        if won:
            row.claimed_until, row.claims = lease_end, row.claims + 1
            claimed.append(row)
    return claimed


def propagations_release(*, pks: list) -> int:
    """Gives leased rows back at once (a bot stopping with claimed work it has not started): those of `pks` still
    pending lose their lease, so the next claim, this bot's after a restart or another's, takes them without waiting
    it out. Rows done, failed, not leased or unknown are left as they are (releasing twice changes nothing).
    Answers how many were released."""
    released = 0
    for chunk in chunks(list(pks)):
        released += Propagation.objects.filter(pk__in=chunk, status=Status.PENDING,
                                               claimed_until__isnull=False).update(claimed_until=None)
    return released


def propagation_complete(*, propagation: Propagation, error: str | None = None) -> Propagation:
    """Done (no error) or failed with Telegram's error, and its moderation record executed or failed the same way,
    in one transaction. Completing a row already completed changes nothing and answers it as it is."""
    status = Status.FAILED if error else Status.DONE
    error = (error or "")[:MAX_ERROR]
    for attempt in atomic_attempts():
        with attempt:
            done = Propagation.objects.filter(pk=propagation.pk, status=Status.PENDING).update(
                status=status, error=error, completed_at=timezone.now(), claimed_until=None)
            row = Propagation.objects.select_related("moderation_action").get(pk=propagation.pk)
            record = row.moderation_action
            if done and record is not None and record.status == ModerationAction.Status.REQUESTED:
                moderation_action_complete(
                    action=record, error=error,
                    status=ModerationAction.Status.FAILED if error else ModerationAction.Status.EXECUTED)
    return Propagation.objects.select_related("moderation_action").get(pk=propagation.pk)


def propagations_cancel(*, ban_list: BanList, error: str, group: Group | None = None,
                        telegram_user_id: int | None = None, action: str | None = None,
                        leased_too: bool = True) -> int:
    """Marks the list's pending rows failed with `error` (their moderation records failed too): all of them (the
    list deleted), or those of one group (it left the list), one user, one action (a ban superseded by an unban).
    `leased_too` False leaves the rows a bot holds now (their completion decides). Joins the caller's transaction
    when there is one. Answers how many were cancelled."""
    pending = Propagation.objects.filter(ban_list=ban_list, status=Status.PENDING)
    if group is not None:
        pending = pending.filter(group=group)
    if telegram_user_id is not None:
        pending = pending.filter(telegram_user_id=telegram_user_id)
    if action is not None:
        pending = pending.filter(action=action)
    if not leased_too:
        pending = pending.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=timezone.now()))
    cancelled = 0
    for attempt in atomic_attempts():
        with attempt:
            cancelled = 0
            for row in list(pending.select_related("moderation_action")):
                cancelled += _cancel(row, error)
    return cancelled


def _cancel(row: Propagation, error: str) -> int:
    done = Propagation.objects.filter(pk=row.pk, status=Status.PENDING).update(
        status=Status.FAILED, error=error[:MAX_ERROR], completed_at=timezone.now(), claimed_until=None)
    record = row.moderation_action
    if done and record is not None and record.status == ModerationAction.Status.REQUESTED:
        moderation_action_complete(action=record, status=ModerationAction.Status.FAILED, error=error[:MAX_ERROR])
    return done


def propagation_progress(*, ban_list: BanList) -> dict:
    """How far the list's bans and unbans have reached its groups: rows by status, and the notices."""
    counts = {Status.PENDING: 0, Status.DONE: 0, Status.FAILED: 0}
    rows = (Propagation.objects.filter(ban_list=ban_list).values("status").annotate(total=Count("id"))
            .values_list("status", "total"))
    for status, total in rows:
        counts[status] = counts.get(status, 0) + total
    notify = Propagation.objects.filter(ban_list=ban_list, action=Action.NOTIFY).count()
    return {"pending": counts[Status.PENDING], "done": counts[Status.DONE], "failed": counts[Status.FAILED],
            "notify": notify}
