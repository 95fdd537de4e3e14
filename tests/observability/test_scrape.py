"""Each role's /metrics, scraped over HTTP from its production server and parsed with prometheus_client's parser:
the platform's series are there, with the label names operators query by, and they count what the test did."""

import pytest

from .scrape import Scrape

pytestmark = pytest.mark.e2e


def scrape_all(deployment) -> dict[str, Scrape]:
    return {role: Scrape(deployment.scrape(role)) for role in ("core", "bot", "web")}


def test_every_role_exports_its_series_and_they_count_a_command_and_a_browser_request(deployment):
    chat = deployment.new_group()
    deployment.say(chat["id"], "spammer", "hello")
    user = deployment.web_user("admin")
    before = scrape_all(deployment)

    _, replies = deployment.say(chat["id"], "alice", "/warn @spammer spam")
    assert replies and replies[0].startswith("@spammer has been warned"), replies
    login = deployment.web_login(user["username"], "scrape-login")
    assert login.status_code == 200, login.text
    token = login.json()["data"]["access"]
    assert deployment.web_request("GET", "/api/groups", "scrape-groups", token=token).status_code == 200
    assert deployment.web_request("GET", "/api/groups/999999999", "scrape-404", token=token).status_code == 404
    deployment.wait_for(lambda: Scrape(deployment.scrape("bot")).value(
        "bot_updates_total", kind="message") >= before["bot"].value("bot_updates_total", kind="message") + 1,
        "the bot to count the update")
    after = scrape_all(deployment)

    def grown(role: str, sample: str, **labels) -> float:
        return after[role].value(sample, **labels) - before[role].value(sample, **labels)

    histogram = {"endpoint", "method"}
    for role in ("core", "bot", "web"):
        assert after[role].family("api_request_duration_seconds").type == "histogram"
        assert after[role].label_names("api_request_duration_seconds") == histogram
        assert after[role].label_names("api_requests_total") == histogram | {"status"}

    # core
    assert after["core"].label_names("permission_checks_total") == {"result"}
    assert grown("core", "permission_checks_total", result="allowed") >= 2  # the /warn and the groups list
    assert grown("core", "api_requests_total", endpoint="api/auth/verify-credentials", method="POST",
                 status="200") == 1
    assert grown("core", "api_request_duration_seconds_count", endpoint="api/auth/verify-credentials") == 1

    # bot
    assert after["bot"].label_names("bot_commands_total") == {"command"}
    assert grown("bot", "bot_commands_total", command="warn") == 1
    assert after["bot"].label_names("bot_updates_total") == {"kind"}
    assert after["bot"].label_names("bot_webhook_requests_total") == {"outcome"}
    assert grown("bot", "bot_webhook_requests_total", outcome="queued") >= 1
    assert after["bot"].family("bot_outbox_depth").type == "gauge"
    client = {"service", "endpoint", "outcome"}
    for role in ("bot", "web"):
        assert after[role].label_names("core_client_requests_total") == client
        assert after[role].family("core_client_request_duration_seconds").type == "histogram"
        assert after[role].label_names("core_client_request_duration_seconds") == {"service", "endpoint"}
    # The /warn's permission is checked by core within its record (one call).
    assert grown("bot", "core_client_requests_total", service="bot", endpoint="moderation_record", outcome="ok") >= 1
    assert grown("bot", "core_client_request_duration_seconds_count", service="bot",
                 endpoint="moderation_record") >= 1

    # web
    assert grown("web", "core_client_requests_total", service="web", endpoint="verify_credentials",
                 outcome="ok") == 1
    assert grown("web", "core_client_requests_total", service="web", endpoint="group_list", outcome="ok") == 1
    assert grown("web", "core_client_requests_total", service="web", endpoint="group_get",
                 outcome="client_error") == 1
    assert grown("web", "api_requests_total", endpoint="api/groups", method="GET", status="200") == 1
    assert after["web"].family("web_websocket_connections").type == "gauge"

    # Route patterns, not raw paths: no series is labelled with a path an id was put into.
    for role, scrape in after.items():
        endpoints = {sample.labels.get("endpoint", "") for family in scrape.families.values()
                     for sample in family.samples}
        assert not any("nope" in endpoint or chat_id in endpoint for endpoint in endpoints
                       for chat_id in (str(chat["id"]),)), (role, endpoints)
