"""The platform's own Prometheus series (django-prometheus adds the generic ones)."""

from prometheus_client import Counter, Histogram

API_REQUEST_DURATION = Histogram(
    "api_request_duration_seconds",
    "Time spent serving a request, by route pattern",
    ["endpoint", "method"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
API_REQUESTS = Counter(
    "api_requests_total",
    "Requests served, by route pattern, method and status code",
    ["endpoint", "method", "status"],
)
PERMISSION_CHECKS = Counter("permission_checks_total", "Permission checks decided by core", ["result"])
