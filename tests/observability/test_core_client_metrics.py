"""core_client_requests_total / core_client_request_duration_seconds: one observation per call, labelled by the
endpoint's name in the client's table and the call's outcome, for the sync and the async client alike."""

import asyncio
import inspect
import socket
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import REGISTRY

from apps.coreclient import AsyncCoreClient, CoreClient, CoreError, CoreUnavailable
from apps.coreclient.breaker import CircuitBreaker
from apps.coreclient.calls import Call
from apps.coreclient.endpoints import Endpoints
from tests.factories import grant, make_group, make_member, make_user

API_KEY = "bot-key"
SERVICE = "centralized-api"  # the test settings are core's profile: SERVICE_NAME of the calling process


def calls(endpoint: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("core_client_requests_total",
                                     {"service": SERVICE, "endpoint": endpoint, "outcome": outcome}) or 0.0


def timed(endpoint: str) -> float:
    return REGISTRY.get_sample_value("core_client_request_duration_seconds_count",
                                     {"service": SERVICE, "endpoint": endpoint}) or 0.0


class Delta:
    """Counts of the named series before and after a block."""

    def __init__(self, *series: tuple[str, str]):
        self.series = series

    def __enter__(self):
        self.before = {key: calls(*key) for key in self.series}
        self.timed_before = {endpoint: timed(endpoint) for endpoint, _ in self.series}
        return self

    def __exit__(self, *exc):
        self.grown = {key: calls(*key) - self.before[key] for key in self.series}
        self.timed = {endpoint: timed(endpoint) - before for endpoint, before in self.timed_before.items()}



def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_answers_are_counted_by_endpoint_name_and_outcome(core_app):
    user, group = make_user(), make_group()
    make_member(user, group)
    grant(user, "moderator", group)
    core = CoreClient("http://testserver", API_KEY, transport=core_app)
    with Delta(("check_permission", "ok"), ("user_get", "ok"), ("user_get", "client_error")) as delta:
        core.check_permission(permission="BAN_USERS", user_id=str(user.pk), group_id=str(group.pk))
        core.user_get(str(user.pk))
        with pytest.raises(CoreError):
            core.user_get("999999")
    assert delta.grown == {("check_permission", "ok"): 1, ("user_get", "ok"): 1, ("user_get", "client_error"): 1}
    assert delta.timed == {"check_permission": 1, "user_get": 2}
    # The label is the endpoint's name, never its path: no id ever becomes a label value.
    endpoints = {sample.labels["endpoint"] for metric in REGISTRY.collect() if metric.name.startswith("core_client")
                 for sample in metric.samples}
    table = {name for cls in (Endpoints, CoreClient) for name in vars(cls) if not name.startswith("_")}
    assert {"check_permission", "user_get"} <= endpoints <= table


def test_failures_are_told_apart():
    def answer(status: int, body: bytes):
        return httpx.MockTransport(lambda request: httpx.Response(status, content=body))

    def times_out(request):
        raise httpx.ReadTimeout("no answer", request=request)

    with Delta(("health", "server_error"), ("health", "bad_response"), ("health", "timeout"),
               ("health", "unavailable"), ("health", "breaker_open")) as delta:
        broken = {
            "server_error": CoreClient("http://core", API_KEY, transport=answer(502, b"bad gateway"), retries=0),
            "bad_response": CoreClient("http://core", API_KEY, transport=answer(200, b"<html>"), retries=0),
            "timeout": CoreClient("http://core", API_KEY, transport=httpx.MockTransport(times_out), retries=1,
                                  backoff_seconds=0.001),
            "unavailable": CoreClient(f"http://127.0.0.1:{_closed_port()}", API_KEY, retries=0, timeout=0.5),
        }
        for outcome, core in broken.items():
            with pytest.raises(CoreUnavailable) as raised:
                core.health()
            assert raised.value.outcome == outcome
        down = CoreClient(f"http://127.0.0.1:{_closed_port()}", API_KEY, retries=0, timeout=0.5,
                          breaker=CircuitBreaker(failure_threshold=1, reset_seconds=60))
        for _ in range(3):
            with pytest.raises(CoreUnavailable):
                down.health()
    # A call with retries counts once, with its final outcome; the breaker's refusals are their own outcome.
    assert delta.grown == {("health", "server_error"): 1, ("health", "bad_response"): 1, ("health", "timeout"): 1,
                           ("health", "unavailable"): 2, ("health", "breaker_open"): 2}
    assert delta.timed == {"health": 7}


@pytest.mark.django_db(transaction=True)
def test_the_async_client_is_measured_the_same_way(live_server):
    user, group = make_user(), make_group()
    make_member(user, group)

    async def scenario():
        core = AsyncCoreClient(live_server.url, API_KEY)
        try:
            await asyncio.gather(*(core.check_permission(permission="BAN_USERS", user_id=str(user.pk),
                                                         group_id=str(group.pk)) for _ in range(3)),
                                 core.group_get(str(group.pk)))
            with pytest.raises(CoreError):
                await core.group_get("424242")
        finally:
            await core.aclose()

    with Delta(("check_permission", "ok"), ("group_get", "ok"), ("group_get", "client_error")) as delta:
        asyncio.run(scenario())
    assert delta.grown == {("check_permission", "ok"): 3, ("group_get", "ok"): 1, ("group_get", "client_error"): 1}
    assert delta.timed == {"check_permission": 3, "group_get": 2}


def _argument(parameter: inspect.Parameter):
    annotation = str(parameter.annotation)
    if parameter.name == "name":  # a role's name: the client refuses anything else in that path
        return "moderator"
    if "datetime" in annotation:
        return datetime.now(UTC)
    if "list" in annotation:
        return []
    if "int" in annotation:
        return 1
    return "1"


def test_every_endpoint_in_the_table_names_its_calls_after_itself():
    class Recorder(Endpoints):
        def _send(self, call: Call):
            return call

    recorder, named = Recorder(), {}
    for name, method in inspect.getmembers(Endpoints, inspect.isfunction):
        if name.startswith("_"):
            continue
        arguments, keywords = [], {}
        for parameter in list(inspect.signature(method).parameters.values())[1:]:
            if parameter.default is not inspect.Parameter.empty or parameter.kind in (
                    parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            if parameter.kind is parameter.KEYWORD_ONLY:
                keywords[parameter.name] = _argument(parameter)
            else:
                arguments.append(_argument(parameter))
        named[name] = getattr(recorder, name)(*arguments, **keywords).endpoint
    assert len(named) >= 30
    assert named == {name: name for name in named}
