"""Typed access to environment variables: the only source of configuration."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def parse_service_keys(raw: str) -> dict[str, list[str]]:
    """`name=key,name=key2` -> {"name": ["key", "key2"]}: several keys per service allow rotation."""
    keys: dict[str, list[str]] = {}
    for pair in (item.strip() for item in raw.split(",")):
        if not pair:
            continue
        name, sep, key = pair.partition("=")
        name, key = name.strip(), key.strip()
        if not sep or not name or not key:
            raise ImproperlyConfigured("SERVICE_API_KEYS must be comma-separated name=key pairs")
        keys.setdefault(name, []).append(key)
    return keys


SERVICE_SCOPE_PREFIX = "SERVICE_SCOPE_"


def service_scope_variable(service: str) -> str:
    """`integrator-1` -> SERVICE_SCOPE_INTEGRATOR_1: the name upper-cased, anything but A-Z and 0-9 as _."""
    return SERVICE_SCOPE_PREFIX + "".join(c if c.isascii() and c.isalnum() else "_" for c in service.upper())


def parse_service_scopes(services) -> dict[str, list[str]]:
    """{service: [endpoint or group names, or *]} from SERVICE_SCOPE_<NAME>=a,b,c, for each service in `services`.
    A variable naming no service is an error rather than ignored: a misspelt name would leave the service its
    unscoped, full access."""
    by_variable = {service_scope_variable(service): service for service in services}
    scopes: dict[str, list[str]] = {}
    for variable in sorted(os.environ):
        if not variable.startswith(SERVICE_SCOPE_PREFIX):
            continue
        service = by_variable.get(variable)
        if service is None:
            raise ImproperlyConfigured(f"{variable} names no service of SERVICE_API_KEYS")
        scopes[service] = env_list(variable)
    return scopes


def development_secret_key(data_dir: Path) -> str:
    """A random key kept under the data folder, so restarts and workers share it."""
    from django.core.management.utils import get_random_secret_key

    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
