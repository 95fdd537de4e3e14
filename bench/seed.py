"""A realistic data set, written through the product's own services so the audit chain and the
rbac_version counters look exactly as they would in production.

Shape (defaults): 1,000 users, 50 supergroups, each user a member of 5 groups (about 2% banned and 2%
left), every user holding the `member` role in two of their groups, every group staffed with one owner,
two admins, ten moderators and four helpers, ten global admins and ten deactivated users.
"""

import logging
import random
from dataclasses import dataclass, field

from apps.common.context import bind_context
from apps.common.db import atomic
from apps.groups.models import Membership
from apps.groups.services import group_register, membership_set
from apps.rbac.selectors import role_get
from apps.rbac.services import role_assign
from apps.users.services import user_create, user_update

TELEGRAM_USER_BASE = 700_000_000
TELEGRAM_CHAT_BASE = -1_009_000_000_000
STAFF_PER_GROUP = (("owner", 1), ("admin", 2), ("moderator", 10), ("helper", 4))


@dataclass
class SeedUser:
    pk: int
    telegram_user_id: int
    groups: list = field(default_factory=list)  # indexes into Seeded.groups


@dataclass
class SeedGroup:
    pk: int
    telegram_chat_id: int


@dataclass
class Seeded:
    users: list[SeedUser]
    groups: list[SeedGroup]
    assignments: int
    memberships: int


def seed(*, users: int = 1000, groups: int = 50, groups_per_user: int = 5, seed_value: int = 20240601) -> Seeded:
    rng = random.Random(seed_value)
    bind_context(service="bench_seed", request_id="bench-seed")
    logging.getLogger("apps.audit.services").setLevel(logging.WARNING)  # one INFO line per row is noise
    roles = {name: role_get(name=name) for name in ("owner", "admin", "moderator", "helper", "member")}
    seeded_users, seeded_groups = [], []
    assignments = memberships = 0
    with atomic():
        group_rows = []
        for index in range(groups):
            group, _ = group_register(telegram_chat_id=TELEGRAM_CHAT_BASE - index, title=f"Bench group {index}",
                                      type="supergroup")
            group_rows.append(group)
            seeded_groups.append(SeedGroup(pk=group.pk, telegram_chat_id=group.telegram_chat_id))
        user_rows = []
        for index in range(users):
            user = user_create(username=f"bench_user_{index}", telegram_user_id=TELEGRAM_USER_BASE + index,
                               telegram_username=f"bench_{index}", display_name=f"Bench User {index}")
            user_rows.append(user)
            seeded_users.append(SeedUser(pk=user.pk, telegram_user_id=user.telegram_user_id))

        members_of: dict[int, list] = {index: [] for index in range(groups)}
        for user_index, user in enumerate(user_rows):
            chosen = rng.sample(range(groups), groups_per_user)
            seeded_users[user_index].groups = chosen
            for group_index in chosen:
                roll = rng.random()
                status = (Membership.Status.BANNED if roll < 0.02 else
                          Membership.Status.LEFT if roll < 0.04 else Membership.Status.MEMBER)
                membership_set(group=group_rows[group_index], user=user, status=status)
                memberships += 1
                if status == Membership.Status.MEMBER:
                    members_of[group_index].append(user_index)
            for group_index in chosen[:2]:
                role_assign(user=user, role=roles["member"], group=group_rows[group_index], reason="bench")
                assignments += 1

        for group_index, group in enumerate(group_rows):
            staff = rng.sample(members_of[group_index], sum(count for _, count in STAFF_PER_GROUP))
            for role_name, count in STAFF_PER_GROUP:
                for user_index in staff[:count]:
                    role_assign(user=user_rows[user_index], role=roles[role_name], group=group, reason="bench")
                    assignments += 1
                staff = staff[count:]

        for user_index in rng.sample(range(users), 10):
            role_assign(user=user_rows[user_index], role=roles["admin"], reason="bench global admin")
            assignments += 1
        for user_index in rng.sample(range(users), 10):
            user_update(user=user_rows[user_index], is_active=False)
    return Seeded(users=seeded_users, groups=seeded_groups, assignments=assignments, memberships=memberships)


# Permissions asked about, weighted the way a moderation bot asks: mostly moderation actions.
CHECKED_PERMISSIONS = (
    ["BAN_USERS"] * 4 + ["MUTE_USERS"] * 4 + ["WARN_USERS"] * 3 + ["DELETE_MESSAGES"] * 3 + ["KICK_USERS"] * 2
    + ["PIN_MESSAGES", "VIEW_GROUPS", "MANAGE_ROLES", "VIEW_STATS"]
)


def check_queries(seeded: Seeded, count: int, *, seed_value: int = 7) -> list[dict]:
    """Check bodies: 80% name a group the user joined, 20% any group; 2% name an unknown user.
    Half identify user and group by core id, half by Telegram id (the bot's way)."""
    rng = random.Random(seed_value)
    queries = []
    for _ in range(count):
        user = rng.choice(seeded.users)
        group = seeded.groups[rng.choice(user.groups)] if rng.random() < 0.8 else rng.choice(seeded.groups)
        permission = rng.choice(CHECKED_PERMISSIONS)
        if rng.random() < 0.5:
            query = {"user_id": str(user.pk), "permission": permission, "group_id": str(group.pk)}
        else:
            query = {"telegram_user_id": user.telegram_user_id, "permission": permission,
                     "telegram_chat_id": group.telegram_chat_id}
        if rng.random() < 0.02:
            query.pop("user_id", None)
            query["telegram_user_id"] = TELEGRAM_USER_BASE + 10_000_000 + rng.randrange(1000)
        queries.append(query)
    return queries


