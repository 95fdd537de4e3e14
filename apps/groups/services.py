"""Every write to groups and memberships; each audits itself in the same transaction."""

from datetime import date

from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, ValidationFailed
from apps.users.models import User
from apps.users.services import user_bump_rbac_version

from .models import (
    MAX_RESTRICTION_SECONDS,
    MAX_WARN_EXPIRY_SECONDS,
    MIN_RESTRICTION_SECONDS,
    MIN_WARN_EXPIRY_SECONDS,
    ChatIdAlias,
    Group,
    Membership,
    is_timezone_name,
)
from .signals import group_changed

SETTINGS_FIELDS = ("title", "is_active", "warn_limit", "warn_action", "warn_action_duration_seconds",
                   "warn_expiry_seconds", "welcome_text", "rules_text", "log_chat_id", "timezone",
                   "weekly_digest")


def _audit_group_change(*, action: str, group: Group, actor: User | None, details: dict) -> None:
    audit_change(action=action, actor=actor, target_type="group", target_id=group.pk, group=group, details=details)


def group_register(*, telegram_chat_id: int, title: str, type: str, actor: User | None = None) -> tuple[Group, bool]:
    """Registers a chat; registering it again (by its id or a migrated-from id) returns the same group."""
    existing = Group.objects.filter(telegram_chat_id=telegram_chat_id).first()
    if existing is None:
        alias = ChatIdAlias.objects.filter(telegram_chat_id=telegram_chat_id).select_related("group").first()
        existing = alias.group if alias else None
    if existing:
        return existing, False
    try:
        for attempt in atomic_attempts():
            with attempt:
                group = Group.objects.create(telegram_chat_id=telegram_chat_id, title=title, type=type)
                _audit_group_change(action=actions.GROUP_CREATE, group=group, actor=actor,
                                    details={"telegram_chat_id": telegram_chat_id, "title": title, "type": type})
    except IntegrityError:  # registered concurrently
        return Group.objects.get(telegram_chat_id=telegram_chat_id), False
    return group, True


def group_update(*, group: Group, actor: User | None = None, **changes) -> Group:
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))}")
    merged = {name: changes.get(name, getattr(group, name)) for name in SETTINGS_FIELDS}
    if merged["warn_action"] == Group.WarnAction.TMUTE:
        duration = merged["warn_action_duration_seconds"]
        if duration is None:
            raise ValidationFailed("warn_action tmute needs warn_action_duration_seconds",
                                   details={"warn_action_duration_seconds": ["Required when warn_action is tmute."]})
        if not MIN_RESTRICTION_SECONDS <= duration <= MAX_RESTRICTION_SECONDS:
            raise ValidationFailed("warn_action_duration_seconds must be between 30 seconds and 366 days")
    expiry = merged["warn_expiry_seconds"]
    if expiry is not None and not MIN_WARN_EXPIRY_SECONDS <= expiry <= MAX_WARN_EXPIRY_SECONDS:
        raise ValidationFailed("warn_expiry_seconds must be between 30 seconds and 366 days (null: never)",
                               details={"warn_expiry_seconds": ["30 seconds to 366 days, or null."]})
    if "timezone" in changes and not is_timezone_name(changes["timezone"]):
        raise ValidationFailed("timezone must be an IANA time zone name such as Europe/Berlin",
                               details={"timezone": ["Unknown time zone."]})
    changed = {name: value for name, value in changes.items() if getattr(group, name) != value}
    if not changed:
        return group
    before = {name: getattr(group, name) for name in changed}
    for attempt in atomic_attempts():
        with attempt:
            for name, value in changed.items():
                setattr(group, name, value)
            # is_active needs no cache bump: permission checks read the group row itself on every call.
            group.save(update_fields=[*changed, "updated_at"])
            group_bump_settings_version(group=group)
            described = {name: [before[name], value] for name, value in changed.items()}
            _audit_group_change(action=actions.GROUP_UPDATE, group=group, actor=actor, details={"changed": described})
            group_changed.send(sender=Group, group=group, actor=actor, changed=described)
    return group


