"""The only code that speaks to core: one method per endpoint (endpoints.py), sync and async from one definition.

`CoreClient` sends each Call with httpx's transports, `AsyncCoreClient` with aiohttp (so `await
client.check_permission(...)` there; on the bot's event loop httpx.AsyncClient cost about 1.3 ms of CPU and 2 ms of
latency per call on loopback, aiohttp about a tenth of that). Explicit timeouts; one retry policy (retry.py) for
calls that are safe to repeat; a circuit breaker; the envelope unwrapped into the data, a typed answer
(answers.py) or `CoreError(code)`; anything else is `CoreUnavailable`. Lists, and the reads web hands to the browser
as they are, stay core's JSON (endpoints.py says which): decoding them only to encode them again would be waste. The
sync client also streams core's audit CSV through, chunk by chunk.
"""

import json
import logging
import threading
from collections import deque
from collections.abc import Iterator
from urllib.parse import urlencode

import aiohttp
import httpx

from .calls import Call, acting, compact
from .endpoints import Endpoints
from .transport import Transport

logger = logging.getLogger(__name__)


class _TransportPool:
    """httpx transports lent to one call at a time, the last one given back lent first; each holds one keep-alive
    connection to core. One shared httpx.Client made every web thread queue on its connection pool's lock, its
    pool's bookkeeping walks every connection for every idle one on each request and response, and httpcore 1.0
    closes an idle connection whenever more than max_keepalive_connections exist, idle or not, so under load most
    calls opened a new TCP connection to core. Taking or giving back a transport is one deque operation. At most
    `keep` idle ones are kept; more are closed as they come back."""

    def __init__(self, make, keep: int):
        self._make, self._keep = make, keep
        self._idle: deque[httpx.BaseTransport] = deque()
        self._open: set[httpx.BaseTransport] = set()
        self._lock = threading.Lock()

    def take(self) -> httpx.BaseTransport:
        try:
            return self._idle.pop()
        except IndexError:
            transport = self._make()
            with self._lock:
                self._open.add(transport)
            return transport

    def give_back(self, transport: httpx.BaseTransport) -> None:
        if len(self._idle) < self._keep:
            self._idle.append(transport)
            return
        with self._lock:
            self._open.discard(transport)
        transport.close()

    def close(self) -> None:
        with self._lock:
            transports, self._open = list(self._open), set()
        self._idle.clear()
        for transport in transports:
            transport.close()


class _OneTransport(_TransportPool):
    """The one transport a client was given (tests pass core's app in process), lent to every call at once."""

    def __init__(self, transport: httpx.BaseTransport):
        super().__init__(lambda: transport, keep=0)
        self._transport = transport

    def take(self) -> httpx.BaseTransport:
        return self._transport

    def give_back(self, transport: httpx.BaseTransport) -> None:
        pass

    def close(self) -> None:
        self._transport.close()


# Idle transports (each with its keep-alive connection to core) a process keeps.
IDLE_CONNECTIONS = 100


