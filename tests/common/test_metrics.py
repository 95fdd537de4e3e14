"""GET /metrics: Prometheus text, no key, with the platform's own series."""

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import grant, make_user


def scrape() -> dict[tuple[str, frozenset], float]:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_permission_checks_are_counted_by_result(api):
    user = make_user()
    grant(user, "admin")
    before = scrape()
    api.post("/api/rbac/check-permission", {"user_id": str(user.pk), "permission": "MANAGE_ROLES"})
    api.post("/api/rbac/check-permission", {"user_id": "999999", "permission": "MANAGE_ROLES"})
    api.post("/api/rbac/check-permissions", {"checks": [{"user_id": "999999", "permission": "BAN_USERS"}] * 2})
    after = scrape()
    assert value(after, "permission_checks_total", result="allowed") - value(
        before, "permission_checks_total", result="allowed") == 1
    assert value(after, "permission_checks_total", result="denied") - value(
        before, "permission_checks_total", result="denied") == 3


def test_request_duration_is_a_histogram_by_route_pattern(api):
    user = make_user()
    before = scrape()
    api.get(f"/api/users/{user.pk}")
    api.get("/api/users/999999")
    after = scrape()
    labels = {"endpoint": "api/users/<str:user_id>", "method": "GET"}
    assert value(after, "api_request_duration_seconds_count", **labels) - value(
        before, "api_request_duration_seconds_count", **labels) == 2
    assert value(after, "api_request_duration_seconds_sum", **labels) > value(
        before, "api_request_duration_seconds_sum", **labels)
    # Ids never become label values: one series per route, not per user.
    assert not any(user_id in str(key) for key in after for user_id in (f"/{user.pk}", "999999"))


def test_unknown_paths_share_one_series(api):
    before = scrape()
    for path in ("/api/nope-1", "/api/nope-2", "/api/nope-3/deeper"):
        Client().get(path)
    after = scrape()
    grown = [after[key] - before.get(key, 0.0) for key in after
             if key[0] == "api_request_duration_seconds_count" and ("endpoint", "metrics") not in key[1]
             and after[key] != before.get(key, 0.0)]
    assert grown == [3]
    assert not any("nope" in str(key) for key in after)
