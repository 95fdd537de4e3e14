"""Signals of the moderation records, for the core apps layered above moderation (which it may not import)."""

from django.dispatch import Signal

# Sent inside the transaction that completes a moderation action (executed or failed), once per action, with
# `action` (the completed ModerationAction): a receiver's writes commit or roll back with the completion.
action_completed = Signal()