def seed_bulk(*, users: int = 100_000, groups: int = 1_000, assignments: int = 200_000, groups_per_user: int = 3,
              seed_value: int = 20240602) -> Seeded:
    """The large data set, inserted in bulk through the models: seeding it through the services (one audited
    transaction per row) would take longer than the benchmark. Same shape as `seed` (statuses, staff per group,
    global admins, deactivated users), every user a member of `groups_per_user` groups, and `member` role
    assignments added until the total is `assignments`. Invariants the checks rely on hold: one unrevoked
    assignment per (user, role, scope), `active_scope` set, member counts right, the catalogue untouched (its
    version comes from the migrations); rbac_version stays at its default, which every worker reads afresh.
    These rows are not on the audit trail (the chain starts with the benchmark's own events)."""
    from apps.groups.models import Group
    from apps.rbac.models import Role, RoleAssignment
    from apps.users.models import User

    rng = random.Random(seed_value)
    roles = {role.name: role.pk for role in Role.objects.filter(name__in=["owner", "admin", "moderator", "helper",
                                                                         "member"])}
    inactive = set(rng.sample(range(users), 100))
    plan = [rng.sample(range(groups), groups_per_user) for _ in range(users)]
    statuses = []
    present_in: dict[int, list] = {index: [] for index in range(groups)}
    for user_index, chosen in enumerate(plan):
        row = []
        for group_index in chosen:
            roll = rng.random()
            status = (Membership.Status.BANNED if roll < 0.02 else
                      Membership.Status.LEFT if roll < 0.04 else Membership.Status.MEMBER)
            row.append(status)
            if status == Membership.Status.MEMBER:
                present_in[group_index].append(user_index)
        statuses.append(row)

    with atomic():
        Group.objects.bulk_create(
            [Group(telegram_chat_id=TELEGRAM_CHAT_BASE - index, title=f"Bench group {index}", type="supergroup",
                   member_count=len(present_in[index])) for index in range(groups)],
            batch_size=1000,
        )
        group_pk = dict(Group.objects.filter(telegram_chat_id__gt=TELEGRAM_CHAT_BASE - groups,
                                             telegram_chat_id__lte=TELEGRAM_CHAT_BASE)
                        .values_list("telegram_chat_id", "pk"))
        group_pks = [group_pk[TELEGRAM_CHAT_BASE - index] for index in range(groups)]
        User.objects.bulk_create(
            [User(username=f"bench_user_{index}", telegram_user_id=TELEGRAM_USER_BASE + index,
                  telegram_username=f"bench_{index}", display_name=f"Bench User {index}", password="!",  # noqa: S106
                  is_active=index not in inactive) for index in range(users)],
            batch_size=5000,
        )
        user_pk = dict(User.objects.filter(telegram_user_id__gte=TELEGRAM_USER_BASE,
                                           telegram_user_id__lt=TELEGRAM_USER_BASE + users)
                       .values_list("telegram_user_id", "pk"))
        user_pks = [user_pk[TELEGRAM_USER_BASE + index] for index in range(users)]
        Membership.objects.bulk_create(
            [Membership(group_id=group_pks[group_index], user_id=user_pks[user_index], status=status)
             for user_index, chosen in enumerate(plan) for group_index, status in zip(chosen, statuses[user_index],
                                                                                        strict=True)],
            batch_size=5000,
        )

        def grant(user_index: int, role: str, group_index: int | None):
            scope = "global" if group_index is None else str(group_pks[group_index])
            return RoleAssignment(user_id=user_pks[user_index], role_id=roles[role], scope=scope, active_scope=scope,
                                  group_id=None if group_index is None else group_pks[group_index], reason="bench")

        rows = []
        for group_index in range(groups):
            staff = rng.sample(present_in[group_index], sum(count for _, count in STAFF_PER_GROUP))
            for role_name, count in STAFF_PER_GROUP:
                rows.extend(grant(user_index, role_name, group_index) for user_index in staff[:count])
                staff = staff[count:]
        rows.extend(grant(user_index, "admin", None) for user_index in rng.sample(range(users), 10))
        for round_number in range(groups_per_user):
            for user_index, chosen in enumerate(plan):
                if len(rows) >= assignments:
                    break
                rows.append(grant(user_index, "member", chosen[round_number]))
        RoleAssignment.objects.bulk_create(rows, batch_size=5000)

    seeded_groups = [SeedGroup(pk=pk, telegram_chat_id=TELEGRAM_CHAT_BASE - index)
                     for index, pk in enumerate(group_pks)]
    seeded_users = [SeedUser(pk=pk, telegram_user_id=TELEGRAM_USER_BASE + index, groups=plan[index])
                    for index, pk in enumerate(user_pks)]
    return Seeded(users=seeded_users, groups=seeded_groups, assignments=len(rows),
                  memberships=sum(len(chosen) for chosen in plan))
