"""The rollups follow the events and the group's clock, inside the transactions that change them."""

from django.dispatch import receiver

from apps.events.signals import events_ingested
from apps.groups.signals import group_changed

from .rollups import analytics_rebuild, rollups_add


@receiver(events_ingested, dispatch_uid="analytics.events_ingested")
def _events_ingested(sender, *, activity, **kwargs):
    rollups_add(activity=activity)


@receiver(group_changed, dispatch_uid="analytics.group_changed")
def _group_changed(sender, *, group, changed, **kwargs):
    if "timezone" in changed:
        analytics_rebuild(group=group)