def group_bump_settings_version(*, group: Group) -> int:
    """Makes every cached copy of the group's settings stale (the bot's, by version): call inside the change's
    transaction. Sets the new version on `group` and returns it."""
    Group.objects.filter(pk=group.pk).update(settings_version=F("settings_version") + 1)
    group.settings_version = Group.objects.filter(pk=group.pk).values_list("settings_version", flat=True).get()
    return group.settings_version


def group_digest_week_claim(*, group: Group, week: date) -> bool:
    """Marks `week` (its Monday) as digested for the group, unless it or a later week already is, or the digest or
    the log chat was switched off meanwhile: one conditional update, so of several processes claiming at once only
    one's counts. Answers whether this caller's did (that caller, and only it, writes the digest). Bookkeeping, not
    a setting: no audit row, no settings version. Joins the caller's transaction."""
    return bool(Group.objects.filter(Q(digest_sent_week__isnull=True) | Q(digest_sent_week__lt=week), pk=group.pk,
                                     weekly_digest=True, is_active=True, log_chat_id__isnull=False)
                .update(digest_sent_week=week))


def group_migrate(*, group: Group, new_telegram_chat_id: int, actor: User | None = None) -> Group:
    """Telegram upgraded the chat to a supergroup under a new id: everything follows, the old id still resolves."""
    old_chat_id = group.telegram_chat_id
    if new_telegram_chat_id == old_chat_id:
        return group
    for attempt in atomic_attempts():
        with attempt:
            if Group.objects.filter(telegram_chat_id=new_telegram_chat_id).exclude(pk=group.pk).exists():
                raise ConflictError(f"Chat id {new_telegram_chat_id} already belongs to another group")
            ChatIdAlias.objects.filter(telegram_chat_id=new_telegram_chat_id).delete()
            ChatIdAlias.objects.create(group=group, telegram_chat_id=old_chat_id)
            group.telegram_chat_id = new_telegram_chat_id
            group.type = Group.Type.SUPERGROUP
            group.save(update_fields=["telegram_chat_id", "type", "updated_at"])
            group_bump_settings_version(group=group)
            _audit_group_change(action=actions.GROUP_MIGRATE, group=group, actor=actor,
                                details={"from_telegram_chat_id": old_chat_id,
                                         "to_telegram_chat_id": new_telegram_chat_id})
    return group


def membership_set(*, group: Group, user: User, status: str | None = None, is_admin: bool | None = None,
                   custom_title: str | None = None, restricted_until=None, actor: User | None = None,
                   audit: bool = True) -> Membership:
    """Creates or updates a membership. Its status feeds group-scoped permission checks, so changes bump versions."""
    for attempt in atomic_attempts():
        with attempt:
            membership = Membership.objects.filter(group=group, user=user).first()
            created = membership is None
            if created:
                membership = Membership(group=group, user=user, status=status or Membership.Status.MEMBER)
                previous_status = None
            else:
                previous_status = membership.status
            changes = {}
            if status is not None and (created or status != membership.status):
                changes["status"] = status
            if is_admin is not None and (created or is_admin != membership.is_admin):
                changes["is_admin"] = is_admin
            if custom_title is not None and (created or custom_title != membership.custom_title):
                changes["custom_title"] = custom_title
            if restricted_until is not None:
                changes["restricted_until"] = restricted_until
            elif membership.restricted_until and changes.get("status", Membership.Status.RESTRICTED) != (
                Membership.Status.RESTRICTED
            ):
                changes["restricted_until"] = None  # no longer restricted
            if not created and not changes:
                return membership
            for name, value in changes.items():
                setattr(membership, name, value)
            was_present = previous_status in Membership.PRESENT
            is_present = membership.status in Membership.PRESENT
            now = timezone.now()
            if is_present and not was_present and not created:
                membership.joined_at, membership.left_at = now, None  # came back
            elif (was_present or created) and not is_present:
                membership.left_at = now
            membership.save()
            if was_present != is_present:
                Group.objects.filter(pk=group.pk).update(member_count=F("member_count") + (1 if is_present else -1))
            if created or "status" in changes:
                user_bump_rbac_version(user_id=user.pk)
            if audit:
                audit_change(action=actions.MEMBERSHIP_UPSERT, actor=actor, target_type="user", target_id=user.pk,
                             group=group,
                             details={"previous_status": previous_status, **{k: _plain(v) for k, v in changes.items()}})
    return membership


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
