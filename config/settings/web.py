"""The web role: browser API and dashboard backed by core; it has no database (an ORM call fails loudly)."""

from datetime import timedelta

from apps.dashboard.keys import load_jwt_keys

from .base import *  # noqa: F403
from .base import DATA_DIR, INSTALLED_APPS, PRODUCTION, REDIS_URL, REST_FRAMEWORK, SPECTACULAR_SETTINGS
from .env import env_bool, env_int, env_str

SERVICE_NAME = "web"
ROLE = "web"  # what code may run here (apps/common/roles.py)
ROOT_URLCONF = "config.urls.web"
INSTALLED_APPS = [
    *(app for app in INSTALLED_APPS if app not in {"django.contrib.sessions", "django.contrib.messages"}),
    "apps.dashboard",
    "drf_spectacular_sidecar",
]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.common.middleware.RequestContextMiddleware",
    "apps.common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.dashboard.pages.security.ContentSecurityPolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    # For the dashboard's pages and forms; the JSON API (bearer tokens, never cookies) is exempt, as DRF makes it.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.common.metrics.PrometheusAfterMiddleware",  # django-prometheus's, its labelled series looked up once each
]
# No usable database: Django's dummy backend raises on any query.
DATABASES: dict = {}
# Under ASGI, the whole synchronous middleware chain and view run in one worker thread per request
# (apps/dashboard/asgi.py). Off: Django's own ASGIHandler; tests/common/test_framework_bypasses.py proves
# both give the same answers.
ASGI_SYNC_MIDDLEWARE_CHAIN = env_bool("ASGI_SYNC_MIDDLEWARE_CHAIN", True)

# Core, over HTTP. User-facing calls time out at 0.8 s and are retried at most once, so a request answers
# (503 core_unavailable when core is down) within 2 s.
CORE_API_URL = env_str("CORE_API_URL", "http://127.0.0.1:8000")
CORE_API_KEY = env_str("CORE_API_KEY", "" if PRODUCTION else "dev-service-key")
WEB_CORE_TIMEOUT_SECONDS = float(env_str("WEB_CORE_TIMEOUT_SECONDS", "0.8"))
WEB_CORE_RETRIES = 1

# JWT (djangorestframework-simplejwt), asymmetric: see README "Web API" and apps/dashboard/keys.py.
JWT_KEYS = load_jwt_keys(
    algorithm=env_str("JWT_ALGORITHM", "EdDSA"),
    private_pem=env_str("JWT_PRIVATE_KEY"),
    private_file=env_str("JWT_PRIVATE_KEY_FILE"),
    public_pem=env_str("JWT_PUBLIC_KEY"),
    public_file=env_str("JWT_PUBLIC_KEY_FILE"),
    production=PRODUCTION,
    data_dir=DATA_DIR,
)
SIMPLE_JWT = {
    "ALGORITHM": JWT_KEYS.algorithm,
    "SIGNING_KEY": JWT_KEYS.private_pem,
    "VERIFYING_KEY": JWT_KEYS.public_pem,
    "AUDIENCE": env_str("JWT_AUDIENCE", "tgmod-dashboard"),
    "ISSUER": env_str("JWT_ISSUER", "tgmod-web"),
    "LEEWAY": env_int("JWT_LEEWAY_SECONDS", 5),
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_TOKEN_SECONDS", 300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_REFRESH_TOKEN_SECONDS", 86_400)),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}
# How long a web process trusts its last answer from core on whether a login session (the tokens' sid) is revoked:
# a refresh token reused elsewhere stops that session's access tokens here within this bound.
JWT_FAMILY_CHECK_SECONDS = float(env_str("JWT_FAMILY_CHECK_SECONDS", "15"))
# A refresh token presented again this soon after its rotation is refused without revoking its session: several tabs
# of one browser refreshing at the same moment, not a stolen token (the reuse interval of Auth0, Okta's grace period).
JWT_REFRESH_REUSE_GRACE_SECONDS = float(env_str("JWT_REFRESH_REUSE_GRACE_SECONDS", "2"))


REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.dashboard.authentication.JWTBearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.dashboard.authentication.IsDashboardUser"],
    "EXCEPTION_HANDLER": "apps.dashboard.errors.dashboard_exception_handler",
}
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Dashboard API (web)",
    "DESCRIPTION": "The browser's API: log in for a JWT, then every call is checked against core's permissions.",
    # The schema is public (integrators read it before they have a token); every operation but login needs one.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "ENUM_NAME_OVERRIDES": {"ConnectionState": ["connected", "disconnected"],
                            "RedisState": ["connected", "disconnected", "not_configured"],
                            "HealthStatus": ["healthy", "unhealthy"],
                            # flood_action and blocklist_action: one enum, named as core's
                            "ProtectionMode": "apps.dashboard.choices.FLOOD_ACTIONS",
                            "ErrorCode": "apps.common.error_codes.ERROR_CODE_CHOICES"},
    # Swagger UI and ReDoc from this instance's static files: no page loads anything from another host.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.dashboard.schema.document_web_errors",
    ],
}

# -- dashboard pages (apps/dashboard/pages)
# The JWT pair lives in these cookies (HttpOnly, SameSite=Lax, Secure in production); the WebSocket feed reads
# the access cookie in its handshake.
DASHBOARD_ACCESS_COOKIE = "dashboard_access"
DASHBOARD_REFRESH_COOKIE = "dashboard_refresh"
DASHBOARD_COOKIE_SECURE = PRODUCTION
CSRF_FAILURE_VIEW = "apps.dashboard.pages.views.csrf_failure"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"],
        },
    },
]
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# One web container serves its own static files: WhiteNoise, straight from the apps' static directories
# (no collectstatic step needed; files are cached by the browser for WHITENOISE_MAX_AGE).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = not PRODUCTION

# -- live updates (apps/dashboard/live): Channels WebSocket at /ws/live, served by apps.dashboard.asgi
INSTALLED_APPS += ["channels"]
ASGI_APPLICATION = "apps.dashboard.asgi.application"
# Keys of the feed's leader lock and shared position, and the channel layer's names, start with this:
# deployments sharing one Redis keep them apart.
LIVE_REDIS_PREFIX = env_str("LIVE_REDIS_PREFIX", "tgmod")
if REDIS_URL:
    # Every worker and replica shares one `live` group: one publish reaches each open page once.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL], "prefix": LIVE_REDIS_PREFIX}}}
else:
    # One process: the feed and every page's consumer in one event loop. A page's channel holds what it has
    # not been sent yet (during a resume, say); a burst larger than this would be dropped for it.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                  "CONFIG": {"capacity": 1000}}}
