"""Settings shared by every role. Each role's profile imports this and adds its own part.

Everything configurable comes from the environment; the defaults need nothing installed.
"""

from ipaddress import ip_network
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import development_secret_key, env_bool, env_int, env_list, env_str, parse_service_keys

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data")))

VERSION = "1.0.0"
SERVICE_NAME = "unset"  # each role's profile names itself

# production is the safe default for an image; `make run` and the tests set development.
ENVIRONMENT = env_str("APP_ENV", "production").lower()
if ENVIRONMENT not in {"production", "development"}:
    raise ImproperlyConfigured("APP_ENV must be 'production' or 'development'")
PRODUCTION = ENVIRONMENT == "production"

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when APP_ENV=production")
    SECRET_KEY = development_secret_key(DATA_DIR)

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1],testserver")
PORT = env_int("PORT", 8000)
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()

# name=key pairs; every role accepts the keys of the services that may call it.
SERVICE_API_KEYS = parse_service_keys(env_str("SERVICE_API_KEYS", "" if PRODUCTION else "dev=dev-service-key"))

REDIS_URL = env_str("REDIS_URL")

# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; none by default, so the client is the
# socket's peer (apps/common/client_address.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES must list IP addresses or networks: {_exc}") from None

# Failed logins, per account and per client address (apps/common/ratelimit.py): web's login, core's admin and
# browsable-API logins and its credential check. Shared by every worker and replica only with REDIS_URL.
LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
LOGIN_MAX_FAILURES_PER_IP = env_int("LOGIN_MAX_FAILURES_PER_IP", 20)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_prometheus",
    "apps.common",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.common.middleware.RequestContextMiddleware",
    "apps.common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

APPEND_SLASH = False
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static_collected"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MAX_REQUEST_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Redis down degrades to uncached decisions (logged, and /api/health says it is disconnected), never a 500.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
            "KEY_PREFIX": "tgmod",
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "apps.common.cache"
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 100_000}}
    }

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["apps.common.envelope.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.common.auth.ServiceAPIKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.common.auth.IsServiceOrStaff"],
    "DEFAULT_SCHEMA_CLASS": "apps.common.schema.EnvelopeAutoSchema",
    "EXCEPTION_HANDLER": "apps.common.errors.envelope_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and the docs need a key (or a staff session) like every endpoint but health and metrics.
    "SERVE_AUTHENTICATION": [
        "apps.common.auth.ServiceAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SERVE_PERMISSIONS": ["apps.common.auth.IsServiceOrStaff"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.common.schema.document_common_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ConnectionState": ["connected", "disconnected"],
        "RedisState": ["connected", "disconnected", "not_configured"],
        "HealthStatus": ["healthy", "unhealthy"],
        "MembershipStatus": "apps.groups.models.Membership.Status",
        "AuditResult": "apps.audit.models.AuditEvent.Result",
        "GroupType": "apps.groups.models.Group.Type",
        "WarnAction": "apps.groups.models.Group.WarnAction",
        "ModerationActionType": "apps.moderation.models.ModerationAction.Type",
        "ModerationActionStatus": "apps.moderation.models.ModerationAction.Status",
        "CaptchaMode": "apps.protection.models.ProtectionSettings.CaptchaMode",
        # What an automated protection does to an offender (antiflood, a lock, a blocklist entry).
        "ProtectionMode": "apps.contentrules.models.MODE_CHOICES",
        "CaptchaFailureAction": "apps.protection.models.ProtectionSettings.CaptchaFailure",
        "ChallengeReason": "apps.challenges.models.Challenge.Reason",
        "ChallengeStatus": "apps.challenges.models.Challenge.Status",
        "GroupEventType": "apps.events.models.GroupEvent.Type",
        "PermissionCode": "apps.rbac.catalogue.PERMISSIONS",
        "ErrorCode": "apps.common.error_codes.ERROR_CODE_CHOICES",
    },
}

# Server processes move what they hold after startup out of the garbage collector's full passes (apps/common/heap.py).
# Off: Python's default collector; tests/common/test_framework_bypasses.py proves the answers are the same.
GC_FREEZE_AFTER_STARTUP = env_bool("GC_FREEZE_AFTER_STARTUP", True)

# json: one JSON object per line (production's format); console: one human-readable line, coloured on a terminal
# (`make run` sets it).
LOG_FORMAT = env_str("LOG_FORMAT", "json").lower()
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'console'")
_LOG_FORMATTER = "apps.common.logging." + ("JsonFormatter" if LOG_FORMAT == "json" else "ConsoleFormatter")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": _LOG_FORMATTER}},
    # A StreamHandler that formats a record before it takes the handler's lock (apps/common/logging.py).
    "handlers": {"stdout": {"class": "apps.common.logging.LineHandler", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "gunicorn.access": {"level": "WARNING"},
        # uvicorn (bot, web) installs plain-text handlers of its own before it imports the application; these
        # replace them once Django is set up, so its lines are JSON too.
        "uvicorn": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.access": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
    },
}
if LOG_FORMAT == "console":
    # A developer's terminal: the HTTP client's line per call and uvicorn's access line repeat the `request` line
    # of the role that answered (and the dashboard makes several calls a page); LOG_LEVEL=DEBUG shows them.
    _REPEATED = "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"
    LOGGING["loggers"]["httpx"] = {"level": _REPEATED}
    LOGGING["loggers"]["uvicorn.access"]["level"] = _REPEATED

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes and scrapers talk plain HTTP inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
