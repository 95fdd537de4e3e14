"""Each service key reaches only its scope of core's endpoints (apps/common/service_scopes.py).

The bot and web get least-privilege scopes by default; another service gets SERVICE_SCOPE_<NAME>, or full access
without one. An out-of-scope call is 403 service_forbidden, before the view reads anything, on the audit trail.
"""

import inspect
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve
from django.urls.resolvers import URLResolver

from apps.accounts.permissions import ServiceScopePermission
from apps.audit.models import AuditEvent
from apps.common.audit_actions import ALL_ACTIONS, SERVICE_FORBIDDEN
from apps.common.service_scopes import (
    BOT,
    DEFAULT_SCOPES,
    ENDPOINTS,
    GROUPS,
    WEB,
    compile_scope,
    compile_scopes,
    scope_allows,
)
from apps.coreclient import CoreClient, CoreError
from apps.groups.models import Group, Membership
from apps.rbac.models import Role, RoleAssignment
from apps.users.models import User
from config.settings.env import parse_service_scopes, service_scope_variable
from tests.common.assertions import assert_error
from tests.conftest import ApiClient
from tests.factories import grant, make_group, make_member, make_user
from tests.in_process_core import keeping_test_connection

ROOT = Path(__file__).resolve().parents[2]
BOT_KEY, WEB_KEY, TESTS_KEY = "bot-key", "web-key", "test-key"


def refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=SERVICE_FORBIDDEN).order_by("sequence"))


@contextmanager
def nothing_written_but_the_trail():
    models = (User, Group, Membership, RoleAssignment, Role)
    before = [model.objects.count() for model in models]
    yield
    assert [model.objects.count() for model in models] == before, "the refused request wrote"


def assert_refused(response, service: str, method: str, path: str, route: str) -> None:
    assert_error(response, 403, "service_forbidden", service)
    (event,) = refusals()
    assert (event.service, event.result, event.target_type, event.target_id) == (service, "denied", "endpoint", route)
    assert event.details == {"method": method, "path": path, "route": route}
    assert event.reason == f"{method} {path}"


# -- refused outside the scope, with the refusal on the trail

BOT_REFUSED = [
    ("get", "/api/audit/events", "audit-events"),
    ("get", "/api/audit/verify", "audit-verify"),
    ("post", "/api/auth/verify-credentials", "auth-verify-credentials"),
    ("post", "/api/rbac/roles", "rbac-roles"),
    ("patch", "/api/users/{user}", "user-detail"),
    ("get", "/api/groups", "groups"),
]
WEB_REFUSED = [
    ("post", "/api/events/batch", "events-batch"),
    ("post", "/api/moderation/actions", "moderation-actions"),
    ("post", "/api/groups", "groups"),
    ("post", "/api/groups/{group}/members", "group-members"),
    ("patch", "/api/users/{user}", "user-detail"),
    ("post", "/api/rbac/roles", "rbac-roles"),
]


def _call(client: ApiClient, method: str, path: str):
    # A body the endpoint would accept, so nothing but the scope can refuse it.
    bodies = {"/api/rbac/roles": {"name": "intruder", "rank": 99, "permissions": ["MANAGE_ROLES"]},
              "/api/events/batch": {"events": []},
              "/api/auth/verify-credentials": {"username": "admin", "password": "guess"}}
    body = next((value for prefix, value in bodies.items() if path == prefix), {"username": "intruder"})
    return client.get(path) if method == "get" else getattr(client, method)(path, body)


REFUSED = [(BOT_KEY, "bot", *case) for case in BOT_REFUSED] + [(WEB_KEY, "web", *case) for case in WEB_REFUSED]


@pytest.mark.parametrize(("key", "service", "method", "template", "route"), REFUSED)
def test_calls_outside_the_scope_are_refused_and_audited(db, key, service, method, template, route):
    user, group = make_user(), make_group()
    path = template.format(user=user.pk, group=group.pk)
    before = AuditEvent.objects.count()
    with nothing_written_but_the_trail():
        response = _call(ApiClient(api_key=key), method, path)
    assert_refused(response, service, method.upper(), path, route)
    assert AuditEvent.objects.count() == before + 1, "only the refusal is on the trail"


