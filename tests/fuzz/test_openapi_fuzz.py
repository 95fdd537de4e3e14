"""Both OpenAPI schemas, fuzzed with schemathesis against real core and web processes (every check).

No input makes a 500, no answer leaves its schema, and the schema says what the server enforces: a request the
schema calls valid is not refused, one it calls invalid is not accepted. What the schema cannot say (a relation
between query parameters, a rule relative to the clock, a fact about stored data) is in JUSTIFIED, each entry
naming the operation, the check and the refusal it excuses; nothing else is skipped.

CI runs a fixed seed and FUZZ_EXAMPLES (25) cases per operation in the fuzzing phase, after the schemas' own
examples, core's and web's runs at once (two schemathesis processes; web has its own core, see servers.py).
`make fuzz` runs thousands per operation with a random seed, printed for replay (`make fuzz SEED=...`), and
adds the coverage and stateful phases.
"""

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from . import servers as fuzz_servers

# Like tests/e2e, the role processes run core on its default store: nothing here varies with the database.
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(settings.MONGODB, reason="role processes run on SQLite")]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "20261202"))
# The coverage phase (boundary values of every constraint, about 3,500 more cases) and the stateful one run in
# `make fuzz`: with them CI would take some 4 minutes of both cores.
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing")
WORKERS = os.environ.get("FUZZ_WORKERS", "2")
TIMEOUT = float(os.environ.get("FUZZ_TIMEOUT", "1800"))
# A hang detector, not a speed target (speed is measured by `make bench`, as ratios): on a loaded two-CPU machine
# running the rest of the suite beside it, a 50 ms request has been seen to take 12 s.
REQUEST_TIMEOUT = int(os.environ.get("FUZZ_REQUEST_TIMEOUT", "60"))
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@dataclass(frozen=True)
class Justified:
    role: str
    operation: str
    check: str
    refusal: str  # text the server's answer carries: only this refusal is excused, never the check as a whole
    reason: str
    # With a field (a regular expression a key of the answer's details must match whole), the answer must be this
    # error code with the refusal among that field's messages: not some other field's, nor the text anywhere.
    field: str | None = None
    code: str = "validation_error"

    def excuses(self, response: str) -> bool:
        if self.field is None:
            return self.refusal in response
        try:
            answer = json.loads(response)
        except ValueError:
            return False
        details = answer.get("details") if isinstance(answer, dict) else None
        if answer.get("error") != self.code or not isinstance(details, dict):
            return False
        return any(re.fullmatch(self.field, key) and any(self.refusal in str(message) for message in messages)
                   for key, messages in details.items() if isinstance(messages, list))


_SINCE_UNTIL = "since and until are two query parameters: OpenAPI cannot state that one comes before the other"
_CURSOR = "cursor and after are two query parameters: OpenAPI cannot state that they exclude each other"
_BUCKETS = "The number of buckets in [since, until) is bounded: a relation between three query parameters"
_PASSWORD = ("AUTH_PASSWORD_VALIDATORS refuse common, all-numeric and name-like passwords: a list and a comparison "
             "with the user's names, not a JSON Schema (the configured minimum length is in the schema)")
_ACCEPT = "positive_data_acceptance"
_TIME_ZONES = ("A group's time zone is a name the installed time zone database knows: a list that changes with the "
               "tzdata release, not a pattern a schema could state (an enum would tie the schema to one release)")

# Core's rules on a group's protection settings that no JSON Schema of the body can say (web relays the same PATCH).
_PROTECTION_RULES = [
    ("0 (off) or 3 to 100 messages.",
     "flood_limit is 0 or 3 to 100: a gap in a range, checked by core on the settings after the change"),
    ("Required when flood_action is",
     "tmute and tban need a duration: the rule holds for the settings after the change, the body merged with the "
     "stored ones"),
    ("The settings changed meanwhile", "expected_version must be the stored version: stored data"),
    ("Required when blocklist_action is",
     "tmute and tban need a duration: the rule holds for the settings after the change, the body merged with the "
     "stored ones"),
]

# Core's rules on content rules (apps/contentrules) that no JSON Schema of the body can say, each naming the field
# core's 400 validation_error names (web relays core's refusal as it is, details and all).
_NORMALIZED = ("A pattern or trigger is judged on its normalized form (case, accents and look-alike letters folded, "
               "invisible characters dropped, * and ? wildcards read): a function of the text, not a pattern")
