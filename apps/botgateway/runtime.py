"""The running Application of this process (webhook mode), started and stopped by the ASGI lifespan; with
BOT_REDIS_URL, its replica of the shared update log too (replicas/)."""

from django.conf import settings

from .context import BotApplication

_application: BotApplication | None = None
_replica = None  # replicas.service.Replica, with BOT_REDIS_URL


def current_update_log():
    """The shared update log the webhook appends to, or None: the local outbox file takes updates."""
    return _replica.log if _replica is not None else None


def current_application() -> BotApplication | None:
    return _application


async def start_webhook_application() -> BotApplication:
    global _application
    from .application import build_application

    application = build_application(with_updater=False)
    await application.initialize()
    # run_polling/run_webhook call these hooks themselves; serving the webhook from Django, we do.
    await application.post_init(application)
    await application.start()
    if settings.BOT_REDIS_URL:
        global _replica
        from .replicas.service import Replica

        replica = Replica(application)
        await replica.start()
        _replica = replica
    _application = application
    return application


async def stop_webhook_application() -> None:
    global _application, _replica
    application, _application = _application, None
    replica, _replica = _replica, None
    if replica is not None:  # its partitions given back first, their batches in hand acknowledged
        await replica.stop()
    if application is not None:
        await application.stop()
        await application.post_shutdown(application)
        await application.shutdown()
