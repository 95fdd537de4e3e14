#!/usr/bin/env python
"""Django's manage.py, aware of the three roles: each command runs with the settings of the role it belongs to
(`runbot` and `telegram_webhook` the bot's, everything else core's), so `manage.py <command>` works as
the README writes it. An explicit DJANGO_SETTINGS_MODULE always wins. Run from a git checkout, APP_ENV defaults to
development (a container image has no .git and keeps production as its default)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BOT_COMMANDS = {"runbot", "telegram_webhook"}


def settings_for(argv: list[str]) -> str:
    words = [arg for arg in argv[1:] if not arg.startswith("-")]
    command = words[1] if words[:1] == ["help"] and len(words) > 1 else next(iter(words), "")
    return "config.settings.bot" if command in BOT_COMMANDS else "config.settings.core"


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_for(sys.argv))
    if (ROOT / ".git").exists():
        os.environ.setdefault("APP_ENV", "development")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