_PATTERN_REFUSALS = [("only wildcards: it would match every message", _NORMALIZED),
                     ("* wildcards (", _NORMALIZED),  # more than 4 once normalized (look-alikes of * count)
                     ("empty (nothing left once", _NORMALIZED),
                     ("Nothing left to match after normalization.", _NORMALIZED)]
_BLOCKLIST_FULL = ("A group's blocklist holds at most", "entries", "At most 5,000 entries per group: stored data")
_FILTERS_FULL = ("filters: stop one first", "trigger", "At most 300 filters per group: stored data")
_NOTES_FULL = ("notes: clear one first", "name", "At most 500 notes per group: stored data")
_RESERVED = "remove and clear are the notes API's own paths: two words in any case, optionally after #"
_ENTRY_PATTERN, _LISTED = r"entries\[\d+\]\.pattern", r"{}\[\d+\]"
# operation -> (refusal, field, reason), core's and web's alike
_CONTENT_RULES = {
    "POST /api/groups/{group_id}/blocklist": [
        *((refusal, _ENTRY_PATTERN, why) for refusal, why in _PATTERN_REFUSALS), _BLOCKLIST_FULL],
    "POST /api/groups/{group_id}/blocklist/remove": [
        (refusal, _LISTED.format("patterns"), why) for refusal, why in _PATTERN_REFUSALS],
    "POST /api/groups/{group_id}/filters": [
        ("Nothing left to match after normalization.", "trigger", _NORMALIZED), _FILTERS_FULL],
    "POST /api/groups/{group_id}/filters/remove": [
        ("Nothing left to match after normalization.", _LISTED.format("triggers"), _NORMALIZED)],
    "POST /api/groups/{group_id}/notes": [("is reserved; choose another name", "name", _RESERVED), _NOTES_FULL],
    "POST /api/groups/{group_id}/notes/remove": [
        ("is reserved; choose another name", _LISTED.format("names"), _RESERVED)],
}
_CORE_CONTENT_RULES = {  # web's schema bounds the buttons at 12 rows of 8
    "POST /api/groups/{group_id}/filters": [
        ("At most 100 buttons.", "buttons", "At most 100 buttons across the rows: a sum over nested arrays")],
    "POST /api/groups/{group_id}/notes": [
        ("At most 100 buttons.", "buttons", "At most 100 buttons across the rows: a sum over nested arrays")],
}
_LINES = ("A blocklist file is one text: the format of its lines (a pattern, then | and a mode, its length, a reason) "
          "is a grammar over lines, not a JSON Schema pattern")
# Web reads the file's text itself (apps/dashboard/blocklist_file.py; a line it cannot read is "Line N: why") and
# sends its lines to core as entries, whose patterns core judges as above.
_WEB_CONTENT_RULES = {
    "POST /api/groups/{group_id}/blocklist/import": [
        ("Line ", "text", _LINES),
        ("No entry in the text (only blank lines and comments).", "text", _LINES),
        ("At most 100 characters.", _ENTRY_PATTERN, _LINES + ": a pattern's length is that of a part of a line"),
        *((refusal, _ENTRY_PATTERN, why) for refusal, why in _PATTERN_REFUSALS), _BLOCKLIST_FULL],
}

_BAN_FILE = ("A ban list's file is one text: its rows (CSV lines, or the items of a JSON list) each need a Telegram "
             "id, a grammar over the text's rows, not a JSON Schema pattern")

_ANALYTICS = ("GET /api/analytics/overview", "GET /api/groups/{group_id}/analytics",
              "GET /api/groups/{group_id}/analytics/members/{user_id}")

