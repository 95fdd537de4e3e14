import csv
import io

from apps.audit.models import AuditEvent
from tests.factories import make_user


def read_csv(response) -> list[dict]:
    assert response.streaming, "the export must stream, not build the whole file in memory"
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_export_streams_filtered_events_newest_first(api):
    for number in range(5):
        make_user(username=f"csv{number}")
    response = api.get("/api/audit/events.csv?action=user.create")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert len(rows) == 5
    assert [int(row["sequence"]) for row in rows] == sorted((int(row["sequence"]) for row in rows), reverse=True)
    assert rows[0]["hash"] == AuditEvent.objects.filter(action="user.create").latest("sequence").hash


def test_csv_cells_cannot_become_spreadsheet_formulas(api):
    make_user(username="plain", display_name="=HYPERLINK(1)")
    api.patch(f"/api/users/{make_user().pk}", {"display_name": "x"})
    rows = read_csv(api.get("/api/audit/events.csv"))
    assert all(not value.startswith(("=", "+", "@")) for row in rows for value in row.values())


def test_csv_filters_are_validated_like_the_list(api, db):
    assert api.get("/api/audit/events.csv?result=maybe").status_code == 400
    assert api.get("/api/audit/events.csv?since=notadate").status_code == 400
    accept_csv = api.get("/api/audit/events.csv?result=maybe", HTTP_ACCEPT="text/csv")
    assert accept_csv.status_code == 400 and accept_csv.json()["error"] == "validation_error"


def test_csv_needs_the_api_key(db):
    from tests.conftest import ApiClient

    assert ApiClient(api_key=None).get("/api/audit/events.csv").status_code == 401
