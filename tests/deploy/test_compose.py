"""docker-compose.yml against the Compose specification's JSON schema (vendored: schemas/README.md), and what
the schema cannot say: health checks, start order, the one-shot migration, named volumes, .env-driven values."""

import copy
import json
import re

import jsonschema
import pytest
import yaml

from .tools import ROOT, script_settings

COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = json.loads((ROOT / "tests/deploy/schemas/compose-spec.json").read_text())
ROLES = {"core": 8000, "bot": 8001, "web": 8002}
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def test_valid_against_the_compose_specification(compose):
    assert schema_errors(compose) == []


@pytest.mark.parametrize("breakage", [
    lambda c: c["services"]["core"]["depends_on"]["migrate"].update(condition="service_finished"),
    lambda c: c["services"]["core"]["healthcheck"].update(retry=3),
    lambda c: c["services"]["web"].update(ports="8002:8002"),
    lambda c: c.update(volume={"x": {}}),
])
def test_the_schema_check_catches_mistakes(compose, breakage):
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert schema_errors(broken)


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name == "migrate":
            assert service["healthcheck"] == {"disable": True} and service["restart"] == "no"
            continue
        check = service.get("healthcheck")
        assert check and check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert "interval" in check and "retries" in check, name


def test_role_health_checks_use_the_image_script_on_their_port(compose):
    for role, port in ROLES.items():
        service = compose["services"][role]
        assert service["healthcheck"]["test"] == ["CMD", "python", "deploy/start/healthcheck.py"]
        assert service["environment"]["PORT"] == str(port)


def test_start_order_is_expressed_with_conditions(compose):
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions, not a list"
        for target, rule in depends.items():
            assert target in services
            expected = {"migrate": "service_completed_successfully"}.get(target, "service_healthy")
            if (name, target) == ("nginx", "bot"):
                expected = "service_started"
            assert rule["condition"] == expected, (name, target)
    # Migrations once, before core serves; core first for bot and web; nginx after the roles it fronts.
    assert services["migrate"]["depends_on"] == {"mongo": {"condition": "service_healthy"}}
    assert "migrate" in services["core"]["depends_on"]
    assert "core" in services["bot"]["depends_on"] and "core" in services["web"]["depends_on"]
    assert {"web", "bot"} <= set(services["nginx"]["depends_on"])
    # Nothing but core waits on the migration: a second run of it is never triggered by a restart.
    assert [name for name, s in services.items() if "migrate" in s.get("depends_on", {})] == ["core"]


def test_one_image_for_every_role_each_with_its_start_script(compose):
    services = compose["services"]
    app = {name: s for name, s in services.items() if "build" in s}
    assert set(app) == {"migrate", "core", "bot", "web"}
    assert len({s["image"] for s in app.values()}) == 1
    assert all(s["build"]["context"] == "." for s in app.values())
    expected = {"migrate": "migrate", "core": "core", "bot": "bot", "web": "web"}
    for name, script in expected.items():
        assert app[name]["command"] == [f"deploy/start/{script}.sh"]
        assert (ROOT / app[name]["command"][0]).exists()
        assert app[name]["env_file"] == [".env"]


def test_mongo_is_a_one_node_replica_set_and_core_uses_it(compose):
    mongo = compose["services"]["mongo"]
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    probe = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in probe and "isWritablePrimary" in probe
    for name in ("migrate", "core"):
        url = compose["services"][name]["environment"]["DATABASE_URL"]
        assert url.startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in url
    for name in ("bot", "web"):
        assert "DATABASE_URL" not in compose["services"][name]["environment"]


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
            else:
                assert (ROOT / source).exists(), source
    assert used == declared
    assert {"mongo-data", "redis-data", "bot-data"} <= declared
    assert "bot-data:/data" in compose["services"]["bot"]["volumes"]


def test_nginx_fronts_the_platform_and_only_nginx_and_grafana_publish_ports(compose):
    services = compose["services"]
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"nginx", "grafana"}
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    # Core's admin and Grafana only on the host's loopback.
    assert any(port.startswith("127.0.0.1:") and port.endswith(":8443") for port in services["nginx"]["ports"])
    assert services["grafana"]["ports"][0].startswith("127.0.0.1:")
    assert compose["networks"]["internal"]["internal"] is True
    for name in ("mongo", "redis", "migrate", "core", "web"):
        assert services[name]["networks"] == ["internal"], name
    assert set(services["bot"]["networks"]) == {"internal", "public"}


