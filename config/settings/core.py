"""The centralized API (core): the only role that owns a database."""

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATA_DIR, INSTALLED_APPS, REST_FRAMEWORK, SPECTACULAR_SETTINGS
from .env import env_str

SERVICE_NAME = "centralized-api"
ROOT_URLCONF = "config.urls.core"

INSTALLED_APPS = [
    "django.contrib.admin",
    *INSTALLED_APPS,
    "apps.users",
    "apps.groups",
    "apps.rbac",
    "apps.audit",
    "apps.moderation",
    "apps.events",
]
AUTH_USER_MODEL = "users.User"

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_RENDERER_CLASSES": [
        "apps.common.envelope.EnvelopeJSONRenderer",
        "apps.common.envelope.EnvelopeBrowsableAPIRenderer",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.common.auth.ServiceAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Centralized API",
    "DESCRIPTION": "The single source of truth for who may do what in the moderated Telegram groups.",
}


def _database_from_url(url: str) -> dict:
    if url.startswith(("mongodb://", "mongodb+srv://")):
        raise ImproperlyConfigured("MongoDB support is not available in this build; use a sqlite:// DATABASE_URL")
    config = dj_database_url.parse(url, conn_max_age=None)
    if config["ENGINE"] != "django.db.backends.sqlite3":
        raise ImproperlyConfigured("DATABASE_URL must be sqlite:///<path> (MongoDB arrives with its own profile)")
    config["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of deadlocking.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    return config


DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": _database_from_url(env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'core.sqlite3'}"))}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# How long a cached permission decision may live; correctness never depends on it (see rbac.selectors).
RBAC_DECISION_CACHE_SECONDS = 300
HEALTH_CHECKS = ["database", "cache"]
