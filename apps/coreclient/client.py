"""The only code that speaks to core: one method per endpoint, sync and async from one definition.

Each endpoint method builds a `Call`; `CoreClient` sends it with httpx.Client, `AsyncCoreClient` with aiohttp
(so `await client.check_permission(...)` there; on the bot's event loop httpx.AsyncClient cost about 1.3 ms of
CPU and 2 ms of latency per call on loopback, aiohttp about a tenth of that). Explicit timeouts; retries with
jittered backoff only for calls that are safe to repeat; a circuit breaker; the envelope unwrapped into the data
or `CoreError(code)`; anything else is `CoreUnavailable`.
"""

import asyncio
import functools
import json
import logging
import random
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
import httpx
from django.conf import settings

from apps.common.context import current_context
from apps.common.headers import ACTING_USER_HEADER

from . import ids, metrics
from .breaker import CircuitBreaker
from .errors import CoreError, CoreUnavailable

logger = logging.getLogger(__name__)

# The endpoint method running right now: names the Call it builds, for the metrics.
_endpoint_name: ContextVar[str] = ContextVar("core_endpoint_name", default="unnamed")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict | None = None
    params: dict | None = field(default=None)
    # Safe to send again after a timeout or a 5xx: reads, checks, and writes core de-duplicates.
    retry: bool = False
    # A floor under the client's read timeout, for calls whose cost core chooses (a password hash is slow on
    # purpose). Connecting still fails fast, so a core that is down is reported as quickly as for any call.
    min_read_timeout: float | None = None
    # The endpoint's name in the table below (`check_permission`), the metrics' label; never the raw path.
    endpoint: str = field(default_factory=_endpoint_name.get)
    headers: dict | None = None  # besides the client's own
    enveloped: bool = True  # False: the JSON body is the answer as is (/api/health answers in the seed's shape)


def _acting(user_id: str | None) -> dict | None:
    """The read is for this user: core authorizes it as them, or answers 403 permission_denied naming the
    permission (apps/rbac/permissions.py)."""
    return {ACTING_USER_HEADER: ids.store_id(user_id, name="acting_user_id")} if user_id is not None else None


def _group(group_id) -> str:
    return ids.store_id(group_id, name="group_id")


def _user(user_id) -> str:
    return ids.store_id(user_id, name="user_id")


def _object(value, name: str) -> str:
    return ids.store_id(value, name=name)


# Core checks a password with a deliberately slow hash (PBKDF2, 1,000,000 rounds: about 0.5 s of CPU on a
# busy 2-core machine, more under load); a user-facing 0.8 s timeout would turn slow successes into 503s.
PASSWORD_CHECK_SECONDS = 3.0


def _compact(values: dict) -> dict:
    return {key: (value.isoformat() if isinstance(value, datetime) else value)
            for key, value in values.items() if value is not None}


def _unwrap(response: httpx.Response):
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("success") is True:
        return body.get("data")
    if isinstance(body, dict) and body.get("success") is False and response.status_code < 500:
        raise CoreError(body.get("error", "error"), body.get("message", ""), response.status_code, body.get("details"))
    raise CoreUnavailable(f"core answered {response.status_code}", outcome=metrics.BAD_RESPONSE)


