"""The compose files against the Compose specification's JSON schema (vendored: schemas/README.md), and what the
schema cannot say. Two worlds: compose.yaml, what a bare `docker compose up` starts (development: the code mounted,
auto-reload, the Telegram sandbox, no .env), and compose.prod.yaml (production: nginx, TLS, secrets from .env,
health checks, start order, the one-shot migration, named volumes)."""

import ast
import copy
import json
import re
import subprocess

import jsonschema
import pytest
import yaml

from .conftest import START, script_env
from .tools import ROOT, script_settings

DEV = ROOT / "compose.yaml"
PROD = ROOT / "compose.prod.yaml"
SCHEMA = json.loads((ROOT / "tests/deploy/schemas/compose-spec.json").read_text())
# Service name -> (the Dockerfile target it runs, its port): the seed's names.
ROLES = {"centralized-api": ("core", 8000), "bot": ("bot", 8001), "web": ("web", 8002)}
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
# The files `docker compose` looks for without -f (or COMPOSE_FILE), in its order.
DEFAULT_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
# (file, profiles given with --profile): every combination the README documents.
# Inside a container a server listens on every interface; compose publishes it on the host's loopback.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104
WORLDS = {"development": (DEV, ()), "production": (PROD, ()), "production+observability": (PROD, ("observability",))}


