"""The web role's client of core: one per process, built on first use (after gunicorn forks its workers)."""

import logging
import threading
from collections.abc import Iterator

import httpx
from django.conf import settings

from apps.coreclient import CoreClient
from apps.coreclient.client import Call, _compact

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_client: "WebCoreClient | None" = None


class WebCoreClient(CoreClient):
    """CoreClient plus the one call whose answer is not an envelope: the audit CSV, streamed through."""

    def audit_csv(self, **filters) -> Iterator[bytes]:
        """The CSV's chunks as core sends them. Errors before the first byte raise CoreError / CoreUnavailable;
        a failure in the middle ends the stream early (logged)."""
        call = Call("GET", "/api/audit/events.csv", params=_compact(filters))
        self._admit(call)
        headers = {**self._headers(), "Accept": "text/csv, application/json"}
        try:
            request = self._http.build_request(call.method, call.path, params=call.params, headers=headers)
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            self._settle(call, None, exc, last=True)
            raise AssertionError("unreachable") from exc
        if response.status_code != 200:
            response.read()
            response.close()
            self._settle(call, response, None, last=True)  # raises CoreError or CoreUnavailable
            raise AssertionError(f"core answered {response.status_code} to {call.path}")
        self.breaker.record_success()
        return self._chunks(response)

    @staticmethod
    def _chunks(response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes()
        except httpx.HTTPError as exc:
            logger.warning("audit CSV stream from core broke off", extra={"error": str(exc)})
        finally:
            response.close()


def core() -> WebCoreClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = WebCoreClient(settings.CORE_API_URL, settings.CORE_API_KEY,
                                        timeout=settings.WEB_CORE_TIMEOUT_SECONDS, retries=settings.WEB_CORE_RETRIES)
    return _client