def test_a_refused_write_changes_nothing(db):
    user = make_user(display_name="Before")
    response = ApiClient(api_key=BOT_KEY).patch(f"/api/users/{user.pk}", {"display_name": "After", "is_staff": True})
    assert_error(response, 403, "service_forbidden")
    user.refresh_from_db()
    assert (user.display_name, user.is_staff) == ("Before", False)
    assert not AuditEvent.objects.filter(action="user.update").exists()


def test_the_scope_is_checked_before_the_body_is_read(db):
    """A malformed body still gets the scope's answer: an out-of-scope caller learns nothing of the endpoint."""
    response = ApiClient(api_key=WEB_KEY).post("/api/events/batch", raw="{not json")
    assert_error(response, 403, "service_forbidden")


def test_head_is_read_as_get(db):
    client = ApiClient(api_key=WEB_KEY, validate=False)
    assert client.client.head("/api/groups").status_code == 200
    assert client.client.head("/api/audit/events").status_code == 200
    assert ApiClient(api_key=BOT_KEY, validate=False).client.head("/api/audit/events").status_code == 403


def test_the_schema_is_in_the_scope_too(db):
    assert ApiClient(api_key=BOT_KEY, validate=False).get("/api/schema").status_code == 403
    assert [event.target_id for event in refusals()] == ["schema"]
    assert ApiClient(api_key=TESTS_KEY).get("/api/schema").status_code == 200


# -- allowed inside the scope, and nothing written about it

def test_the_bot_checks_records_and_reports(db):
    user, group = make_user(), make_group()
    make_member(user, group)
    grant(user, "moderator", group)
    bot = ApiClient(api_key=BOT_KEY)
    check = bot.post("/api/rbac/check-permission", {"permission": "BAN_USERS", "user_id": str(user.pk),
                                                    "group_id": str(group.pk)})
    assert check.status_code == 200 and check.json()["data"]["allowed"] is True, check.content
    record = bot.post("/api/moderation/actions", {"type": "warn", "group_id": str(group.pk),
                                                  "target_user_id": str(user.pk), "actor_user_id": str(user.pk)})
    assert record.status_code in (200, 201), record.content
    batch = bot.post("/api/events/batch", {"events": []})
    assert batch.status_code != 403, batch.content
    assert refusals() == []


def test_web_reads_the_audit_trail_and_checks_logins(db):
    web = ApiClient(api_key=WEB_KEY)
    assert web.get("/api/audit/events").status_code == 200
    assert web.get("/api/audit/verify").status_code == 200
    login = web.post("/api/auth/verify-credentials", {"username": "nobody", "password": "wrong"})
    assert_error(login, 401, "invalid_credentials")
    assert refusals() == []


# -- services other than bot and web

def test_an_unconfigured_service_has_full_access(db, settings):
    settings.SERVICE_API_KEYS = {**settings.SERVICE_API_KEYS, "operator": ["operator-key"]}
    for key in (TESTS_KEY, "operator-key"):
        client = ApiClient(api_key=key)
        assert client.get("/api/audit/events").status_code == 200
        assert client.post("/api/events/batch", {"events": []}).status_code != 403
        response = client.post("/api/rbac/roles", {"name": f"custom-{key[:4]}", "rank": 30, "permissions": []})
        assert response.status_code == 201, response.content
    assert refusals() == []


def test_a_configured_integrator_scope_is_honoured(db, settings):
    settings.SERVICE_API_KEYS = {**settings.SERVICE_API_KEYS, "integrator": ["integrator-key"]}
    settings.SERVICE_SCOPES = compile_scopes({"integrator": ["audit", "users.get"]})
    user = make_user()
    integrator = ApiClient(api_key="integrator-key")
    assert integrator.get("/api/audit/events").status_code == 200
    assert integrator.get("/api/audit/verify").status_code == 200
    assert integrator.get(f"/api/users/{user.pk}").status_code == 200
    assert_refused(integrator.get("/api/users"), "integrator", "GET", "/api/users", "users")
    # bot and web keep their defaults beside it
    assert_error(ApiClient(api_key=BOT_KEY).get("/api/audit/events"), 403, "service_forbidden")


