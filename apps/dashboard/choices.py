"""Core's catalogues that web offers as choices, in its API's filters and its pages' forms (web cannot import core's
models, where they are declared: apps.groups.models.Membership.Status, apps.moderation.models.ModerationAction.Type
and .Status, apps.audit.models.AuditEvent.Result). The audited actions are apps.common.audit_actions."""

MEMBER_STATUSES = ["member", "restricted", "banned", "left", "kicked"]
AUDIT_RESULTS = ["allowed", "denied", "success", "failure"]
MODERATION_TYPES = ["ban", "unban", "kick", "mute", "unmute", "warn", "unwarn", "promote", "demote", "pin", "unpin",
                    "delete", "purge", "report"]
MODERATION_STATUSES = ["requested", "executed", "failed"]
# apps.protection.models.ProtectionSettings' choices, offered by the group page's Protection form and web's PATCH.
CAPTCHA_MODES = ["button", "math", "emoji"]
CAPTCHA_FAILURE_ACTIONS = ["kick", "mute"]
FLOOD_ACTIONS = ["delete", "warn", "mute", "tmute", "kick", "ban", "tban"]
RAID_ACTIONS = ["captcha", "mute", "kick", "ban"]
