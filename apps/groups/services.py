from django.db import IntegrityError

from apps.audit import actions
from apps.audit.services import audit_record
from apps.common.db import atomic_attempts
from apps.users.models import User
from apps.users.services import user_bump_rbac_version

from .models import Group, Membership


def group_register(*, telegram_chat_id: int, title: str, type: str, actor: User | None = None) -> tuple[Group, bool]:
    """Registers a chat; registering the same chat again returns the existing group (created=False)."""
    existing = Group.objects.filter(telegram_chat_id=telegram_chat_id).first()
    if existing:
        return existing, False
    try:
        for attempt in atomic_attempts():
            with attempt:
                group = Group.objects.create(telegram_chat_id=telegram_chat_id, title=title, type=type)
                audit_record(
                    action=actions.GROUP_CREATE,
                    result="success",
                    actor_user_id=actor.pk if actor else None,
                    target_type="group",
                    target_id=group.pk,
                    group_id=group.pk,
                    details={"telegram_chat_id": telegram_chat_id, "title": title, "type": type},
                )
    except IntegrityError:  # registered concurrently
        return Group.objects.get(telegram_chat_id=telegram_chat_id), False
    return group, True


def membership_set(*, group: Group, user: User, status: str, actor: User | None = None) -> Membership:
    """Creates or updates a user's membership; its status feeds group-scoped permission checks."""
    for attempt in atomic_attempts():
        with attempt:
            membership, created = Membership.objects.get_or_create(group=group, user=user, defaults={"status": status})
            previous = None if created else membership.status
            if not created and membership.status != status:
                membership.status = status
                membership.save(update_fields=["status", "updated_at"])
            if created or previous != status:
                user_bump_rbac_version(user_id=user.pk)
                audit_record(
                    action=actions.MEMBERSHIP_UPSERT,
                    result="success",
                    actor_user_id=actor.pk if actor else None,
                    target_type="user",
                    target_id=user.pk,
                    group_id=group.pk,
                    details={"status": status, "previous_status": previous},
                )
    return membership