def _plain(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    raise CoreUnavailable(f"core answered {response.status_code} without a JSON object", outcome=metrics.BAD_RESPONSE)


def _request_id() -> str:
    return current_context().request_id or uuid.uuid4().hex


class _Endpoints:
    """One method per core endpoint. `_send` is synchronous or a coroutine, depending on the client."""

    def _send(self, call: Call):
        raise NotImplementedError

    # -- health, users
    def health(self):
        return self._send(Call("GET", "/api/health", retry=True, enveloped=False))

    def user_create(self, *, username: str, **fields):
        return self._send(Call("POST", "/api/users", json=_compact({"username": username, **fields})))

    def user_get(self, user_id: str):
        return self._send(Call("GET", f"/api/users/{_user(user_id)}", retry=True))

    def user_list(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("GET", "/api/users", params=_compact(filters), retry=True,
                               headers=_acting(acting_user_id)))

    def user_update(self, user_id: str, **fields):
        return self._send(Call("PATCH", f"/api/users/{_user(user_id)}", json=_compact(fields)))

    # -- RBAC
    def check_permission(self, *, permission: str, user_id: str | None = None, telegram_user_id: int | None = None,
                         group_id: str | None = None, telegram_chat_id: int | None = None):
        body = _compact({"permission": permission, "user_id": user_id, "telegram_user_id": telegram_user_id,
                         "group_id": group_id, "telegram_chat_id": telegram_chat_id})
        return self._send(Call("POST", "/api/rbac/check-permission", json=body, retry=True))

    def check_permissions(self, checks: list[dict]):
        body = {"checks": [_compact(check) for check in checks]}
        return self._send(Call("POST", "/api/rbac/check-permissions", json=body, retry=True))

    def permissions(self):
        return self._send(Call("GET", "/api/rbac/permissions", retry=True))

    def roles(self, *, acting_user_id: str | None = None):
        return self._send(Call("GET", "/api/rbac/roles", retry=True, headers=_acting(acting_user_id)))

    def role_get(self, name: str):
        return self._send(Call("GET", f"/api/rbac/roles/{ids.role_name(name, name='name')}", retry=True))

    def assignments(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("GET", "/api/rbac/assignments", params=_compact(filters), retry=True,
                               headers=_acting(acting_user_id)))

    def assign_role(self, *, user_id: str, role: str, **fields):
        body = _compact({"user_id": user_id, "role": role, **fields})
        # Granting a held role returns the existing assignment, so a retry cannot grant twice.
        return self._send(Call("POST", "/api/rbac/assignments", json=body, retry=True))

    def revoke_assignment(self, assignment_id: str, **fields):
        path = f"/api/rbac/assignments/{_object(assignment_id, 'assignment_id')}/revoke"
        return self._send(Call("POST", path, json=_compact(fields)))

    def system_stats(self):
        return self._send(Call("GET", "/api/rbac/system/stats", retry=True))

    # -- groups and members
    def group_register(self, *, telegram_chat_id: int, title: str, type: str):
        body = {"telegram_chat_id": telegram_chat_id, "title": title, "type": type}
        return self._send(Call("POST", "/api/groups", json=body, retry=True))  # idempotent on the chat id

    def group_get(self, group_id: str, *, acting_user_id: str | None = None):
        """With `acting_user_id`, core authorizes VIEW_GROUPS for that user in this group (or globally)."""
        return self._send(Call("GET", f"/api/groups/{_group(group_id)}", retry=True, headers=_acting(acting_user_id)))

    def group_by_chat(self, telegram_chat_id: int):
        chat_id = ids.telegram_id(telegram_chat_id, name="telegram_chat_id")
        return self._send(Call("GET", f"/api/groups/by-chat/{chat_id}", retry=True))

    def group_list(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("GET", "/api/groups", params=_compact(filters), retry=True,
                               headers=_acting(acting_user_id)))

    def group_update(self, group_id: str, **fields):
        """Changes the fields given; one given as None is sent as null, which clears it (log_chat_id)."""
        return self._send(Call("PATCH", f"/api/groups/{_group(group_id)}", json=fields, retry=True))

    def group_migrate(self, group_id: str, *, new_telegram_chat_id: int):
        body = {"new_telegram_chat_id": new_telegram_chat_id}
        return self._send(Call("POST", f"/api/groups/{_group(group_id)}/migrate", json=body, retry=True))

    def group_admins_sync(self, group_id: str, *, admins: list[dict]):
        body = {"admins": [_compact(admin) for admin in admins]}
        return self._send(Call("POST", f"/api/groups/{_group(group_id)}/admins/sync", json=body, retry=True))

    def group_anonymous_admin(self, group_id: str):
        return self._send(Call("GET", f"/api/groups/{_group(group_id)}/anonymous-admin", retry=True))

    def members(self, group_id: str, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("GET", f"/api/groups/{_group(group_id)}/members", params=_compact(filters),
                               retry=True, headers=_acting(acting_user_id)))

    def member_set(self, group_id: str, *, user_id: str, **fields):
        body = _compact({"user_id": user_id, **fields})
        return self._send(Call("POST", f"/api/groups/{_group(group_id)}/members", json=body, retry=True))

    def member_update(self, group_id: str, user_id: str, **fields):
        path = f"/api/groups/{_group(group_id)}/members/{_user(user_id)}"
        return self._send(Call("PATCH", path, json=_compact(fields), retry=True))

    # -- moderation
    def moderation_record(self, *, type: str, **fields):
        return self._send(Call("POST", "/api/moderation/actions", json=_compact({"type": type, **fields})))

    def moderation_complete(self, action_id: str, *, status: str, error: str | None = None):
        body = _compact({"status": status, "error": error})
        path = f"/api/moderation/actions/{_object(action_id, 'action_id')}/complete"
        return self._send(Call("POST", path, json=body))

    def moderation_list(self, **filters):
        return self._send(Call("GET", "/api/moderation/actions", params=_compact(filters), retry=True))

    def warnings(self, group_id: str, user_id: str, **filters):
        path = f"/api/groups/{_group(group_id)}/members/{_user(user_id)}/warnings"
        return self._send(Call("GET", path, params=_compact(filters), retry=True))

    def warning_remove(self, group_id: str, user_id: str, warning_id: str, **fields):
        warning = _object(warning_id, "warning_id")
        path = f"/api/groups/{_group(group_id)}/members/{_user(user_id)}/warnings/{warning}/remove"
        return self._send(Call("POST", path, json=_compact(fields)))

    def warnings_reset(self, group_id: str, user_id: str, **fields):
        path = f"/api/groups/{_group(group_id)}/members/{_user(user_id)}/warnings/reset"
        return self._send(Call("POST", path, json=_compact(fields), retry=True))

    # -- events, stats, audit
    def events_batch(self, events: list[dict]):
        body = {"events": [_compact(event) for event in events]}
        return self._send(Call("POST", "/api/events/batch", json=body, retry=True))  # idempotent by event_id

    def group_stats(self, group_id: str, *, acting_user_id: str | None = None, **query):
        return self._send(Call("GET", f"/api/stats/groups/{_group(group_id)}", params=_compact(query), retry=True,
                               headers=_acting(acting_user_id)))

    def audit_events(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("GET", "/api/audit/events", params=_compact(filters), retry=True,
                               headers=_acting(acting_user_id)))

    def audit_verify(self):
        return self._send(Call("GET", "/api/audit/verify", retry=True))

    def audit_feed(self, *, after: int, limit: int = 200):
        """The change feed: events with a sequence above `after`, oldest first (web's live updates)."""
        return self._send(Call("GET", "/api/audit/events", params={"after": after, "limit": limit}, retry=True))

    # -- accounts: web's logins and its token revocation store
    def verify_credentials(self, *, username: str, password: str, client_ip: str | None = None):
        body = _compact({"username": username, "password": password, "client_ip": client_ip})
        # Not retried: every attempt is audited, and a login is cheap to try again by hand.
        return self._send(Call("POST", "/api/auth/verify-credentials", json=body,
                               min_read_timeout=PASSWORD_CHECK_SECONDS))

    def token_revoke(self, *, jti: str, expires_at: datetime, user_id: str | None = None, reason: str | None = None,
                     family: str | None = None, family_expires_at: datetime | None = None):
        body = _compact({"jti": jti, "expires_at": expires_at, "user_id": user_id, "reason": reason,
                         "family": family, "family_expires_at": family_expires_at})
        # Not retried: the answer's already_revoked decides a refresh rotation, and only the first call is True.
        return self._send(Call("POST", "/api/auth/revoked-tokens", json=body))

    def token_revocation(self, jti: str):
        return self._send(Call("GET", f"/api/auth/revoked-tokens/{ids.token_id(jti, name='jti')}", retry=True))

    def token_family_revocation(self, family: str):
        """Whether a login session (a token family, the sid claim) is revoked."""
        return self._send(Call("GET", f"/api/auth/revoked-families/{ids.token_id(family, name='family')}",
                               retry=True))


def _named(name: str, method):
    @functools.wraps(method)
    def endpoint(self, *args, **kwargs):
        token = _endpoint_name.set(name)
        try:
            return method(self, *args, **kwargs)
        finally:
            _endpoint_name.reset(token)

    return endpoint


# Every endpoint names its calls after itself, including endpoints added to the table later.
for _name, _method in list(vars(_Endpoints).items()):
    if not _name.startswith("_") and callable(_method):
        setattr(_Endpoints, _name, _named(_name, _method))


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return metrics.OK
    if isinstance(error, CoreError):
        return metrics.CLIENT_ERROR
    if isinstance(error, CoreUnavailable):
        return error.outcome
    if isinstance(error, asyncio.CancelledError):
        return metrics.CANCELLED
    return metrics.ERROR


class _Transport:
    """What both clients share: configuration, headers, the breaker, the backoff."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 2.0, retries: int = 2,
                 backoff_seconds: float = 0.05, breaker: CircuitBreaker | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 1.0))
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.breaker = breaker or CircuitBreaker()
        self.service = settings.SERVICE_NAME if settings.configured else "unknown"

    def _headers(self, call: Call | None = None) -> dict:
        headers = {"X-API-Key": self.api_key, "X-Request-ID": _request_id(), "Accept": "application/json"}
        if call is not None and call.headers:
            headers.update(call.headers)
        return headers

    def _timeout(self, call: Call) -> httpx.Timeout:
        if call.min_read_timeout is None or call.min_read_timeout <= self.timeout.read:
            return self.timeout
        return httpx.Timeout(call.min_read_timeout, connect=self.timeout.connect)

    def _attempts(self, call: Call) -> int:
        return 1 + (self.retries if call.retry else 0)

    def _delay(self, attempt: int) -> float:
        return self.backoff_seconds * (2**attempt) * random.uniform(0.5, 1.5)

    def _admit(self, call: Call) -> None:
        if not self.breaker.allow():
            raise CoreUnavailable(f"core is failing; circuit open ({call.method} {call.path} not sent)",
                                  outcome=metrics.BREAKER_OPEN)

    def _settle(self, call: Call, response: httpx.Response | None, error: Exception | None, last: bool):
        """Returns the data, raises the final error, or returns `_RETRY`."""
        if error is not None or response.status_code >= 500:
            self.breaker.record_failure()
            reason = f"{type(error).__name__}: {error}" if error else f"HTTP {response.status_code}"
            logger.warning("core call failed", extra={"method": call.method, "path": call.path, "error": reason,
                                                       "will_retry": not last})
            if last:
                if error is None:
                    outcome = metrics.SERVER_ERROR
                elif isinstance(error, httpx.TimeoutException | TimeoutError):  # aiohttp's timeouts are TimeoutErrors
                    outcome = metrics.TIMEOUT
                else:
                    outcome = metrics.UNAVAILABLE
                raise CoreUnavailable(f"{call.method} {call.path}: {reason}", outcome=outcome) from error
            return _RETRY
        self.breaker.record_success()
        return _unwrap(response) if call.enveloped else _plain(response)

    def _observe(self, call: Call, started: float, error: BaseException | None) -> None:
        metrics.CORE_CLIENT_REQUESTS.labels(service=self.service, endpoint=call.endpoint,
                                            outcome=_outcome(error)).inc()
        metrics.CORE_CLIENT_DURATION.labels(service=self.service, endpoint=call.endpoint).observe(
            time.perf_counter() - started)


_RETRY = object()


class CoreClient(_Transport, _Endpoints):
    def __init__(self, base_url: str, api_key: str, *, transport: httpx.BaseTransport | None = None, **options):
        super().__init__(base_url, api_key, **options)
        self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout, transport=transport)

    def _send(self, call: Call):
        started, failure = time.perf_counter(), None
        try:
            return self._attempt_all(call)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._observe(call, started, failure)

    def _attempt_all(self, call: Call):
        attempts = self._attempts(call)
        for attempt in range(attempts):
            self._admit(call)
            response, error = None, None
            try:
                response = self._http.request(call.method, call.path, json=call.json, params=call.params,
                                              headers=self._headers(call), timeout=self._timeout(call))
            except httpx.HTTPError as exc:
                error = exc
            outcome = self._settle(call, response, error, last=attempt == attempts - 1)
            if outcome is not _RETRY:
                return outcome
            time.sleep(self._delay(attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._http.close()


class _Answer:
    """What `_settle` reads of a response (httpx.Response's names), for an aiohttp answer read in full."""

    __slots__ = ("body", "status_code")

    def __init__(self, status_code: int, body: bytes):
        self.status_code, self.body = status_code, body

    def json(self):
        return json.loads(self.body)


def _query(params: dict | None) -> list[tuple[str, str]] | None:
    """Query parameters spelled as httpx spells them (true/false; a list repeats its key); aiohttp takes only
    strings and numbers."""
    if not params:
        return None
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else (value,):
            pairs.append((key, ("true" if item else "false") if isinstance(item, bool) else str(item)))
    return pairs


# Below the idle time of the servers it talks to (gunicorn's keep-alive for core: 20 s in deploy/gunicorn).
KEEPALIVE_SECONDS = 5.0


class AsyncCoreClient(_Transport, _Endpoints):
    """The async client. Its aiohttp session belongs to the event loop that first uses it."""

    def __init__(self, base_url: str, api_key: str, **options):
        super().__init__(base_url, api_key, **options)
        self._session: aiohttp.ClientSession | None = None

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=KEEPALIVE_SECONDS)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    def _aiohttp_timeout(self, call: Call) -> aiohttp.ClientTimeout:
        timeout = self._timeout(call)
        # sock_read bounds each wait for bytes, as httpx's read timeout does; total bounds a server that drips.
        return aiohttp.ClientTimeout(total=timeout.connect + 2 * timeout.read, sock_connect=timeout.connect,
                                     sock_read=timeout.read)

    async def _request(self, call: Call) -> _Answer:
        async with self._client_session().request(
            call.method, self.base_url + call.path, json=call.json, params=_query(call.params),
            headers=self._headers(call), timeout=self._aiohttp_timeout(call),
        ) as response:
            return _Answer(response.status, await response.read())

    async def _send(self, call: Call):
        started, failure = time.perf_counter(), None
        try:
            return await self._attempt_all(call)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._observe(call, started, failure)

    async def _attempt_all(self, call: Call):
        attempts = self._attempts(call)
        for attempt in range(attempts):
            self._admit(call)
            response, error = None, None
            try:
                response = await self._request(call)
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = exc
            outcome = self._settle(call, response, error, last=attempt == attempts - 1)
            if outcome is not _RETRY:
                return outcome
            await asyncio.sleep(self._delay(attempt))
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
