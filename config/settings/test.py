"""Test profile: core on a throwaway SQLite database, fast hashing, known API keys."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("APP_ENV", "development")
os.environ.setdefault("SERVICE_API_KEYS", "tests=test-key,bot=bot-key,web=web-key")

from .core import *  # noqa: F403

# Every role's code runs in the test process (bot and web's clients against core's app in it): nothing refuses on
# role grounds; the tests of those boundaries set ROLE themselves (apps/common/roles.py).
ROLE = "all"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "WARNING"

if not MONGODB:
    # A file, not SQLite's shared-cache memory database: real WAL locking, so concurrency tests mean something.
    # Named per process, so concurrent test runs never share one file.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"tgmod-test-{os.getpid()}.sqlite3")}

# The bot's and web's framework-bypass switches, for their code run in this process (defaults as in bot.py, web.py).
ASGI_SYNC_MIDDLEWARE_CHAIN = True
BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT = True
# The bot's protection timers, for its code run in this process (defaults as in bot.py).
BOT_PROTECTION_REFRESH_SECONDS = 2
BOT_CAPTCHA_SWEEP_SECONDS = 3
BOT_BANLIST_REFRESH_SECONDS = 5
BOT_BANLIST_POLL_SECONDS = 5
BOT_BANLIST_RATE = 20
