"""The bench URL conf: core's own routes, unchanged, plus POST /bench/echo and the two unrecorded checks (bounds,
bench/views.py). Only bench.settings uses it."""

from django.urls import path

from config.urls import core
from config.urls.core import handler400, handler403, handler404, handler500  # noqa: F401

from .views import EchoApi, UnrecordedCheckApi, UnrecordedCheckBatchApi

urlpatterns = [
    path("bench/echo", EchoApi.as_view(), name="bench-echo"),
    path("bench/check-unrecorded", UnrecordedCheckApi.as_view(), name="bench-check-unrecorded"),
    path("bench/check-many-unrecorded", UnrecordedCheckBatchApi.as_view(), name="bench-check-many-unrecorded"),
    *core.urlpatterns,
]
