"""The bench URL conf: core's own routes, unchanged, plus POST /bench/echo. Only bench.settings uses it."""

from django.urls import path

from config.urls import core
from config.urls.core import handler400, handler403, handler404, handler500  # noqa: F401

from .views import EchoApi

urlpatterns = [path("bench/echo", EchoApi.as_view(), name="bench-echo"), *core.urlpatterns]
