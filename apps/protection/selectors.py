"""Reads of group protection: a group's settings in their one shape, versions for the bot's cache, who is exempt,
who is approved."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.banlists.selectors import group_ban_lists
from apps.common.contentrules import compile_rules
from apps.contentrules.selectors import content_rules_view
from apps.groups.models import Group, Membership
from apps.rbac.catalogue import APPROVED_ROLE
from apps.rbac.models import RoleAssignment
from apps.rbac.selectors import actor_has_permission
from apps.users.models import User

from .models import ProtectionSettings

# Kept on Group (the dashboard's group page edits them too); the rest of the settings are ProtectionSettings'.
GROUP_FIELDS = ("welcome_text", "rules_text", "log_chat_id")
PROTECTION_FIELDS = (
    "welcome_enabled", "goodbye_enabled", "goodbye_text", "clean_welcome", "clean_service", "rules_private",
    "captcha_enabled", "captcha_mode", "captcha_timeout_seconds", "captcha_failure_action", "captcha_max_attempts",
    "flood_limit", "flood_window_seconds", "flood_action", "flood_action_duration_seconds", "flood_delete_messages",
    "raid_detection", "raid_join_limit", "raid_window_seconds", "raid_duration_minutes", "raid_action",
    "lock_warns", "blocklist_action", "blocklist_action_duration_seconds", "blocklist_delete",
    "blocklist_joiner_names", "private_notes", "disabled_commands", "disabled_delete", "clean_commands",
    "denials_private", "reports_enabled",
)
EDITABLE_FIELDS = (*GROUP_FIELDS, *PROTECTION_FIELDS)

EXEMPT_ADMIN = "admin"
EXEMPT_APPROVED = "approved"
BYPASS_PERMISSION = "BYPASS_PROTECTION"


def protection_row(*, group: Group) -> ProtectionSettings:
    """The group's stored settings, or (unsaved) the defaults when it has none yet."""
    return ProtectionSettings.objects.filter(group=group).first() or ProtectionSettings(group=group)


def protection_view(*, group: Group, row: ProtectionSettings | None = None) -> dict:
    """The settings in their one wire shape (apps.common.shapes.ProtectionSettingsSerializer)."""
    row = row if row is not None else protection_row(group=group)
    view = {"group_id": str(group.pk), "telegram_chat_id": group.telegram_chat_id, "title": group.title,
            "version": group.settings_version}
    view.update({name: getattr(group, name) for name in GROUP_FIELDS})
    view.update({name: getattr(row, name) for name in PROTECTION_FIELDS})
    raid_until = row.raid_until
    view["raid_until"] = raid_until if raid_until is not None and raid_until > timezone.now() else None
    view.update(content_rules_view(group=group))
    view["ban_lists"] = group_ban_lists(group=group)
    return view


def protection_test(*, group: Group, message: dict) -> dict:
    """The content rules' explanation of a message (apps.common.contentrules: explain) against the group's
    current settings, and their version."""
    view = protection_view(group=group)
    return {"version": view["version"], **compile_rules(view).explain(message)}


def settings_versions(*, telegram_chat_ids) -> dict[int, int]:
    """Chat id -> its group's settings version, for the chats core knows by their current id."""
    rows = Group.objects.filter(telegram_chat_id__in=list(set(telegram_chat_ids)))
    return dict(rows.values_list("telegram_chat_id", "settings_version"))


def exemption(*, group: Group, user: User) -> str | None:
    """Why the member is exempt from automated protection in the group: "admin" (a Telegram administrator or owner
    there, as core's membership says), "approved" (holds BYPASS_PROTECTION there, a global grant included), or
    None. Never an exemption from manual moderation."""
    if Membership.objects.filter(group=group, user=user, is_admin=True).exists():
        return EXEMPT_ADMIN
    if user.is_active and actor_has_permission(user=user, permission=BYPASS_PERMISSION, group=group):
        return EXEMPT_APPROVED
    return None


def approval_list(*, group: Group) -> QuerySet[RoleAssignment]:
    """The group's live grants of the built-in role `approved`, newest first."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return (RoleAssignment.objects.filter(live, group=group, role__name=APPROVED_ROLE, revoked_at__isnull=True)
            .select_related("user").order_by("-created_at", "-pk"))


def approval_get(*, group: Group, user: User) -> RoleAssignment | None:
    """The member's live approval in the group (a group-scoped grant), if any."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return RoleAssignment.objects.filter(live, group=group, user=user, role__name=APPROVED_ROLE,
                                         revoked_at__isnull=True).select_related("role").first()
