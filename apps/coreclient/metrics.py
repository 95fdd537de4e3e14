"""How the core client's calls went, by calling service and endpoint NAME (the client's method, e.g.
`check_permission`): never the raw path, whose ids would make one series per user or group."""

from prometheus_client import Counter, Histogram

CORE_CLIENT_REQUESTS = Counter(
    "core_client_requests_total",
    "Calls to core by the calling service, endpoint name and outcome (retries included in one call)",
    ["service", "endpoint", "outcome"],
)
CORE_CLIENT_DURATION = Histogram(
    "core_client_request_duration_seconds",
    "Time a call to core took, retries and backoff included",
    ["service", "endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# The values `outcome` takes.
OK = "ok"
CLIENT_ERROR = "client_error"  # core answered an error envelope (4xx): CoreError
SERVER_ERROR = "server_error"  # core answered 5xx, after the retries
TIMEOUT = "timeout"  # no answer in time, after the retries
UNAVAILABLE = "unavailable"  # could not connect (or another transport error), after the retries
BAD_RESPONSE = "bad_response"  # an answer that is not the envelope
BREAKER_OPEN = "breaker_open"  # not sent: the circuit breaker is open
CANCELLED = "cancelled"  # the caller gave up (task cancelled) before an answer
ERROR = "error"  # anything else (a bug on our side): see the log
