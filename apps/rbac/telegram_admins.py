"""Telegram's administrator list mirrored into roles: creators become owners and administrators admins in the
group's scope, and the group's anonymous administrators are stood for by one principal of the group."""

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.groups.models import Group, Membership
from apps.groups.services import membership_set
from apps.users.models import User
from apps.users.services import user_create, user_ensure_telegram

from .models import Role, RoleAssignment
from .selectors import role_get
from .services import role_assign, role_revoke


def anonymous_admin_get(*, group: Group):
    """Id of the user standing for the group's anonymous admins while they hold a role there; else None."""
    principal = Membership.objects.filter(group=group, user__username=f"anon-admin-{group.pk}").values_list(
        "user_id", flat=True).first()
    if principal is None or not RoleAssignment.objects.filter(user_id=principal, group=group,
                                                              revoked_at__isnull=True).exists():
        return None
    return principal


def anonymous_admin_principal(*, group: Group, actor: User | None = None) -> User:
    """The core user standing for this group's anonymous administrators (one per group, no Telegram id)."""
    username = f"anon-admin-{group.pk}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, display_name=f"Anonymous admin of {group.title}", actor=actor)
    membership_set(group=group, user=user, status=Membership.Status.MEMBER, is_admin=True, actor=actor)
    return user


def _sync_grant(*, user: User, role: Role, group: Group, reason: str, wanted: set, granted: list) -> None:
    """Keeps `role` for `user` as one the sync justifies, granting it (by the system) when they lack it."""
    wanted.add((user.pk, role.pk))
    _, created = role_assign(user=user, role=role, group=group, actor=None, reason=reason,
                             source=RoleAssignment.Source.TELEGRAM_SYNC)
    if created:
        granted.append({"user_id": str(user.pk), "role": role.name})


def group_admins_sync(*, group: Group, admins: list[dict], actor: User | None = None) -> dict:
    """Mirrors Telegram's administrator list: creator -> owner, administrator -> admin, in this group's scope.

    Creates missing users and memberships. Revokes only roles an earlier sync granted (source telegram_sync)
    that the list no longer justifies; roles granted by hand are never touched.
    """
    role_for_status = {"creator": role_get(name="owner"), "administrator": role_get(name="admin")}
    for attempt in atomic_attempts():
        with attempt:
            granted, revoked, wanted, synced_user_ids = [], [], set(), set()
            for admin in admins:
                user = user_ensure_telegram(
                    telegram_user_id=admin["telegram_user_id"],
                    telegram_username=admin.get("username") or "",
                    display_name=admin.get("display_name") or "",
                    actor=actor,
                )
                synced_user_ids.add(user.pk)
                membership_set(group=group, user=user, status=Membership.Status.MEMBER, is_admin=True,
                               custom_title=admin.get("custom_title") or "", actor=actor)
                _sync_grant(user=user, role=role_for_status[admin["status"]], group=group,
                            reason="Telegram administrator sync", wanted=wanted, granted=granted)
            if any(admin.get("is_anonymous") for admin in admins):
                # Messages "sent as the group" come from some anonymous admin: the group's own principal stands
                # for them, with the admin role (never the owner's, never a blanket pass, never Telegram's
                # shared bot id).
                principal = anonymous_admin_principal(group=group, actor=actor)
                synced_user_ids.add(principal.pk)
                _sync_grant(user=principal, role=role_for_status["administrator"], group=group,
                            reason="Telegram anonymous administrators", wanted=wanted, granted=granted)
            stale = RoleAssignment.objects.filter(
                group=group, source=RoleAssignment.Source.TELEGRAM_SYNC, revoked_at__isnull=True
            ).select_related("role", "group")
            for assignment in stale:
                if (assignment.user_id, assignment.role_id) not in wanted:
                    role_revoke(assignment=assignment, reason="no longer a Telegram administrator", actor=None)
                    revoked.append({"user_id": str(assignment.user_id), "role": assignment.role.name})
            former_admins = Membership.objects.filter(group=group, is_admin=True).exclude(user_id__in=synced_user_ids)
            for membership in former_admins:
                membership_set(group=group, user=membership.user, is_admin=False, custom_title="", actor=actor)
            audit_change(action=actions.GROUP_ADMINS_SYNC, actor=actor, target_type="group", target_id=group.pk,
                         group=group, details={"admins": len(admins), "granted": granted, "revoked": revoked})
    return {"admins": len(admins), "granted": granted, "revoked": revoked}
