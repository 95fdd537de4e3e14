"""What the log channel listens to: moderation's completions, a ban list's bans, unbans and imports, and changes
through the groups endpoint (inside their transaction), protection's settings changes and raid switches, content-rule
changes (after they committed)."""

from django.dispatch import receiver

from apps.banlists.signals import ban_list_logged
from apps.contentrules.signals import rules_changed
from apps.groups.signals import group_changed
from apps.moderation.signals import action_completed
from apps.protection.signals import raid_changed, settings_changed

from .services import (
    log_action_completed,
    log_ban_list_event,
    log_raid_changed,
    log_rules_changed,
    log_settings_changed,
)


@receiver(action_completed, dispatch_uid="logchannel.action_completed")
def _action_completed(sender, *, action, **kwargs):
    log_action_completed(action=action)


@receiver(settings_changed, dispatch_uid="logchannel.settings_changed")
def _settings_changed(sender, *, group, actor, changed, **kwargs):
    log_settings_changed(group=group, actor=actor, changed=changed)


@receiver(raid_changed, dispatch_uid="logchannel.raid_changed")
def _raid_changed(sender, *, group, actor, active, until, **kwargs):
    log_raid_changed(group=group, actor=actor, active=active, until=until)


@receiver(rules_changed, dispatch_uid="logchannel.rules_changed")
def _rules_changed(sender, *, group, actor, action, details, **kwargs):
    log_rules_changed(group=group, actor=actor, action=action, details=details)


# The bot's bookkeeping of a chat through the groups endpoint (its title, whether the bot is still in it) is no setting.
_NOT_SETTINGS = frozenset({"title", "is_active"})


@receiver(group_changed, dispatch_uid="logchannel.group_changed")
def _group_changed(sender, *, group, actor, changed, **kwargs):
    settings = {name: values for name, values in changed.items() if name not in _NOT_SETTINGS}
    if settings:
        log_settings_changed(group=group, actor=actor, changed=settings)


@receiver(ban_list_logged, dispatch_uid="logchannel.ban_list_logged")
def _ban_list_logged(sender, *, ban_list, event, actor, details, **kwargs):
    log_ban_list_event(ban_list=ban_list, event=event, actor=actor, details=details)