def test_star_is_full_access(db, settings):
    settings.SERVICE_API_KEYS = {**settings.SERVICE_API_KEYS, "operator": ["operator-key"]}
    settings.SERVICE_SCOPES = compile_scopes({"operator": ["*"], "bot": ["*"]})
    for key in ("operator-key", BOT_KEY):
        assert ApiClient(api_key=key).get("/api/audit/events").status_code == 200
        response = ApiClient(api_key=key).post("/api/rbac/roles", {"name": f"r-{key[:3]}", "rank": 30,
                                                                   "permissions": []})
        assert response.status_code == 201, response.content
    assert refusals() == []


def test_a_configured_scope_replaces_a_default(db, settings):
    settings.SERVICE_SCOPES = compile_scopes({"web": ["read"]})
    web = ApiClient(api_key=WEB_KEY)
    assert web.get("/api/audit/events").status_code == 200
    assert_error(web.post("/api/auth/verify-credentials", {"username": "a", "password": "b"}), 403,
                 "service_forbidden")


def test_staff_sessions_are_not_scoped(db):
    client = Client()
    client.force_login(User.objects.create_user(username="staff", is_staff=True))
    assert client.get("/api/audit/events", HTTP_ACCEPT="application/json").status_code == 200
    assert refusals() == []


# -- the environment: SERVICE_SCOPE_<NAME>

def test_scopes_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SERVICE_SCOPE_INTEGRATOR_1", " audit , users.get ")
    monkeypatch.setenv("SERVICE_SCOPE_BOT", "*")
    scopes = parse_service_scopes({"integrator-1": ["k"], "bot": ["k2"], "web": ["k3"]})
    assert scopes == {"integrator-1": ["audit", "users.get"], "bot": ["*"]}
    compiled = compile_scopes(scopes)
    assert compiled["integrator-1"] == GROUPS["audit"] | {ENDPOINTS["users.get"]}
    assert compiled["bot"] is None
    assert compiled["web"] == GROUPS["web"]
    assert service_scope_variable("integrator-1") == "SERVICE_SCOPE_INTEGRATOR_1"


def test_a_scope_for_no_known_service_is_an_error(monkeypatch):
    """A misspelt name would otherwise leave the real service unscoped, with full access."""
    monkeypatch.setenv("SERVICE_SCOPE_INTEGRATR", "audit")
    with pytest.raises(ImproperlyConfigured, match="SERVICE_SCOPE_INTEGRATR"):
        parse_service_scopes({"integrator": ["k"]})


@pytest.mark.parametrize("entries", [["audit.lst"], ["audit", "nope"], []])
def test_unknown_or_empty_scopes_are_errors(entries):
    with pytest.raises(ImproperlyConfigured):
        compile_scope(entries, service="integrator")


def test_core_settings_read_the_scope_from_the_environment(tmp_path):
    probe = ("from django.conf import settings; from apps.common.service_scopes import ENDPOINTS as E; "
             "s = settings.SERVICE_SCOPES; "
             "print(sorted(s['ops']) == sorted({E['audit.list'], E['groups.get']}), s['all'] is None, "
             "'unscoped' in s, s['bot'] is not None)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.core", "APP_ENV": "development",
           "DATA_DIR": str(tmp_path), "SERVICE_API_KEYS": "bot=a,web=b,ops=c,all=d,unscoped=e",
           "SERVICE_SCOPE_OPS": "audit.list,groups.get", "SERVICE_SCOPE_ALL": "*"}
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {probe}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False", "True"]
    env["SERVICE_SCOPE_OPS"] = "audit.lst"
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "audit.lst" in result.stderr


# -- the catalogue is core's URL conf, and every route goes through the scope

