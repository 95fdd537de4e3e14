"""deploy/observability: the Prometheus configurations scrape the roles where compose and Kubernetes run them,
and every series the Grafana dashboard draws is one the code defines (or django-prometheus, or Prometheus)."""

import json
import re
from pathlib import Path

import django_prometheus
import pytest
import yaml

from .kustomize import render
from .tools import DEPLOY, K8S, ROOT

OBSERVABILITY = DEPLOY / "observability"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "tgmod.json"
ROLE_PORTS = {"core": 8000, "bot": 8001, "web": 8002}
# Each role's service in compose.prod.yaml (the seed's names).
COMPOSE_SERVICES = {"core": "centralized-api", "bot": "bot", "web": "web"}
# Made by Prometheus itself, not by the code.
PROMETHEUS_OWN = {"up"}
METRIC = re.compile(r"""\b(?:Counter|Gauge|Histogram|Summary)\(\s*["']([a-zA-Z_:][a-zA-Z0-9_:]*)["']""")
DJANGO_PROMETHEUS = re.compile(r"""["'](django_[a-z0-9_]+)["']""")
SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created")


def defined_metrics() -> set[str]:
    names = set()
    for path in (ROOT / "apps").rglob("*.py"):
        names |= set(METRIC.findall(path.read_text()))
    for path in Path(django_prometheus.__file__).parent.rglob("*.py"):
        if "tests" not in path.parts:
            names |= set(DJANGO_PROMETHEUS.findall(path.read_text()))
    return names


def series_names(name: str) -> set[str]:
    """What a prometheus_client metric called `name` exposes."""
    base = name.removesuffix("_total")
    return {name, base, f"{base}_total", f"{base}_created", f"{name}_bucket", f"{name}_sum", f"{name}_count"}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def expressions(dashboard: dict) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", expr))


def test_the_code_defines_the_series_the_issue_names():
    defined = defined_metrics()
    for name in ("api_request_duration_seconds", "bot_commands_total", "permission_checks_total",
                 "core_client_requests_total", "core_client_request_duration_seconds", "bot_outbox_depth",
                 "web_websocket_connections"):
        assert name in defined, name


def test_dashboard_draws_only_series_that_exist(dashboard):
    exposed = set(PROMETHEUS_OWN)
    for name in defined_metrics():
        exposed |= series_names(name)
    exprs = expressions(dashboard)
    assert len(exprs) >= 15
    for title, expr in exprs:
        names = metric_names(expr)
        assert names, f"{title}: every selector names its metric with {{...}}"
        assert names <= exposed, f"{title}: {sorted(names - exposed)} is not defined by the code"


def test_dashboard_covers_every_series_of_the_issue(dashboard):
    used = set().union(*(metric_names(expr) for _, expr in expressions(dashboard)))
    for name in ("api_request_duration_seconds_bucket", "api_request_duration_seconds_count", "bot_commands_total",
                 "permission_checks_total", "core_client_requests_total",
                 "core_client_request_duration_seconds_bucket", "bot_outbox_depth", "web_websocket_connections",
                 "django_http_responses_total_by_status_total"):
        assert name in used, name


def test_dashboard_is_well_formed_for_grafana(dashboard):
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variable = dashboard["templating"]["list"][0]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    for panel in dashboard["panels"]:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]


def test_grafana_provisioning_points_at_the_dashboard_and_prometheus():
    provisioning = OBSERVABILITY / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "tgmod.yml").read_text())["providers"][0]
    compose = yaml.safe_load((ROOT / "compose.prod.yaml").read_text())["services"]
    mounts = dict(volume.split(":")[:2] for volume in compose["grafana"]["volumes"] if volume.startswith("./"))
    assert mounts["./deploy/observability/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/observability/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert "./deploy/observability/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in compose["prometheus"]["volumes"]


def test_compose_prometheus_scrapes_each_role_where_compose_runs_it():
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    compose = yaml.safe_load((ROOT / "compose.prod.yaml").read_text())["services"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(ROLE_PORTS)
    for role, port in ROLE_PORTS.items():
        assert jobs[role]["metrics_path"] == "/metrics"
        service = COMPOSE_SERVICES[role]
        assert jobs[role]["static_configs"][0]["targets"] == [f"{service}:{port}"]
        assert compose[service]["environment"]["PORT"] == str(port)
        # The Host Prometheus sends is the target's name: the role must allow it.
        assert service in compose[service]["environment"]["ALLOWED_HOSTS"].split(",")
        assert "internal" in compose[service]["networks"] and "internal" in compose["prometheus"]["networks"]


def test_kubernetes_prometheus_finds_the_annotated_pods():
    config = yaml.safe_load((OBSERVABILITY / "prometheus-kubernetes.yml").read_text())
    job = config["scrape_configs"][0]
    relabel = {tuple(rule["source_labels"]): rule for rule in job["relabel_configs"]}
    keep_scrape = relabel[("__meta_kubernetes_pod_annotation_prometheus_io_scrape",)]
    assert keep_scrape["action"] == "keep" and keep_scrape["regex"] == "true"
    assert relabel[("__meta_kubernetes_pod_label_app_kubernetes_io_component",)]["target_label"] in {"job", "role"}
    directory = K8S / "overlays" / "prod"
    docs = render(directory, {str(directory / "secrets.env"): str(directory / "secrets.env.example")})
    assert job["kubernetes_sd_configs"][0]["namespaces"]["names"] == [docs[0]["metadata"]["name"]]
    scraped = {}
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        template = doc["spec"]["template"]
        annotations = template["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") == "true":
            port = int(annotations["prometheus.io/port"])
            container_ports = {p["containerPort"] for c in template["spec"]["containers"] for p in c["ports"]}
            assert port in container_ports
            scraped[template["metadata"]["labels"]["app.kubernetes.io/component"]] = port
            env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}
            # Prometheus scrapes by pod address: the role must allow it as a host.
            assert "$(POD_IP)" in env["ALLOWED_HOSTS"].split(",")
    assert scraped == ROLE_PORTS
