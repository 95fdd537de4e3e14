"""Two of the framework bypasses, each behind a named setting (default on), against the framework's standard path:
the same requests to real role processes with the setting on and off give the same answers (status, the headers
the middleware sets, the body with ids, times, tokens and nonces put in order of appearance).

- ASGI_SYNC_MIDDLEWARE_CHAIN (web): the whole synchronous chain in one worker thread per request, or Django's own
  ASGIHandler.
- GC_FREEZE_AFTER_STARTUP (every server: gunicorn's post_worker_init for core, the ASGI lifespan for bot and web).

The webhook's plain-message shortcut has its own, which also runs the bot without gc.freeze:
tests/botgateway/test_plain_message_shortcut.py."""

import gc
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.test import override_settings

from apps.common.heap import freeze_startup_objects
from tests.dashboard.pages_platform import PASSWORD, DashboardPlatform
from tests.e2e.processes import TEST_KEY, core_process, free_port, web_process

# Set by the middleware chain or the views: what either path must give alike.
COMPARED_HEADERS = ("content-type", "allow", "cache-control", "vary", "x-frame-options", "x-content-type-options",
                    "referrer-policy", "cross-origin-opener-policy", "content-security-policy", "location",
                    "www-authenticate", "x-request-id")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
VARYING = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), "token"),
    (TIME, "time"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{24,64}\b"), "id"),
    (re.compile(r"(?<=nonce-)[\w+/=-]+|(?<=nonce=\")[^\"]+|(?<=csrfmiddlewaretoken\" value=\")[^\"]+"), "nonce"),
    (re.compile(r"(?<=csrftoken=)[^;]+"), "csrf"),
    # The audit trail's order keys (id and sequence) come from the writer's clock and stream, not from a counter.
    (re.compile(r"(?<![\d.])\d{15,}(?![\d.])"), "key"),
    # A cookie's expiry is the response's time plus its max-age: two servers asked in turn may cross a second.
    (re.compile(r"(?<=expires=)\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT"), "expires"),
]


# Two readings of the clock fall in the same millisecond in one run and not in the other (an audit time is a
# millisecond, a row's a microsecond, and either may end in zeros): a time read from the clock during the run says only
# that it is one. A time the script sent (an event's, a bucket's) keeps its identity.
def _clock_reading_as_now(match: re.Match) -> str:
    try:
        moment = datetime.fromisoformat(match.group(0))
    except ValueError:
        return match.group(0)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return "<now>" if abs(datetime.now(UTC) - moment) < timedelta(days=1) else match.group(0)


CHAIN_LINK = re.compile(r'("(?:previous_)?hash":)"[0-9a-f]{64}"')
WRITER_COUNTS = re.compile(r'("(?:streams|checkpoints)":)\d+')


class Normalizer:
    """Replaces each varying value by its kind and its order of first appearance: two runs that make the same
    values in the same order compare equal, and one that reuses a value where the other made a new one does not."""

    def __init__(self, port: int | None = None):
        self.seen: dict[str, str] = {}
        self.port = port

    def __call__(self, text: str) -> str:
        if self.port is not None:  # the server's own address (the WebSocket source of web's CSP)
            text = text.replace(f"127.0.0.1:{self.port}", "127.0.0.1:<port>")
        # An audit event links to the last one of the writer (thread) that served it: which thread that was varies,
        # and so does how many writers (streams, each with its checkpoint) a run's requests used.
        text = WRITER_COUNTS.sub(r"\1<count>", CHAIN_LINK.sub(r'\1"<hash>"', text))
        text = TIME.sub(_clock_reading_as_now, text)
        for pattern, kind in VARYING:
            text = pattern.sub(lambda match, kind=kind: self.seen.setdefault(
                match.group(0), f"<{kind}{sum(v.startswith(f'<{kind}') for v in self.seen.values()) + 1}>"), text)
        return text


def answer(response: httpx.Response, normalize: Normalizer) -> tuple:
    headers = {name: normalize(response.headers[name]) for name in COMPARED_HEADERS if name in response.headers}
    if "content-security-policy" in headers:  # its directives' order means nothing (and varies by process)
        headers["content-security-policy"] = sorted(headers["content-security-policy"].split("; "))
    cookies = sorted(normalize(value) for name, value in response.headers.multi_items() if name == "set-cookie")
    return response.status_code, headers, cookies, normalize(response.text)