def _api_views():
    """(route name, method, view class) of every DRF view under /api/ in core's URL conf."""
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern

    for pattern in walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "cls", None)
        if view is None:
            continue
        for method in view.http_method_names:
            if method not in ("options", "head") and hasattr(view, method):
                yield pattern.name, method.upper(), view


def _public(view) -> bool:
    return view.authentication_classes == [] and view.permission_classes and all(
        cls.__name__ == "AllowAny" for cls in view.permission_classes)


def test_the_catalogue_names_every_endpoint_of_core():
    served = {(route, method) for route, method, view in _api_views() if not _public(view)}
    assert set(ENDPOINTS.values()) == served


def test_every_core_view_but_health_checks_the_scope():
    unchecked = {(route, method) for route, method, view in _api_views()
                 if not _public(view) and ServiceScopePermission not in _permission_classes(view, route)}
    assert unchecked == set()
    assert {route for route, _, view in _api_views() if _public(view)} == {"health"}


def _permission_classes(view, route):
    if route in ("schema", "docs"):
        from drf_spectacular.settings import spectacular_settings

        return spectacular_settings.SERVE_PERMISSIONS
    return view.permission_classes


def test_default_scopes_name_only_known_endpoints():
    for names in DEFAULT_SCOPES.values():
        assert set(names) <= set(ENDPOINTS)
    assert not {"audit.list", "auth.verify_credentials", "roles.create", "users.update"} & set(BOT)
    assert not {"events.batch", "moderation.record", "groups.register", "users.update"} & set(WEB)


def test_the_refusal_is_a_known_audit_action():
    assert SERVICE_FORBIDDEN in ALL_ACTIONS


def test_an_allowed_call_is_a_set_lookup():
    scope = settings.SERVICE_SCOPES["bot"]
    assert isinstance(scope, frozenset)
    assert scope_allows(scope, "rbac-check", "POST")
    assert not scope_allows(scope, "rbac-check", "GET")
    assert scope_allows(None, "anything", "DELETE")


# -- the clients stay inside their scopes: every core call the bot's and web's code makes, made for real

class RecordingTransport(httpx.WSGITransport):
    """Core's real WSGI app, in process, remembering each request's method and path."""

    def __init__(self):
        super().__init__(app=get_wsgi_application())
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request):
        self.sent.append((request.method, request.url.path))
        return super().handle_request(request)


@pytest.fixture
def core_app(db):
    with keeping_test_connection():
        yield RecordingTransport()


def endpoint_methods(client_class) -> set[str]:
    """The client's methods that call core (its own classes' public methods, closing aside)."""
    return {name for cls in client_class.__mro__ if cls.__module__.startswith("apps.")
            for name, value in vars(cls).items()
            if not name.startswith("_") and callable(value) and name not in ("close", "aclose")}


def methods_used(package: str, client_class) -> set[str]:
    """The endpoint methods the code under apps/<package> refers to (`core().group_list`, `context.core.x(`)."""
    names = endpoint_methods(client_class)
    pattern = re.compile(r"\.(" + "|".join(sorted(names)) + r")\b(?!\s*=[^=])")
    used = set()
    for source in (ROOT / "apps" / package).rglob("*.py"):
        used |= set(pattern.findall(source.read_text()))
    return used


