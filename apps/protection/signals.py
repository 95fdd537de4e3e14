"""Sent once the change they describe is committed (never for a change rolled back), for core's own listeners (the
log channel). Receivers get keyword arguments only.

settings_changed(group, actor, changed): `changed` maps each changed field to [before, after]; actor None: the
system.
raid_changed(group, actor, active, until): actor None when the bot's raid detection switched it.
"""

from django.dispatch import Signal

settings_changed = Signal()
raid_changed = Signal()
