"""The running Application of this process (webhook mode), started and stopped by the ASGI lifespan."""

from .context import BotApplication

_application: BotApplication | None = None


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
    _application = application
    return application


async def stop_webhook_application() -> None:
    global _application
    application, _application = _application, None
    if application is not None:
        await application.stop()
        await application.post_shutdown(application)
        await application.shutdown()
