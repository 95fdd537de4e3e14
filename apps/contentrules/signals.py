"""Sent once a change of a group's content rules is committed (never for one rolled back), for core's own listeners
(the log channel may post it as it posts settings changes). Receivers get keyword arguments only.

rules_changed(group, actor, action, details): `action` is the audit action (protection.lock, protection.blocklist,
protection.filter, protection.note), `details` the audit row's details; actor None: the calling service itself.
"""

from django.dispatch import Signal

rules_changed = Signal()
