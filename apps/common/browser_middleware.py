"""Django's session, authentication and messages middleware, skipped on a service's call to the API.

A service's call is a request under /api/ that carries X-API-Key. Every core API view authenticates by that key
first (apps/common/auth.py), and a wrong key is a 401 there and then: the session is never asked for, so these
three would load nothing and write nothing on such a request, yet they cost core CPU on each (the messages'
storage and its cookie signer, the session store, the user's lazy lookup). Everything else (the admin, the
browsable API and the docs with a staff session, the logins, /metrics) goes through them as before, with the
messages' storage made only when something uses it. CSRF is not among them: CsrfViewMiddleware runs on every
request as it did, and DRF's SessionAuthentication enforces CSRF itself wherever a cookie authenticates.

Each class is Django's own with that one exception, in the same place in MIDDLEWARE, so the admin's checks
(which look for these or subclasses) and `check --deploy` see what they expect.
SERVICE_CALLS_SKIP_BROWSER_MIDDLEWARE=false runs them on service calls too (tests/common/test_browser_middleware.py
compares the answers both ways).
"""

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import default_storage
from django.contrib.sessions import middleware as sessions_middleware
from django.utils.functional import SimpleLazyObject, empty

from .headers import API_KEY_HEADER

_API_KEY_META = "HTTP_" + API_KEY_HEADER.upper().replace("-", "_")


def is_service_call(request) -> bool:
    return _API_KEY_META in request.META and request.path_info.startswith("/api/")


class _SkippedOnServiceCalls:
    """Synchronous only (core is served by WSGI): under ASGI Django would adapt it like any synchronous one."""

    async_capable = False

    def __init__(self, get_response):
        super().__init__(get_response)
        self.skip_on_service_calls = settings.SERVICE_CALLS_SKIP_BROWSER_MIDDLEWARE

    def __call__(self, request):
        if self.skip_on_service_calls and is_service_call(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_SkippedOnServiceCalls, sessions_middleware.SessionMiddleware):
    pass


class AuthenticationMiddleware(_SkippedOnServiceCalls, auth_middleware.AuthenticationMiddleware):
    pass


class MessageMiddleware(_SkippedOnServiceCalls, messages_middleware.MessageMiddleware):
    """Makes a request's message storage when something first uses it (Django's builds it on every request, its
    cookie signer included, though few pages add or show a message). One never used has nothing to save: its
    `update` would neither store nor delete anything."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