JUSTIFIED = [
    Justified("core", "GET /api/audit/events", _ACCEPT, "Use either cursor (newest first) or after", _CURSOR),
    Justified("core", "GET /api/audit/events.csv", _ACCEPT, "Use either cursor (newest first) or after", _CURSOR),
    Justified("core", "GET /api/audit/events", _ACCEPT, "since must be before until", _SINCE_UNTIL),
    Justified("core", "GET /api/audit/events.csv", _ACCEPT, "since must be before until", _SINCE_UNTIL),
    Justified("core", "GET /api/stats/groups/{group_id}", _ACCEPT, "since must be before until", _SINCE_UNTIL),
    Justified("core", "GET /api/stats/groups/{group_id}", _ACCEPT, " buckets; at most ", _BUCKETS),
    Justified("core", "POST /api/events/batch", _ACCEPT, "Lies in the future.",
              "occurred_at may be at most 5 minutes past the server's clock: relative to the time of the request"),
    Justified("core", "POST /api/events/batch", _ACCEPT, '"Unknown group."',
              "Events name groups by id or chat id; which exist is stored data, and the batch is refused whole "
              "(400, per event) so the bot re-registers the group instead of losing the events"),
    Justified("core", "POST /api/moderation/actions", _ACCEPT,
              "A temporary action must last between 30 seconds and 366 days",
              "until must lie 30 s to 366 days after the request: relative to the server's clock"),
    Justified("core", "POST /api/moderation/actions", _ACCEPT, '"error":"not_a_member"',
              "The target must be a member of the group: stored data"),
    Justified("core", "POST /api/protection/actions", _ACCEPT, '"error":"not_a_member"',
              "A warning's target must be a member of the group: stored data"),
    Justified("core", "POST /api/protection/actions", _ACCEPT,
              "A temporary action must last between 30 seconds and 366 days",
              "until must lie 30 s to 366 days after the request: relative to the server's clock"),
    Justified("core", "POST /api/groups/{group_id}/admins/sync", _ACCEPT, "Each telegram_user_id may appear once.",
              "Uniqueness of one property across array items is not expressible in OpenAPI 3.0"),
    Justified("core", "POST /api/groups/{group_id}/admins/sync", _ACCEPT, "A group has at most one creator.",
              "At most one array item with a given value (maxContains) is not expressible in OpenAPI 3.0"),
    Justified("core", "POST /api/rbac/assignments", _ACCEPT, "expires_at must be in the future",
              "expires_at must lie after the request: relative to the server's clock"),
    Justified("core", "PATCH /api/groups/{group_id}", _ACCEPT, "warn_action tmute needs warn_action_duration_seconds",
              "The rule holds for the group's settings after the change: the body merged with the stored ones"),
    Justified("core", "PATCH /api/groups/{group_id}", _ACCEPT, "Unknown time zone: give an IANA name", _TIME_ZONES,
              field="timezone"),
    Justified("core", "POST /api/users", _ACCEPT, '"details":{"password":', _PASSWORD),
    Justified("core", "PATCH /api/users/{user_id}", _ACCEPT, '"details":{"password":', _PASSWORD),
    Justified("core", "GET /api/protection/challenges", _ACCEPT, "Give exactly one of group_id or telegram_chat_id.",
              "The group is named by its id or its chat id, exactly one: a relation between query parameters"),
    *(Justified(role, "PATCH /api/groups/{group_id}/protection", _ACCEPT, refusal, why) for role in ("core", "web")
      for refusal, why in _PROTECTION_RULES),
    *(Justified(role, operation, _ACCEPT, refusal, why, field=field) for role, rules in (
        ("core", _CONTENT_RULES), ("core", _CORE_CONTENT_RULES), ("web", _CONTENT_RULES), ("web", _WEB_CONTENT_RULES))
      for operation, refusals in rules.items() for refusal, field, why in refusals),
    *(Justified(role, operation, _ACCEPT, refusal, why) for role in ("core", "web") for operation in _ANALYTICS
      for refusal, why in (
        ("A custom period needs start and end", "start and end are required by period=custom: a relation between "
                                                "query parameters"),
        ("start and end are given with period=custom only", "start and end belong to period=custom only: a "
                                                            "relation between query parameters"),
        ("end is before start", "end must not be before start: a relation between query parameters"),
        ("; at most ", "A period's length (and an hour-bucketed one's) is bounded: a relation between start, end "
                       "and bucket"))),
    *(Justified(role, "GET /api/banlists", _ACCEPT, "Give group_id or telegram_chat_id, not both.",
                "The group is named by its id or its chat id, at most one: a relation between query parameters")
      for role in ("core", "web")),
    Justified("core", "POST /api/banlists/{ban_list_id}/import", _ACCEPT, "nothing was imported", _BAN_FILE),
    Justified("core", "POST /api/banlists/{ban_list_id}/follows", _ACCEPT, "can't follow itself",
              "source_id must differ from the path's ban_list_id: a relation between the path and the body"),
    Justified("core", "POST /api/banlists/{ban_list_id}/admins/remove", _ACCEPT,
              "The owner of a ban list is not removed from its admins", "Who owns the list is stored data",
              field="user_id"),
    Justified("web", "GET /api/audit", _ACCEPT, "since must be before until", _SINCE_UNTIL),
    Justified("web", "GET /api/audit.csv", _ACCEPT, "since must be before until", _SINCE_UNTIL),
    Justified("web", "GET /api/stats", _ACCEPT, "since must be before until", _SINCE_UNTIL),
    Justified("web", "GET /api/stats", _ACCEPT, "apply to a group's series: give group_id",
              "since, until and bucket need group_id: a relation between query parameters"),
    Justified("web", "GET /api/stats", _ACCEPT, " buckets; at most ", _BUCKETS),
    Justified("web", "GET /api/banlists/{ban_list_id}/history", _ACCEPT, "since must be before until", _SINCE_UNTIL),
    Justified("web", "POST /api/banlists/{ban_list_id}/import", _ACCEPT, "nothing was imported", _BAN_FILE),
    Justified("web", "POST /api/banlists/{ban_list_id}/follows", _ACCEPT, "can't follow itself",
              "source_id must differ from the path's ban_list_id: a relation between the path and the body"),
    Justified("web", "POST /api/banlists/{ban_list_id}/admins/remove", _ACCEPT,
              "The owner of a ban list is not removed from its admins", "Who owns the list is stored data",
              field="user_id"),
]