def test_role_hosts_and_keys_line_up(compose):
    services = compose["services"]
    for role in ROLES:
        hosts = services[role]["environment"]["ALLOWED_HOSTS"].split(",")
        assert role in hosts, f"{role} must answer to its service name"
    keys = services["core"]["environment"]["SERVICE_API_KEYS"]
    assert "bot=${BOT_CORE_API_KEY" in keys and "web=${WEB_CORE_API_KEY" in keys
    assert services["bot"]["environment"]["CORE_API_KEY"] == "${BOT_CORE_API_KEY}"
    assert services["web"]["environment"]["CORE_API_KEY"] == "${WEB_CORE_API_KEY}"
    for role in ("bot", "web"):
        assert services[role]["environment"]["CORE_API_URL"] == "http://core:8000"
    for role in ("core", "bot", "web"):
        assert services[role]["environment"]["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-172.16.0.0/12}"


def test_every_variable_compose_needs_is_in_env_example():
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if re.match(r"^\w+=", line)}
    for name, operator, _ in VARIABLE.findall(COMPOSE.read_text()):
        if operator in {"", ":?", "?"}:
            assert name in example, f"{name} is required by docker-compose.yml but not in .env.example"


def test_env_example_holds_no_secret():
    values = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                  if re.match(r"^\w+=", line))
    for name in ("SECRET_KEY", "BOT_CORE_API_KEY", "WEB_CORE_API_KEY", "TELEGRAM_BOT_TOKEN",
                 "TELEGRAM_WEBHOOK_SECRET", "JWT_PRIVATE_KEY", "GRAFANA_ADMIN_PASSWORD"):
        assert values[name] == "", f"{name} must be empty in .env.example"


def test_app_services_carry_their_scripts_settings_for_compose_exec(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            assert service["environment"]["DJANGO_SETTINGS_MODULE"] == script_settings(service["command"][0]), name


def interpolate(text: str, env: dict[str, str]) -> tuple[str, list[str]]:
    """Compose's variable substitution (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}); returns the
    text and the errors compose would stop with."""
    errors = []

    def substitute(match):
        name, operator, argument = match.groups()
        value = env.get(name)
        if operator == ":-":
            return value if value else argument
        if operator == "-":
            return argument if value is None else value
        if operator in {":?", "?"}:
            missing = not value if operator == ":?" else value is None
            if missing:
                errors.append(f"{name}: {argument}")
            return value or ""
        return value or ""

    return VARIABLE.sub(substitute, text), errors


def env_example() -> dict[str, str]:
    return dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                if re.match(r"^\w+=", line))


def test_compose_refuses_to_start_until_the_secrets_are_filled_in():
    _, errors = interpolate(COMPOSE.read_text(), env_example())
    assert {error.split(":")[0] for error in errors} == {
        "BOT_CORE_API_KEY", "WEB_CORE_API_KEY", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "JWT_PRIVATE_KEY",
        "GRAFANA_ADMIN_PASSWORD"}
    # SECRET_KEY reaches the roles through env_file: production settings refuse to start without it.
    assert env_example()["SECRET_KEY"] == "" and env_example()["APP_ENV"] == "production"


def test_filled_in_compose_file_is_complete_and_valid():
    env = {**env_example(), "PUBLIC_HOST": "mod.example.org", "BOT_CORE_API_KEY": "k1", "WEB_CORE_API_KEY": "k2",
           "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "s", "JWT_PRIVATE_KEY": "pem",
           "GRAFANA_ADMIN_PASSWORD": "p"}
    text, errors = interpolate(COMPOSE.read_text(), env)
    assert errors == [] and "${" not in text
    document = yaml.safe_load(text)
    assert schema_errors(document) == []
    services = document["services"]
    assert services["core"]["environment"]["SERVICE_API_KEYS"] == "bot=k1,web=k2"
    assert services["core"]["environment"]["ALLOWED_HOSTS"].split(",")[0] == "mod.example.org"
    assert services["bot"]["environment"]["TELEGRAM_WEBHOOK_URL"] == "https://mod.example.org/telegram/webhook"
    assert services["nginx"]["ports"] == ["80:80", "443:443", "127.0.0.1:8443:8443"]
    assert services["core"]["environment"]["DATABASE_URL"] == "mongodb://mongo:27017/tgmod?replicaSet=rs0"