# -- web: the synchronous chain, and gc.freeze after the lifespan's startup


WEB_VARIANTS = {
    "default": {},
    "django's ASGI handler": {"ASGI_SYNC_MIDDLEWARE_CHAIN": "false"},
    "no gc.freeze": {"GC_FREEZE_AFTER_STARTUP": "false"},
}


@pytest.fixture(scope="module")
def webs(tmp_path_factory):
    platform = DashboardPlatform(tmp_path_factory.mktemp("bypasses-web"))
    # A login waits on core's password hash: on a busy machine longer than web's 0.8 s default (then 503 on both).
    patient = {**platform.web_env(), "WEB_CORE_TIMEOUT_SECONDS": "10"}
    servers = {name: web_process(tmp_path_factory.mktemp("web"), free_port(), platform.core_port,
                                 env={**patient, **env}) for name, env in WEB_VARIANTS.items()}
    try:
        platform.core.start()
        for server in servers.values():
            server.start()
        yield platform, {name: httpx.Client(base_url=f"http://127.0.0.1:{server.env['PORT']}", timeout=10,
                                            follow_redirects=False) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
        platform.core.stop()


def web_script(platform) -> list[tuple]:
    """(method, path, keyword arguments for httpx); a successful login's access token goes with what follows."""
    group = platform.group("Bypass group")
    admin = platform.user("admin", group=group)
    return [
        ("GET", "/api/health", {}),
        ("GET", "/api/me", {}),
        ("POST", "/api/auth/login", {"json": {"username": admin["username"], "password": "wrong-Password-1"}}),
        ("POST", "/api/auth/login", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/auth/login", {"json": {"username": admin["username"]}}),
        ("POST", "/api/auth/login", {"content": b"x" * (3 * 1024 * 1024), "headers": {"Content-Type": "text/plain"}}),
        ("POST", "/api/auth/login", {"json": {"username": admin["username"], "password": PASSWORD}}),
        ("GET", "/api/me", {}),
        ("GET", "/api/groups", {}),
        ("GET", f"/api/groups/{group['id']}", {}),
        ("GET", f"/api/groups/{group['id']}/members", {}),
        ("GET", "/api/groups/not-a-group", {}),
        ("GET", "/api/roles", {}),
        ("DELETE", "/api/roles", {}),
        ("GET", "/api/stats", {}),
        ("GET", "/api/nowhere", {}),
        ("GET", "/login", {}),
        ("GET", "/", {}),
        ("GET", "/nowhere", {}),
        ("GET", "/favicon.ico", {}),
    ]


@pytest.mark.e2e
@pytest.mark.parametrize("variant", [name for name in WEB_VARIANTS if name != "default"])
def test_web_answers_alike_through_django_s_standard_path(webs, variant):
    platform, clients = webs
    compared = {name: clients[name] for name in ("default", variant)}
    normalizers = {name: Normalizer(client.base_url.port) for name, client in compared.items()}
    tokens: dict[str, str] = {}
    for method, path, options in web_script(platform):
        answers = {}
        for name, client in compared.items():
            headers = {**options.get("headers", {}), **({"Authorization": f"Bearer {tokens[name]}"}
                                                          if name in tokens else {})}
            response = client.request(method, path, **{**options, "headers": headers})
            if path == "/api/auth/login" and response.status_code == 200:
                tokens[name] = response.json()["data"]["access"]
            answers[name] = answer(response, normalizers[name])
        assert answers["default"] == answers[variant], f"{method} {path}"
        assert answers["default"][0] < 500, (method, path, answers["default"])


@pytest.mark.parametrize(("setting", "handler"), [("true", "SyncChainASGIHandler"), ("false", "ASGIHandler")])
def test_the_setting_picks_web_s_asgi_handler(setting, handler, tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", "import apps.dashboard.asgi as web; print(type(web.django_application).__name__)"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
        env={**environment, "APP_ENV": "development", "DATA_DIR": str(tmp_path), "ASGI_SYNC_MIDDLEWARE_CHAIN": setting})
    assert result.stdout.split() == [handler], result.stderr[-2000:]


# -- core: gc.freeze after gunicorn's worker start


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    servers = {}
    try:
        for freeze in (True, False):
            port = free_port()
            server = servers[freeze] = core_process(tmp_path_factory.mktemp(f"core-freeze-{freeze}"), port)
            server.env["GC_FREEZE_AFTER_STARTUP"] = "true" if freeze else "false"
            server.start()
        yield {freeze: httpx.Client(base_url=f"http://127.0.0.1:{server.env['PORT']}", timeout=10,
                                    headers={"X-API-Key": TEST_KEY}) for freeze, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


def core_script(client: httpx.Client) -> list[httpx.Response]:
    responses = [client.get("/api/health")]
    responses.append(client.post("/api/users", json={"username": "frozen", "password": PASSWORD}))
    user_id = responses[-1].json()["data"]["id"]
    responses.append(client.post("/api/users", json={"username": "frozen"}))  # taken
    responses.append(client.post("/api/groups", json={"telegram_chat_id": -1009, "title": "G", "type": "supergroup"}))
    group_id = responses[-1].json()["data"]["id"]
    events = [{"event_id": f"e{i}", "type": "message", "group_id": group_id, "telegram_user_id": 700 + i % 3,
               "occurred_at": "2026-01-02T03:04:05Z"} for i in range(50)]
    responses += [
        client.post("/api/events/batch", json={"events": events}),
        client.post("/api/events/batch", json={"events": events[:5]}),  # retried: stored once
        client.get("/api/groups"),
        client.get(f"/api/groups/{group_id}"),
        client.get(f"/api/groups/{group_id}/members"),
        client.get(f"/api/users/{user_id}"),
        client.get(f"/api/stats/groups/{group_id}", params={"bucket": "day", "since": "2026-01-01T00:00:00Z"}),
        client.get("/api/audit/events"),
        client.get("/api/audit/verify"),
        client.post("/api/users", content=b"{oops", headers={"Content-Type": "application/json"}),
        client.delete("/api/health"),
        client.get("/api/nowhere"),
        client.get("/api/users", headers={"X-API-Key": "wrong"}),
        client.get("/"),
    ]
    return responses


@pytest.mark.e2e
def test_core_answers_alike_with_and_without_gc_freeze(cores):
    frozen, plain = (core_script(cores[freeze]) for freeze in (True, False))
    normalize_frozen, normalize_plain = Normalizer(), Normalizer()
    frozen = [answer(response, normalize_frozen) for response in frozen]
    plain = [answer(response, normalize_plain) for response in plain]
    for number, (one, other) in enumerate(zip(frozen, plain, strict=True)):
        assert one == other, number
        assert one[0] < 500, (number, one)


def test_the_setting_decides_whether_startup_objects_are_frozen():
    gc.unfreeze()  # whatever an earlier test in this process froze
    try:
        with override_settings(GC_FREEZE_AFTER_STARTUP=False):
            freeze_startup_objects()
        assert gc.get_freeze_count() == 0
        with override_settings(GC_FREEZE_AFTER_STARTUP=True):
            freeze_startup_objects()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_the_normalizer_tells_a_reused_value_from_a_new_one():
    assert Normalizer()("a 2026-01-02T03:04:05Z b 2026-01-02T03:04:05Z") == "a <time1> b <time1>"
    assert Normalizer()("a 2026-01-02T03:04:05Z b 2026-01-02T03:04:06Z") == "a <time1> b <time2>"
    now = datetime.now(UTC)
    assert Normalizer()(f"a {now.isoformat()} b {now.replace(microsecond=0).isoformat()}") == "a <now> b <now>"
    assert (Normalizer()('{"id":"118905700324147","sequence":118905700324147,"chat":-1009,"next":118905700324146}')
            == '{"id":"<key1>","sequence":<key1>,"chat":-1009,"next":<key2>}')
    link = {"previous_hash": "ab" * 32, "hash": "cd" * 32, "request_id": "ef" * 16}
    assert Normalizer()(json.dumps(link, separators=(",", ":"))) == (
        '{"previous_hash":"<hash>","hash":"<hash>","request_id":"<id1>"}')
    assert (Normalizer()('{"checked":9,"streams":2,"checkpoints":1}')
            == '{"checked":9,"streams":<count>,"checkpoints":<count>}')
