"""Several servers: core, the bot, web, Redis and the Telegram sandbox (standing in for the internet) each in its
own network namespace, on the roles' production ports, knowing each other only by their addresses on a network
the test makes. Both flows work over it; core goes down and comes back while the bot and web keep serving, and
nothing the bot saw meanwhile is lost.

Needs `ip netns` (root). Skipped where that is not permitted, unless REQUIRE_NETNS_TESTS is set (CI sets it)."""

import os
import time
import uuid

import httpx
import pytest

from apps.botgateway.flows import UNAVAILABLE_REPLY
from tests.observability.scrape import Scrape

from .conftest import require_role_processes
from .netns import Network, unavailable_reason
from .roles import ROLES, Deployment, Placement

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

PORTS = {"core": 8000, "bot": 8001, "web": 8002, "sandbox": 8081, "redis": 6379}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    require_role_processes()
    reason = unavailable_reason()
    if reason:
        if os.environ.get("REQUIRE_NETNS_TESTS"):
            pytest.fail(reason)
        pytest.skip(reason)
    network = Network(list(ROLES))
    try:
        network.create()
        placement = Placement(hosts=network.addresses, ports=PORTS, namespaces=network.namespaces)
        deployment = Deployment(tmp_path_factory.mktemp("netns"), placement)
        deployment.network = network
        try:
            deployment.start()
            yield deployment
        finally:
            deployment.stop()
    finally:
        network.destroy()


def connects(network: Network, role: str, host: str, port: int) -> bool:
    """Whether a TCP connection from inside `role`'s namespace to host:port succeeds."""
    probe = ("import socket,sys\n"
             "try:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()\n"
             "except OSError:\n sys.exit(1)\n")
    return network.run_in(role, ["python3", "-c", probe, host, str(port)]).returncode == 0


def test_each_role_lives_in_its_own_namespace_and_knows_the_others_by_address(servers):
    network, hosts = servers.network, servers.placement.hosts
    for process in (servers.core, servers.bot, servers.web, servers.sandbox, servers.redis):
        assert process.command[:4] == ["ip", "netns", "exec", network.namespaces[process.name]]
        for name, value in process.env.items():
            if "://" in value:
                assert "127.0.0.1" not in value and "localhost" not in value, (process.name, name, value)
    # The bot reaches core over the network only: core is not on the bot's loopback.
    assert connects(network, "bot", hosts["core"], PORTS["core"])
    assert not connects(network, "bot", "127.0.0.1", PORTS["core"])
    assert connects(network, "web", hosts["redis"], PORTS["redis"])
    health = httpx.get(f"{servers.placement.url('bot')}/api/health", timeout=5).json()
    assert health["core_api"] == "connected", health


def warn_until_answered(servers, chat_id: int, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        _, replies = servers.say(chat_id, "alice", "/warn @spammer links")
        if (replies and replies != [UNAVAILABLE_REPLY]) or time.monotonic() > deadline:
            return replies
        time.sleep(1)


def bot_metric(servers, name: str, **labels) -> float:
    return Scrape(servers.scrape("bot")).value(name, **labels)


def webhook_taken(servers) -> float:
    """Updates the webhook accepted: queued for the application, or (plain messages) counted at once."""
    return sum(bot_metric(servers, "bot_webhook_requests_total", outcome=outcome) for outcome in ("queued", "counted"))


def test_core_stops_and_restarts_while_bot_and_web_keep_serving_and_nothing_is_lost(servers):
    chat = servers.new_group()
    group_id = servers.core_group_id(chat["id"])
    for number in range(3):
        servers.say(chat["id"], "spammer", f"before {number}", wait=0)
    servers.wait_for(lambda: servers.api.group_stats(group_id)["totals"]["messages"] == 3,
                     "core to count the first messages", timeout=10)
    user = servers.web_user("admin")
    login = servers.web_login(user["username"], f"netns-{uuid.uuid4().hex}")
    assert login.status_code == 200, login.text
    token = login.json()["data"]["access"]
    assert servers.web_request("GET", "/api/groups", "netns-groups-1", token=token).status_code == 200

    servers.core.stop()
    try:
        # web: a clear 503 in the envelope, fast.
        started = time.monotonic()
        down = servers.web_request("GET", "/api/groups", "netns-groups-down", token=token)
        assert time.monotonic() - started < 2
        assert down.status_code == 503, down.text
        assert (down.json()["success"], down.json()["error"]) == (False, "core_unavailable")
        # bot: still takes every update; a command is told core is away; events wait in the outbox.
        taken = webhook_taken(servers)
        for number in range(4):
            servers.say(chat["id"], "spammer", f"during {number}", wait=0)
        _, replies = servers.say(chat["id"], "alice", "/warn @spammer links")
        assert replies == [UNAVAILABLE_REPLY]
        servers.wait_for(lambda: bot_metric(servers, "bot_outbox_depth") >= 5, "the outbox to hold the events",
                         timeout=10)
        assert webhook_taken(servers) - taken == 5
    finally:
        servers.core.start()

    # Core is back: the outbox drains into it, in full, and both flows work again.
    servers.wait_for(lambda: bot_metric(servers, "bot_outbox_depth") == 0, "the outbox to drain", timeout=20)
    totals = servers.api.group_stats(group_id)["totals"]
    assert (totals["messages"], totals["commands"]) == (3 + 4, 1)
    replies = warn_until_answered(servers, chat["id"])
    assert len(replies) == 1 and replies[0].startswith("@spammer has been warned (1/"), replies
    deadline = time.monotonic() + 10
    while (again := servers.web_request("GET", "/api/groups", "netns-groups-2", token=token)).status_code != 200:
        assert time.monotonic() < deadline, again.text
        time.sleep(0.5)
    assert group_id in {group["id"] for group in again.json()["data"]}
    assert servers.web_login(user["username"], "netns-login-2").status_code == 200
