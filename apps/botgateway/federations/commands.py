"""SCAFFOLD (BOT-CMD builds it): the /fed... commands."""


def handlers() -> list:
    return []
