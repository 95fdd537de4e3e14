"""SCAFFOLD (BOT-ENF builds it): the propagation worker, started and stopped with the application."""


def start(application) -> None:
    """Starts the worker (once); BOT-ENF keeps whatever it needs on application.bot_data."""


async def stop(application) -> None:
    """Stops the worker, letting a Telegram call in flight finish."""