class CoreClient(Transport, Endpoints):
    """Sends each call's httpx.Request straight to a transport: httpx.Client's layers (URLs merged and parsed three
    times, cookies extracted from every answer into a jar, auth and redirect hooks, an INFO line per call repeating
    core's own request line) were half of web's CPU for a relayed list; none of them serves a call to core. `transport`:
    one to send every call through (tests pass core's app in process); by default each pooled connection gets an
    httpx.HTTPTransport, all sharing one TLS context. Like the async client, it ignores proxy variables."""

    def __init__(self, base_url: str, api_key: str, *, transport: httpx.BaseTransport | None = None, **options):
        super().__init__(base_url, api_key, **options)
        if transport is None:
            context = httpx.create_ssl_context()  # made once: httpx loads the CA bundle for each one
            self._transports = _TransportPool(lambda: httpx.HTTPTransport(verify=context), IDLE_CONNECTIONS)
        else:
            self._transports = _OneTransport(transport)

    def _send(self, call: Call):
        with self._observed(call):
            return self.retry_policy.run(call, self._attempt, call)

    def _request(self, call: Call) -> httpx.Request:
        url = self.base_url + call.path
        if call.params:
            url += "?" + urlencode(query_pairs(call.params))
        return httpx.Request(call.method, url, json=call.json, headers=self._headers(call),
                             extensions={"timeout": self._timeout(call).as_dict()})

    def _attempt(self, call: Call):
        self._admit(call)
        transport = self._transports.take()
        try:
            response = transport.handle_request(self._request(call))
            response.read()  # whole, which closes it: the connection is free again
        except httpx.HTTPError as exc:
            raise self._failed(call, None, exc) from exc
        finally:
            self._transports.give_back(transport)
        return self._settle(call, response)

    def audit_csv(self, **filters) -> Iterator[bytes]:
        """Core's audit CSV, its chunks as core sends them (web streams them to the browser). Errors before the
        first byte raise CoreError / CoreUnavailable; a failure in the middle ends the stream early (logged). Sent
        once: the stream starts at once, so there is nothing to retry."""
        call = Call("audit_csv", "GET", "/api/audit/events.csv", params=compact(filters),
                    headers={"Accept": "text/csv, application/json"})
        with self._observed(call):
            return self._open_stream(call)

    def ban_list_export(self, ban_list_id, *, format: str = "csv", acting_user_id: str | None = None
                        ) -> Iterator[bytes]:
        """A ban list's export (CSV or JSON, not enveloped), its chunks as core sends them (web streams them to the
        browser), read for `acting_user_id` (BAN_LIST_VIEW in the list's scope). Errors as for audit_csv."""
        media = "text/csv" if format == "csv" else "application/json"
        call = Call("ban_list_export", "GET", self._ban_list_export_path(ban_list_id, format=format).split("?")[0],
                    params={"format": format}, headers={"Accept": f"{media}, application/json",
                                                        **(acting(acting_user_id) or {})})
        with self._observed(call):
            return self._open_stream(call)

    def _open_stream(self, call: Call) -> Iterator[bytes]:
        self._admit(call)
        transport = self._transports.take()  # lent until the stream is closed
        try:
            response = transport.handle_request(self._request(call))
        except httpx.HTTPError as exc:
            self._transports.give_back(transport)
            raise self._failed(call, None, exc) from exc
        if response.status_code != 200:
            response.read()
            self._transports.give_back(transport)
            self._settle(call, response)  # raises CoreError or CoreUnavailable
            raise AssertionError(f"core answered {response.status_code} to {call.path}")
        self.breaker.record_success()
        return self._chunks(response, transport)

    def _chunks(self, response: httpx.Response, transport: httpx.BaseTransport) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes()
        except httpx.HTTPError as exc:
            logger.warning("audit CSV stream from core broke off", extra={"error": str(exc)})
        finally:
            response.close()
            self._transports.give_back(transport)

    def close(self) -> None:
        self._transports.close()


class _Answer:
    """What `_settle` reads of a response (httpx.Response's names), for an aiohttp answer read in full."""

    __slots__ = ("body", "status_code")

    def __init__(self, status_code: int, body: bytes):
        self.status_code, self.body = status_code, body

    def json(self):
        return json.loads(self.body)


def query_pairs(params: dict | None) -> list[tuple[str, str]] | None:
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


class AsyncCoreClient(Transport, Endpoints):
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

    async def _send(self, call: Call):
        with self._observed(call):
            return await self.retry_policy.run_async(call, self._attempt, call)

    async def _attempt(self, call: Call):
        self._admit(call)
        try:
            async with self._client_session().request(
                call.method, self.base_url + call.path, json=call.json, params=query_pairs(call.params),
                headers=self._headers(call), timeout=self._aiohttp_timeout(call),
            ) as response:
                answer = _Answer(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._failed(call, None, exc) from exc
        return self._settle(call, answer)

    async def ban_list_export(self, ban_list_id, *, format: str = "csv", acting_user_id: str | None = None
                              ) -> bytes:
        """A ban list's export (CSV or JSON, not enveloped) read whole: the bot uploads it as /fbanlist's file.
        Errors as for any call (CoreError / CoreUnavailable); sent once (a big list's export is not read twice)."""
        media = "text/csv" if format == "csv" else "application/json"
        call = Call("ban_list_export", "GET", self._ban_list_export_path(ban_list_id, format=format).split("?")[0],
                    params={"format": format}, min_read_timeout=60,
                    headers={"Accept": f"{media}, application/json", **(acting(acting_user_id) or {})})
        with self._observed(call):
            self._admit(call)
            try:
                async with self._client_session().request(
                    "GET", self.base_url + call.path, params=query_pairs(call.params), headers=self._headers(call),
                    timeout=self._aiohttp_timeout(call),
                ) as response:
                    answer = _Answer(response.status, await response.read())
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._failed(call, None, exc) from exc
            if answer.status_code != 200:
                self._settle(call, answer)  # raises CoreError or CoreUnavailable
                raise AssertionError(f"core answered {answer.status_code} to {call.path}")
            self.breaker.record_success()
            return answer.body

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
