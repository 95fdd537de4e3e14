"""The bench-only profile: core exactly as configured by config.settings.core, plus one bare DRF view.

Every product setting (middleware, DRF parsers, renderers, authentication, database options, cache) is
inherited untouched, so the bare view and the permission checks run through the same stack in the same
gunicorn workers; only the URL conf differs, and only by the extra /bench/echo route.
"""

from config.settings.core import *  # noqa: F403
from config.settings.core import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