def load(path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def dev() -> dict:
    return load(DEV)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load(PROD)


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def with_profiles(document: dict, profiles: tuple[str, ...]) -> dict:
    """The project compose runs with these profiles: services without `profiles` always, others when named."""
    result = copy.deepcopy(document)
    result["services"] = {name: service for name, service in document["services"].items()
                          if not service.get("profiles") or set(service["profiles"]) & set(profiles)}
    return result


@pytest.mark.parametrize("world", WORLDS)
def test_valid_against_the_compose_specification(world):
    path, profiles = WORLDS[world]
    document = with_profiles(load(path), profiles)
    assert schema_errors(document) == []
    # Compose refuses to start a service whose dependency the profiles leave out.
    for name, service in document["services"].items():
        assert set(service.get("depends_on", {})) <= set(document["services"]), (world, name)


def test_the_profiles_differ_as_documented():
    production = with_profiles(load(PROD), ())["services"]
    observability = with_profiles(load(PROD), ("observability",))["services"]
    assert set(observability) - set(production) == {"prometheus", "grafana"}
    assert {"nginx", "migrate", *ROLES} <= set(production)


@pytest.mark.parametrize("breakage", [
    lambda c: c["services"]["centralized-api"]["depends_on"]["migrate"].update(condition="service_finished"),
    lambda c: c["services"]["centralized-api"]["healthcheck"].update(retry=3),
    lambda c: c["services"]["web"].update(ports="8002:8002"),
    lambda c: c.update(volume={"x": {}}),
])
def test_the_schema_check_catches_mistakes(compose, breakage):
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert schema_errors(broken)


@pytest.mark.parametrize("breakage", [
    lambda c: c["services"]["bot"]["depends_on"]["tgsandbox"].update(condition="healthy"),
    lambda c: c["services"]["centralized-api"]["build"].update(taget="core"),
    lambda c: c["services"]["tgsandbox"]["healthcheck"].update(interval=5),
])
def test_the_schema_check_catches_mistakes_in_the_development_file(dev, breakage):
    broken = copy.deepcopy(dev)
    breakage(broken)
    assert schema_errors(broken)


# -- development: compose.yaml

def test_a_bare_docker_compose_up_picks_the_development_file():
    present = [name for name in DEFAULT_NAMES if (ROOT / name).exists()]
    # Only one of the default names: compose warns and guesses when there are several.
    assert present == ["compose.yaml"]


def test_the_development_file_needs_no_env_file(dev):
    text = DEV.read_text()
    assert "env_file" not in text
    _, errors = interpolate(text, {})
    assert errors == []
    # Every variable it reads has a default.
    assert all(operator in {":-", "-"} for _, operator, _ in VARIABLE.findall(text))
    # The production .env points compose at the production file: with it, `docker compose up` is production.
    assert env_example()["COMPOSE_FILE"] == "compose.prod.yaml"


def test_the_development_world_has_the_seeds_services(dev):
    # All of them started by a bare `docker compose up`: none waits for a --profile.
    assert set(with_profiles(dev, ())["services"]) == {*ROLES, "mongo", "redis", "tgsandbox"}
    assert dev["name"] != load(PROD)["name"], "the two worlds must not share containers and volumes"


def test_development_roles_publish_their_ports_on_the_loopback(dev):
    services = dev["services"]
    for name, (_, port) in ROLES.items():
        assert services[name]["ports"] == [f"127.0.0.1:{port}:{port}"], name
        assert services[name]["environment"]["PORT"] == str(port)
    assert services["tgsandbox"]["ports"] == ["127.0.0.1:8081:8081"]
    assert services["tgsandbox"]["environment"]["PORT"] == "8081"
    assert not services["mongo"].get("ports") and not services["redis"].get("ports")


def test_development_roles_run_the_mounted_code_on_their_role_images(dev):
    dockerfile_targets = set(re.findall(r"^FROM \S+ AS (\w[\w-]*)$", (ROOT / "Dockerfile").read_text(), re.M))
    for name, service in dev["services"].items():
        if name in {"mongo", "redis"}:
            continue
        target = ROLES.get(name, ("bot", None))[0]  # the sandbox needs only uvicorn and httpx: the bot's image
        assert service["build"] == {"context": ".", "target": target}, name
        assert target in dockerfile_targets
        assert service["image"] == f"tgmod-{target}:dev", name
        mounts = dict(volume.split(":") for volume in service["volumes"])
        for folder in ("apps", "config", "mongo_migrations", "deploy"):
            assert mounts[f"./{folder}"] == f"/app/{folder}", (name, folder)
            assert (ROOT / folder).is_dir()
        assert service["init"] is True


def dev_command(service: dict) -> list[str]:
    """The command a development service's start script runs (START_DRY_RUN), with the service's environment."""
    script, role = service["command"]
    assert script == "deploy/start/dev.sh"
    env = {key: str(value) for key, value in service.get("environment", {}).items()}
    result = subprocess.run([str(START / "dev.sh"), role], env=script_env(START_DRY_RUN=1, **env),
                            capture_output=True, text=True, timeout=30, cwd="/")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_development_roles_reload_on_code_changes(dev):
    services = dev["services"]
    core = dev_command(services["centralized-api"])
    # runserver reloads unless told not to.
    assert core[:3] == ["python", "manage.py", "runserver"] and core[3] == f"{ALL_INTERFACES}:8000"
    assert "--noreload" not in core
    for name, application in (("bot", "apps.botgateway.asgi:application"), ("web", "apps.dashboard.asgi:application")):
        argv = dev_command(services[name])
        assert argv[0] == "uvicorn" and application in argv and "--reload" in argv, name
        assert argv[argv.index("--port") + 1] == str(ROLES[name][1])
        assert argv[argv.index("--host") + 1] == ALL_INTERFACES
        # Watch the code, not the whole folder.
        assert {argv[i + 1] for i, arg in enumerate(argv) if arg == "--reload-dir"} == {"apps", "config"}
    sandbox = dev_command(services["tgsandbox"])
    assert sandbox[:3] == ["python", "-m", "tgsandbox"]
    assert sandbox[sandbox.index("--port") + 1] == "8081"
    assert sandbox[sandbox.index("--host") + 1] == ALL_INTERFACES


def test_dev_script_settings_match_the_services(dev):
    text = (START / "dev.sh").read_text()
    for name, (role, _) in ROLES.items():
        settings = dev["services"][name]["environment"]["DJANGO_SETTINGS_MODULE"]
        assert settings == f"config.settings.{role}"
        assert re.search(rf"^    {role}\)\n        export DJANGO_SETTINGS_MODULE={re.escape(settings)} ", text, re.M)
        assert dev["services"][name]["environment"]["APP_ENV"] == "development"


def test_the_development_roles_find_each_other(dev):
    services = dev["services"]
    core = services["centralized-api"]["environment"]
    assert core["DATABASE_URL"].startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in core["DATABASE_URL"]
    assert services["mongo"]["command"][:2] == ["--replSet", "rs0"]
    assert "rs.initiate" in " ".join(services["mongo"]["healthcheck"]["test"])
    keys = dict(pair.split("=") for pair in core["SERVICE_API_KEYS"].split(","))
    for name in ("bot", "web"):
        env = services[name]["environment"]
        assert env["CORE_API_URL"] == "http://centralized-api:8000"
        # Each under its own service name, so core gives it its least-privilege scope.
        assert keys[name] == env["CORE_API_KEY"]
        assert "DATABASE_URL" not in env
    for name in ROLES:
        env = services[name]["environment"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["LOG_FORMAT"] == "console"
        hosts = env["ALLOWED_HOSTS"].split(",")
        assert name in hosts and "localhost" in hosts, name
        # The image's health check sends the first entry as Host.
        assert hosts[0] == "localhost"


def test_the_sandbox_delivers_to_the_bot_and_the_bot_calls_the_sandbox(dev):
    sandbox, bot = dev["services"]["tgsandbox"]["environment"], dev["services"]["bot"]["environment"]
    assert bot["TELEGRAM_API_BASE_URL"] == f"http://tgsandbox:{sandbox['PORT']}/bot"
    assert sandbox["SANDBOX_WEBHOOK_URL"] == f"http://bot:{bot['PORT']}/telegram/webhook"
    assert sandbox["SANDBOX_WEBHOOK_SECRET"] == bot["TELEGRAM_WEBHOOK_SECRET"]
    module = ast.parse((ROOT / "apps/botgateway/application.py").read_text())
    allowed = next(ast.literal_eval(node.value) for node in module.body if isinstance(node, ast.Assign)
                   and any(getattr(target, "id", None) == "ALLOWED_UPDATES" for target in node.targets))
    assert sandbox["SANDBOX_WEBHOOK_ALLOWED_UPDATES"].split(",") == allowed


def test_development_start_order(dev):
    services = dev["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", (name, target)
            assert services[target].get("healthcheck"), target
    assert set(services["centralized-api"]["depends_on"]) == {"mongo", "redis"}
    assert set(services["bot"]["depends_on"]) == {"centralized-api", "tgsandbox"}
    assert set(services["web"]["depends_on"]) == {"centralized-api", "redis"}
    for name in ROLES:
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", "deploy/start/healthcheck.py"]
    declared = set(dev.get("volumes", {}))
    used = {volume.split(":")[0] for service in services.values() for volume in service.get("volumes", [])
            if not volume.startswith((".", "/"))}
    assert used == declared
    # Core's DATA_DIR (signing key, the demo admin's password file) lives as long as the database.
    assert "core-data:/data" in services["centralized-api"]["volumes"]
    assert "DATA_DIR" not in services["centralized-api"]["environment"]  # the image's /data


# -- production: compose.prod.yaml

def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name == "migrate":
            assert service["healthcheck"] == {"disable": True} and service["restart"] == "no"
            continue
        check = service.get("healthcheck")
        assert check and check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert "interval" in check and "retries" in check, name


def test_role_health_checks_use_the_image_script_on_their_port(compose):
    for name, (_, port) in ROLES.items():
        service = compose["services"][name]
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
    assert "migrate" in services["centralized-api"]["depends_on"]
    assert "centralized-api" in services["bot"]["depends_on"] and "centralized-api" in services["web"]["depends_on"]
    assert {"web", "bot"} <= set(services["nginx"]["depends_on"])
    # Nothing but core waits on the migration: a second run of it is never triggered by a restart.
    assert [name for name, s in services.items() if "migrate" in s.get("depends_on", {})] == ["centralized-api"]


def test_one_image_per_role_each_with_its_start_script(compose):
    services = compose["services"]
    app = {name: s for name, s in services.items() if "build" in s}
    assert set(app) == {"migrate", *ROLES}
    targets = {"migrate": "core", **{name: target for name, (target, _) in ROLES.items()}}
    for name, target in targets.items():
        assert app[name]["build"] == {"context": ".", "target": target}, name
        assert app[name]["image"] == f"${{IMAGE_REPOSITORY:-tgmod}}-{target}:${{IMAGE_TAG:-latest}}", name
    scripts = {"migrate": "migrate", "centralized-api": "core", "bot": "bot", "web": "web"}
    for name, script in scripts.items():
        assert app[name]["command"] == [f"deploy/start/{script}.sh"]
        assert (ROOT / app[name]["command"][0]).exists()
        assert app[name]["env_file"] == [".env"]


def test_mongo_is_a_one_node_replica_set_and_core_uses_it(compose):
    mongo = compose["services"]["mongo"]
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    probe = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in probe and "isWritablePrimary" in probe
    for name in ("migrate", "centralized-api"):
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
    # nginx reaches core by its service name.
    assert "set $core http://centralized-api:8000;" in (ROOT / "deploy/nginx/nginx.conf").read_text()
    # Core's admin and Grafana only on the host's loopback.
    assert any(port.startswith("127.0.0.1:") and port.endswith(":8443") for port in services["nginx"]["ports"])
    assert services["grafana"]["ports"][0].startswith("127.0.0.1:")
    assert compose["networks"]["internal"]["internal"] is True
    for name in ("mongo", "redis", "migrate", "centralized-api", "web"):
        assert services[name]["networks"] == ["internal"], name
    assert set(services["bot"]["networks"]) == {"internal", "public"}


def test_role_hosts_and_keys_line_up(compose):
    services = compose["services"]
    for name in ROLES:
        hosts = services[name]["environment"]["ALLOWED_HOSTS"].split(",")
        assert name in hosts, f"{name} must answer to its service name"
    keys = services["centralized-api"]["environment"]["SERVICE_API_KEYS"]
    assert "bot=${BOT_CORE_API_KEY" in keys and "web=${WEB_CORE_API_KEY" in keys
    assert services["bot"]["environment"]["CORE_API_KEY"] == "${BOT_CORE_API_KEY}"
    assert services["web"]["environment"]["CORE_API_KEY"] == "${WEB_CORE_API_KEY}"
    for role in ("bot", "web"):
        assert services[role]["environment"]["CORE_API_URL"] == "http://centralized-api:8000"
    for name in ROLES:
        assert services[name]["environment"]["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-172.16.0.0/12}"


def test_every_variable_compose_needs_is_in_env_example():
    example = env_example()
    for name, operator, _ in VARIABLE.findall(PROD.read_text()):
        if operator in {"", ":?", "?"}:
            assert name in example, f"{name} is required by compose.prod.yaml but not in .env.example"


def test_env_example_holds_no_secret():
    values = env_example()
    for name in ("SECRET_KEY", "BOT_CORE_API_KEY", "WEB_CORE_API_KEY", "TELEGRAM_BOT_TOKEN",
                 "TELEGRAM_WEBHOOK_SECRET", "JWT_PRIVATE_KEY", "GRAFANA_ADMIN_PASSWORD"):
        assert values[name] == "", f"{name} must be empty in .env.example"


@pytest.mark.parametrize("path", [DEV, PROD], ids=["development", "production"])
def test_app_services_carry_their_scripts_settings_for_compose_exec(path):
    for name, service in load(path)["services"].items():
        if "build" in service and service["command"][0] != "deploy/start/dev.sh":
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
    _, errors = interpolate(PROD.read_text(), env_example())
    assert {error.split(":")[0] for error in errors} == {
        "BOT_CORE_API_KEY", "WEB_CORE_API_KEY", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "JWT_PRIVATE_KEY",
        "GRAFANA_ADMIN_PASSWORD"}
    # SECRET_KEY reaches the roles through env_file: production settings refuse to start without it.
    assert env_example()["SECRET_KEY"] == "" and env_example()["APP_ENV"] == "production"


def test_filled_in_compose_file_is_complete_and_valid():
    env = {**env_example(), "PUBLIC_HOST": "mod.example.org", "BOT_CORE_API_KEY": "k1", "WEB_CORE_API_KEY": "k2",
           "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "s", "JWT_PRIVATE_KEY": "pem",
           "GRAFANA_ADMIN_PASSWORD": "p", "IMAGE_REPOSITORY": "registry.example/acme/tgmod", "IMAGE_TAG": "1.2.0"}
    text, errors = interpolate(PROD.read_text(), env)
    assert errors == [] and "${" not in text
    document = yaml.safe_load(text)
    for profiles in ((), ("observability",)):
        assert schema_errors(with_profiles(document, profiles)) == []
    services = document["services"]
    core = services["centralized-api"]["environment"]
    assert core["SERVICE_API_KEYS"] == "bot=k1,web=k2"
    assert core["ALLOWED_HOSTS"].split(",")[0] == "mod.example.org"
    assert services["bot"]["environment"]["TELEGRAM_WEBHOOK_URL"] == "https://mod.example.org/telegram/webhook"
    assert services["nginx"]["ports"] == ["80:80", "443:443", "127.0.0.1:8443:8443"]
    assert core["DATABASE_URL"] == "mongodb://mongo:27017/tgmod?replicaSet=rs0"
    # The images CI pushes (.github/workflows/ci.yml), one per role.
    assert {services[name]["image"] for name in ("migrate", *ROLES)} == {
        f"registry.example/acme/tgmod-{role}:1.2.0" for role in ("core", "bot", "web")}
