"""The bot role: a Telegram worker that asks core; it has no database (an ORM call fails loudly)."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

SERVICE_NAME = "bot"
ROOT_URLCONF = "config.urls.bot"
INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in {"django.contrib.sessions", "django.contrib.messages"}]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.common.middleware.RequestContextMiddleware",
    "apps.common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# No usable database: Django's dummy backend raises on any query.
DATABASES: dict = {}
HEALTH_CHECKS = ["cache"]
