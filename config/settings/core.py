"""The centralized API (core): the only role that owns a database."""

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from apps.common.service_scopes import compile_scopes

from .base import *  # noqa: F403
from .base import (
    DATA_DIR,
    INSTALLED_APPS,
    PRODUCTION,
    REST_FRAMEWORK,
    SERVICE_API_KEYS,
    SPECTACULAR_SETTINGS,
)
from .env import env_bool, env_int, env_str, parse_service_scopes

SERVICE_NAME = "centralized-api"
ROLE = "core"  # what code may run here (apps/common/roles.py)
ROOT_URLCONF = "config.urls.core"

INSTALLED_APPS = [
    # Core's pages first: its templates extend the admin's and the browsable API's (apps/corepages).
    "apps.corepages",
    "django.contrib.admin",
    *INSTALLED_APPS,
    "apps.users",
    "apps.groups",
    "apps.rbac",
    "apps.audit",
    "apps.moderation",
    "apps.events",
    "apps.protection",
    "apps.contentrules",
    "apps.banlists",
    "apps.challenges",
    "apps.logchannel",
    "apps.analytics",
    "apps.accounts",
    "drf_spectacular_sidecar",
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
    "DEFAULT_PERMISSION_CLASSES": [
        *REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"],
        "apps.accounts.permissions.ServiceScopePermission",
        "apps.rbac.permissions.ActingUserPermission",
    ],
}
# What each service may call (apps/common/service_scopes.py): SERVICE_SCOPE_<NAME>=endpoints, groups of them, or *.
# bot and web have least-privilege defaults; a service with neither has full access.
SERVICE_SCOPES = compile_scopes(parse_service_scopes(SERVICE_API_KEYS))
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "SERVE_PERMISSIONS": [*SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"],
                          "apps.accounts.permissions.ServiceScopePermission"],
    "TITLE": "Centralized API",
    "DESCRIPTION": "The single source of truth for who may do what in the moderated Telegram groups.",
    # Swagger UI from this instance's static files, as web's: no page loads anything from another host.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")


def _mongodb_database(url: str) -> dict:
    """django-mongodb-backend takes the connection string as HOST; the database is the URL's path."""
    from pymongo.uri_parser import parse_uri

    try:
        parsed = parse_uri(url)
    except Exception as exc:  # pymongo's InvalidURI / ConfigurationError: report them as a settings error
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid MongoDB connection string: {exc}") from None
    if not parsed.get("database"):
        raise ImproperlyConfigured("DATABASE_URL must name the database: mongodb://host:27017/<database>?replicaSet=...")
    return {"ENGINE": "django_mongodb_backend", "HOST": url, "NAME": parsed["database"]}


def _sqlite_database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=None)
    if config["ENGINE"] != "django.db.backends.sqlite3":
        raise ImproperlyConfigured("DATABASE_URL must be sqlite:///<path> or mongodb://host/<database>")
    config["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of deadlocking.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # mmap: reads are served from the operating system's page cache shared by every worker, instead of copied
        # into each connection's own page cache (2 MB by default) a page at a time: a statistics read over a few
        # thousand rows of a 2 GB database took a quarter of the time (docs/benchmarks.md, analytics at full size).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
                        f"PRAGMA mmap_size={env_int('SQLITE_MMAP_BYTES', 1 << 30)}; "
                        f"PRAGMA cache_size=-{env_int('SQLITE_CACHE_KIB', 16_384)};",
    }
    return config


DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'core.sqlite3'}")
MONGODB = DATABASE_URL.startswith(MONGODB_SCHEMES)

if MONGODB:
    # The MongoDB profile (docs/mongodb.md): ObjectId primary keys everywhere, so the contrib apps get
    # app configs that say so, and every app with models migrates from its own tree under mongo_migrations/.
    DATABASES = {"default": _mongodb_database(DATABASE_URL)}
    DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
    _MONGO_APP_CONFIGS = {
        "django.contrib.admin": "config.mongo_apps.MongoAdminConfig",
        "django.contrib.auth": "config.mongo_apps.MongoAuthConfig",
        "django.contrib.contenttypes": "config.mongo_apps.MongoContentTypesConfig",
    }
    INSTALLED_APPS = [_MONGO_APP_CONFIGS.get(app, app) for app in INSTALLED_APPS]
    MIGRATION_MODULES = {
        label: f"mongo_migrations.{label}"
        for label in ("admin", "auth", "contenttypes", "users", "groups", "rbac", "audit", "moderation", "events",
                      "accounts", "protection", "contentrules", "banlists", "challenges", "logchannel", "analytics")
    }
else:
    DATABASES = {"default": _sqlite_database(DATABASE_URL)}

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

# How long a cached permission decision may live; correctness never depends on it (see rbac.decisions).
RBAC_DECISION_CACHE_SECONDS = 300

# How many active ban lists one user may own (issue 16); global staff with BAN_LIST_MANAGE are not bound.
BANLIST_MAX_OWNED = 5

# Base's chain with: WhiteNoise (the admin's and the browsable API's static files, served by core itself in
# production straight from the apps' static directories, no collectstatic step, so an operator's admin is styled
# without another server); sessions, Django's authentication and messages skipped on a service's call to the API
# (/api/ with X-API-Key), which its key alone authenticates (apps/common/browser_middleware.py; false: run on
# those too); django-prometheus's labelled series looked up once each (apps/common/metrics.py).
# tests/common/test_browser_middleware.py checks that each part of base's chain is here, or a subclass of it.
SERVICE_CALLS_SKIP_BROWSER_MIDDLEWARE = env_bool("SERVICE_CALLS_SKIP_BROWSER_MIDDLEWARE", True)
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.common.middleware.RequestContextMiddleware",
    "apps.common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.common.browser_middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "apps.common.browser_middleware.AuthenticationMiddleware",
    "apps.common.browser_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.common.metrics.PrometheusAfterMiddleware",
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = not PRODUCTION


def _checkpoint_keys(raw: str) -> dict[str, bytes]:
    """AUDIT_CHECKPOINT_KEYS="kid1:secret1,kid2:secret2": the first signs, every one verifies (rotation: list the
    new key first and keep the old ones while their checkpoints matter)."""
    keys = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key_id, _, secret = item.partition(":")
        if not key_id.strip() or len(secret.strip()) < 16 or key_id.strip() in keys:
            raise ImproperlyConfigured("AUDIT_CHECKPOINT_KEYS must be comma-separated id:secret pairs, distinct ids, "
                                       "secrets of 16 characters or more")
        keys[key_id.strip()] = secret.strip().encode()
    return keys


# The audit checkpoints' HMAC keys (apps/audit/streams.py). Outside the database by design; never logged. A
# production deployment without them fails `check --deploy` (apps/audit/checks.py); development derives one
# from this data folder's secret key.
AUDIT_CHECKPOINT_KEYS = _checkpoint_keys(env_str("AUDIT_CHECKPOINT_KEYS"))
if not AUDIT_CHECKPOINT_KEYS and not PRODUCTION:
    import hashlib as _hashlib
    import hmac as _hmac

    AUDIT_CHECKPOINT_KEYS = {
        "dev": _hmac.new(SECRET_KEY.encode(), b"audit-checkpoint", _hashlib.sha256).hexdigest().encode()}
