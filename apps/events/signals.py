"""Signals of the events app, for the core apps layered above it (which it may not import)."""

from django.dispatch import Signal

# Sent inside the ingest's transaction, once per turn that stored events, with `activity`: the events stored (a
# replayed event id is not among them) tallied as ((group, user pk or None, type, UTC minute since the epoch),
# [events, first, last occurred_at as epoch milliseconds]). A receiver's writes commit or roll back with the events
# (apps.analytics keeps its rollups so).
events_ingested = Signal()
