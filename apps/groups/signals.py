"""Signals of the groups app, for the core apps layered above it (which it may not import)."""

from django.dispatch import Signal

# Sent inside the transaction of group_update, once per call that changed something, with `group`, `actor` (a user,
# or None for the system) and `changed` ({field: [before, after]}): a receiver's writes commit or roll back with it.
group_changed = Signal()
