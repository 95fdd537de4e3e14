"""The bot role: a Telegram worker that asks core; it has no database (an ORM call fails loudly)."""

import socket

from .base import *  # noqa: F403
from .base import DATA_DIR, INSTALLED_APPS, PRODUCTION
from .env import env_bool, env_int, env_str

SERVICE_NAME = "bot"
ROLE = "bot"  # what code may run here (apps/common/roles.py)
ROOT_URLCONF = "config.urls.bot"
# No API schema either (drf_spectacular would read core's models to build one).
INSTALLED_APPS = [
    *(app for app in INSTALLED_APPS
      if app not in {"django.contrib.sessions", "django.contrib.messages", "drf_spectacular"}),
    "apps.botgateway",
]
# Django serves health, metrics and 404s (the webhook is answered before Django, in asgi.py); CSRF and frame
# protection cost nothing there and keep `check --deploy` clean.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.common.middleware.RequestContextMiddleware",
    "apps.common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# No usable database: Django's dummy backend raises on any query.
DATABASES: dict = {}

# Telegram. Without a token, development runs against the local sandbox (tgsandbox).
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN", "" if PRODUCTION else "123456:sandbox-token")
TELEGRAM_API_BASE_URL = env_str("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot")
TELEGRAM_WEBHOOK_SECRET = env_str("TELEGRAM_WEBHOOK_SECRET", "" if PRODUCTION else "dev-webhook-secret")
TELEGRAM_WEBHOOK_URL = env_str("TELEGRAM_WEBHOOK_URL")  # public URL Telegram posts to (setwebhook command)
BOT_MODE = env_str("BOT_MODE", "webhook")
# A plain text message in a known group is counted by the webhook itself instead of python-telegram-bot's dispatch
# (apps/botgateway/webhook.py). Off: every update goes through the application; tests/botgateway/
# test_plain_message_shortcut.py proves both make the same answers and events.
BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT = env_bool("BOT_WEBHOOK_PLAIN_MESSAGE_SHORTCUT", True)

CORE_API_URL = env_str("CORE_API_URL", "http://127.0.0.1:8000")
CORE_API_KEY = env_str("CORE_API_KEY", "" if PRODUCTION else "dev-service-key")
# A command's core calls must fail fast enough to answer "temporarily unavailable" within 2 s.
BOT_CORE_TIMEOUT_SECONDS = 0.8
BOT_OUTBOX_PATH = DATA_DIR / env_str("BOT_OUTBOX_FILE", "bot-outbox.sqlite3")
# How the outbox file commits what the webhook acknowledges: "normal" (WAL, survives the bot process being killed)
# or "full" (fsync per group commit: survives a power loss or OS crash too). See apps/botgateway/outbox_store.py.
BOT_OUTBOX_SYNCHRONOUS = env_str("BOT_OUTBOX_SYNCHRONOUS", "normal").upper()
# Several replicas (apps/botgateway/replicas/): set, the webhook appends updates to a Redis Stream partitioned by
# chat, and each partition is handled by one replica at a time. Unset (the default), one process with its outbox.
BOT_REDIS_URL = env_str("BOT_REDIS_URL")
BOT_STREAM_PREFIX = env_str("BOT_STREAM_PREFIX", "tgmod:bot")
BOT_STREAM_PARTITIONS = env_int("BOT_STREAM_PARTITIONS", 16)
# A dead replica's partitions are taken over once its lease runs out (the bound is 10 s).
BOT_STREAM_LEASE_SECONDS = env_int("BOT_STREAM_LEASE_SECONDS", 4)
# How long an update id is remembered, so Telegram's redelivery of an update already added is dropped.
BOT_STREAM_DEDUPE_SECONDS = env_int("BOT_STREAM_DEDUPE_SECONDS", 3600)
BOT_REPLICA_NAME = env_str("BOT_REPLICA_NAME", socket.gethostname())  # Kubernetes: the pod's name
# How often the bot asks core whether the protection settings it caches changed (protection/settings_cache.py).
BOT_PROTECTION_REFRESH_SECONDS = env_int("BOT_PROTECTION_REFRESH_SECONDS", 2)
# How often the bot asks core for the join challenges whose time ran out (protection/captcha.py).
BOT_CAPTCHA_SWEEP_SECONDS = env_int("BOT_CAPTCHA_SWEEP_SECONDS", 3)
# Ban lists (federations/): how often the bot asks core whether the lists it caches changed, how often the
# propagation worker claims owed bans when nothing woke it, and how many of those Telegram calls it makes a second.
BOT_BANLIST_REFRESH_SECONDS = env_int("BOT_BANLIST_REFRESH_SECONDS", 5)
BOT_BANLIST_POLL_SECONDS = env_int("BOT_BANLIST_POLL_SECONDS", 5)
BOT_BANLIST_RATE = env_int("BOT_BANLIST_RATE", 20)
BOT_BANLIST_LEASE_SECONDS = env_int("BOT_BANLIST_LEASE_SECONDS", 120)  # work a killed bot held waits this long