@dataclass
class Finding:
    role: str
    operation: str
    check: str
    status: int | None
    request: str
    response: str
    message: str

    def justification(self) -> Justified | None:
        for entry in JUSTIFIED:
            if ((entry.role, entry.operation, entry.check) == (self.role, self.operation, self.check)
                    and entry.excuses(self.response)):
                return entry
        return None

    def __str__(self) -> str:
        return (f"{self.operation} [{self.check}] -> {self.status}\n    {self.message}\n    request: "
                f"{self.request[:600]}\n    response: {self.response[:600]}")


@dataclass
class Run:
    role: str
    findings: list[Finding]
    cases: Counter  # fuzzing-phase cases per operation
    operations: int
    elapsed: float
    output: str


def _decoded(part: dict | None) -> str:
    if not part:
        return ""
    return base64.b64decode(part.get("$base64", "")).decode(errors="replace")


def _command(schema_url: str, header: str, report_dir: Path) -> list[str]:
    return [str(SCHEMATHESIS), "--no-color", "run", schema_url, "--header", header, "--checks", "all",
            "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--phases", PHASES, "--workers", WORKERS,
            "--continue-on-failure", "--request-timeout", str(REQUEST_TIMEOUT), "--generation-database", "none",
            "--report", "ndjson", "--report-dir", str(report_dir), "--output-truncate", "false"]


def fuzz_all(targets: dict[str, tuple[str, str]], tmp_path_factory) -> dict[str, "Run"]:
    """Runs schemathesis against every target at once (one process each: generation is CPU-bound)."""
    started = {}
    for role, (schema_url, header) in targets.items():
        report_dir = tmp_path_factory.mktemp(f"fuzz-{role}")
        output = (report_dir / "output.txt").open("w")
        process = subprocess.Popen(_command(schema_url, header, report_dir), stdout=output,
                                   stderr=subprocess.STDOUT, cwd=report_dir)
        started[role] = (process, output, report_dir, time.monotonic())
    runs = {}
    for role, (process, output, report_dir, began) in started.items():
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()
        runs[role] = collect(role, process.returncode, report_dir, time.monotonic() - began)
    return runs