def _argument(name: str, annotation, objects: dict):
    by_name = {
        "user_id": objects["user"], "group_id": objects["group"], "assignment_id": objects["missing"],
        "action_id": objects["missing"], "warning_id": objects["missing"], "entry_id": objects["missing"],
        "challenge_id": objects["missing"], "message_ids": [1],
        "name": "moderator",
        "telegram_chat_id": objects["chat"], "new_telegram_chat_id": objects["chat"] - 1, "permission": "BAN_USERS",
        "username": "scope-probe", "password": "not-the-password", "type": "warn", "title": "Probe",
        "checks": [{"permission": "BAN_USERS", "user_id": objects["user"]}], "events": [], "admins": [],
        "role": "helper", "jti": "scope-probe", "expires_at": datetime.now(UTC) + timedelta(hours=1),
        "status": "executed", "after": 0, "active": False,
        "telegram_chat_ids": [objects["chat"]],
        "ban_list_id": objects["missing"], "source_id": objects["missing"], "propagation_id": objects["missing"],
        "ban_list_ids": [objects["missing"]], "propagation_ids": [objects["missing"]],
    }
    if name in by_name:
        return by_name[name]
    annotation_text = str(annotation)
    for kind, value in (("int", 1), ("str", "probe"), ("list", []), ("dict", {})):
        if kind in annotation_text:
            return value
    pytest.fail(f"no probe value for argument {name!r}: add one to _argument")


def call_for_real(client, method_name: str, objects: dict) -> CoreError | None:
    method = getattr(client, method_name)
    positional, keywords = [], {}
    for parameter in inspect.signature(method).parameters.values():
        if parameter.default is not parameter.empty or parameter.kind in (parameter.VAR_POSITIONAL,
                                                                         parameter.VAR_KEYWORD):
            continue
        value = _argument(parameter.name, parameter.annotation, objects)
        if parameter.kind == parameter.KEYWORD_ONLY:
            keywords[parameter.name] = value
        else:
            positional.append(value)
    try:
        answer = method(*positional, **keywords)
        if inspect.isgenerator(answer):
            b"".join(answer)
    except CoreError as exc:
        return exc
    return None


def _missing_id(existing_pk) -> str:
    return "999999999" if isinstance(existing_pk, int) else "f" * 24


@pytest.mark.parametrize(("service", "package", "client_class", "key"), [
    ("bot", "botgateway", CoreClient, BOT_KEY),  # the bot's AsyncCoreClient shares these endpoint methods
    ("web", "dashboard", CoreClient, WEB_KEY),
])
def test_the_clients_stay_inside_their_scopes(core_app, service, package, client_class, key):
    used = methods_used(package, client_class)
    assert {"check_permission", "check_permissions"} <= used, "the scan of the role's code found its calls"
    user, group = make_user(), make_group()
    make_member(user, group)
    objects = {"user": str(user.pk), "group": str(group.pk), "chat": group.telegram_chat_id,
               "missing": _missing_id(user.pk)}
    client = client_class("http://testserver", key, transport=core_app, retries=0)
    scope = settings.SERVICE_SCOPES[service]
    outside = []
    try:
        for name in sorted(used):
            sent_before = len(core_app.sent)
            error = call_for_real(client, name, objects)
            assert len(core_app.sent) > sent_before, f"{name} sent nothing to core"
            if error is not None and error.code == "service_forbidden":
                outside.append(f"{name}: core refused it ({error.message})")
            for method, path in core_app.sent[sent_before:]:
                try:
                    match = resolve(path)
                except Resolver404:
                    outside.append(f"{name}: {method} {path} is no endpoint of core")
                    continue
                view = getattr(match.func, "cls", None)
                if not (view is not None and _public(view)) and not scope_allows(scope, match.url_name, method):
                    outside.append(f"{name}: {method} {path} ({match.url_name}) is outside the {service} scope")
    finally:
        client.close()
    assert outside == [], "\n".join(outside)


def _readme_row(first_cell: str) -> str:
    readme = (ROOT / "README.md").read_text()
    security = readme[readme.index("## Security"):]
    return next(line for line in security.splitlines() if line.startswith(f"| `{first_cell}` |"))


def test_the_readme_lists_the_default_scopes_and_every_endpoint():
    for service, names in DEFAULT_SCOPES.items():
        assert re.findall(r"`(\w+\.\w+)`", _readme_row(service)) == list(names), service
    for area in {name.partition(".")[0] for name in ENDPOINTS}:
        documented = re.findall(r"`(\w+)` (?:GET|POST|PATCH)", _readme_row(area))
        assert sorted(documented) == sorted(n.partition(".")[2] for n in ENDPOINTS if n.startswith(f"{area}.")), area
