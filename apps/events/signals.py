"""Signals of the events app, for the core apps layered above it (which it may not import)."""

from django.dispatch import Signal

# Sent inside the ingest's transaction, once per batch that stored events, with `events`: (group, user pk or None,
# type, occurred_at) of each event stored (a replayed event id is not among them). A receiver's writes commit or
# roll back with the events (apps.analytics keeps its rollups so).
events_ingested = Signal()
