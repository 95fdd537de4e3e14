"""GET /api/audit/verify: the chain's integrity over the API, for the dashboard (service key only)."""

from apps.audit.models import AuditEvent
from tests.audit.test_chain_verify import tamper
from tests.conftest import ApiClient
from tests.factories import make_group, make_user


def test_an_intact_chain_and_then_a_tampered_one(api):
    make_group(telegram_chat_id=-1001234567001, title="Verified")
    make_user("verified_user")
    response = api.get("/api/audit/verify")
    assert response.status_code == 200, response.content
    report = response.json()["data"]
    # The whole trail of this worker's database: the report names what an earlier test may have left broken.
    assert report["intact"] is True and report["first_broken"] is None and report["problem"] == "", report
    assert report["checked"] >= 1
    first = AuditEvent.objects.order_by("stream", "stream_seq").first()
    tamper(first.sequence, reason="edited behind the ORM's back")
    broken = api.get("/api/audit/verify").json()["data"]
    assert broken == {"intact": False, "checked": 0, "first_broken": first.sequence,
                      "problem": "content does not match its hash", "stream": first.stream,
                      "streams": report["streams"], "checkpoints": 0}


def test_verify_needs_the_service_key(db):
    response = ApiClient(api_key=None).get("/api/audit/verify")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
