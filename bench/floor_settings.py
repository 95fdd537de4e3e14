"""The floor's profile (bench/floor.py): core's settings with no middleware, DRF with only the JSON parser and
renderer and no authentication, and a URL conf of one view. Only bench.run uses it, for its own gunicorn."""

from bench.settings import *  # noqa: F403

MIDDLEWARE: list = []
ROOT_URLCONF = "bench.floor"
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