def collect(role: str, returncode: int, report_dir: Path, elapsed: float) -> "Run":
    output = (report_dir / "output.txt").read_text(errors="replace")
    reports = sorted(report_dir.glob("*.ndjson"))
    assert returncode in (0, 1) and reports, f"schemathesis did not run ({returncode}):\n{output[-3000:]}"
    findings, cases, operations = [], Counter(), 0
    for line in reports[-1].read_text().splitlines():
        event = json.loads(line)
        if "LoadingFinished" in event:
            operations = event["LoadingFinished"]["statistic"]["operations"]["selected"]
        for kind in ("NonFatalError", "FatalError"):
            if kind in event:
                label = event[kind].get("label", "?")
                findings.append(Finding(role, label, kind, None, "", "", json.dumps(event)[:2000]))
        scenario = event.get("ScenarioFinished")
        if scenario is None:
            continue
        recorder = scenario["recorder"]
        if scenario["phase"] == "fuzzing":
            cases[recorder["label"]] += len(recorder["cases"])
        for case_id, checks in recorder.get("checks", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id, {})
            request, response = interaction.get("request", {}), interaction.get("response") or {}
            for check in checks:
                if check["status"] == "success":
                    continue
                failure = check["failure_info"]["failure"]
                findings.append(Finding(
                    role=role, operation=failure["operation"], check=check["name"],
                    status=response.get("status_code"),
                    request=f"{request.get('method')} {request.get('uri')} {_decoded(request.get('body'))}",
                    response=_decoded(response.get("content")), message=failure["message"].replace("\n", " | ")))
    return Run(role, findings, cases, operations, elapsed, output)


def assert_clean(run: Run) -> None:
    unjustified = [finding for finding in run.findings if finding.justification() is None]
    excused = Counter((finding.operation, finding.check, finding.justification().refusal)
                      for finding in run.findings if finding.justification() is not None)
    print(f"\n{run.role}: {run.operations} operations, {sum(run.cases.values())} fuzzing cases "
          f"(max {EXAMPLES} per operation, phases {PHASES}), seed {SEED}, {run.elapsed:.0f} s")
    for (operation, check, refusal), count in sorted(excused.items()):
        print(f"  justified x{count}: {operation} [{check}] {refusal!r}")
    assert run.operations > 0 and run.cases, f"{run.role}: nothing was fuzzed\n{run.output[-3000:]}"
    shown = "\n".join(str(finding) for finding in unjustified[:20])
    assert not unjustified, (f"{run.role}: {len(unjustified)} finding(s) (replay: make fuzz SEED={SEED}):\n{shown}\n"
                             f"{run.output[-2000:]}")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    running = fuzz_servers.start(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def runs(servers, tmp_path_factory):
    return fuzz_all({
        "core": (f"{servers.core_url}/api/schema?format=json", f"X-API-Key: {fuzz_servers.FUZZ_KEY}"),
        "web": (f"{servers.web_url}/api/schema?format=json", f"Authorization: Bearer {servers.admin_token}"),
    }, tmp_path_factory)


def test_core_schema_holds_under_fuzzing(runs):
    assert_clean(runs["core"])


def test_web_schema_holds_under_fuzzing(runs):
    assert_clean(runs["web"])


def test_every_justification_names_an_operation_of_its_schema(servers):
    operations = set()
    for role, url, headers in (("core", servers.core_url, {"X-API-Key": fuzz_servers.FUZZ_KEY}),
                               ("web", servers.web_url, {})):
        document = httpx.get(f"{url}/api/schema?format=json", headers=headers, timeout=10).json()
        operations |= {(role, f"{method.upper()} {path}") for path, item in document["paths"].items()
                       for method in item}
    assert {(entry.role, entry.operation) for entry in JUSTIFIED} <= operations


def test_a_justification_with_a_field_excuses_that_refusal_of_that_field_only():
    entry = next(entry for entry in JUSTIFIED if (entry.role, entry.operation, entry.refusal) == (
        "web", "POST /api/groups/{group_id}/blocklist/remove", "only wildcards: it would match every message"))
    message = "only wildcards: it would match every message"
    refused = {"success": False, "error": "validation_error", "message": f"patterns[6]: {message}",
               "status_code": 400, "details": {"patterns[6]": [message]}}
    assert entry.excuses(json.dumps(refused))
    assert not entry.excuses(json.dumps({**refused, "details": {"expected_version": [message]}}))
    assert not entry.excuses(json.dumps({**refused, "details": {"patterns[6]": ["At most 100 characters."]}}))
    assert not entry.excuses(json.dumps({**refused, "error": "conflict"}))
    assert not entry.excuses(message)
