"""The garbage collector's full passes, kept short in long-running server processes."""

import gc

from django.conf import settings


def freeze_startup_objects() -> None:
    """Moves every object alive now (modules, settings, URL patterns, serializers: what a process holds for its
    whole life) out of the collector's reach. A full pass over a started core worker walks about 75,000 such
    objects, 26-34 ms during which the process serves nothing, and one comes every few requests that allocate
    much (an event batch); afterwards a pass walks only what requests left behind. Call once startup is done.
    The objects are still freed by reference counting; only cycles among them are no longer collected.
    GC_FREEZE_AFTER_STARTUP=false leaves the collector as Python has it."""
    if not settings.GC_FREEZE_AFTER_STARTUP:
        return
    gc.collect()
    gc.freeze()
