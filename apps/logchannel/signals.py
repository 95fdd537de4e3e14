"""Signals of the log channel, for the core apps layered above it (which it may not import)."""

from django.dispatch import Signal

# Sent by log_entries_claim before it reads the pending entries, with `now`: a receiver may write entries that are
# due lazily (the weekly digest, apps.analytics.digests), and they are claimed in the same round. A receiver's
# failure must not stop the claim: receivers catch their own errors.
log_claim_started = Signal()
