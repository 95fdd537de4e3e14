"""The platform's own Prometheus series (django-prometheus adds the generic ones), and their labelled children
looked up cheaply on every request."""

from django_prometheus.middleware import PrometheusAfterMiddleware as _PrometheusAfterMiddleware
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

# (metric, label values) -> the child. prometheus_client's `labels()` validates the values and takes a lock on
# every call; a child, once made, is the same object for the life of the process, so it is looked up here first.
# The keys are what the metric holds anyway (one child per label combination), so this grows no faster. A metric
# whose children are ever removed (`remove()`, `clear()`) must not be looked up through it.
_children: dict[tuple, object] = {}


def _remembered(key: tuple, make):
    child = _children.get(key)
    if child is None:
        child = _children[key] = make()
    return child


def labelled(metric, *values: str):
    """`metric.labels(*values)`, remembered: the label values in the metric's own order."""
    return _remembered((metric, *values), lambda: metric.labels(*values))


class PrometheusAfterMiddleware(_PrometheusAfterMiddleware):
    """django-prometheus's middleware with its labelled children remembered (it asks `labels()` five times a
    request); the same series and values."""

    def label_metric(self, metric, request, response=None, **labels):
        if not labels:
            return metric
        return _remembered((metric, *labels.items()), lambda: metric.labels(**labels))
