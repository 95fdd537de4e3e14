"""Core's real WSGI app served in the test process, for clients built on an httpx transport."""

from contextlib import contextmanager

import httpx
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections


@contextmanager
def keeping_test_connection():
    """As Django's test client does: requests must not close the test's connection (it holds the test transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def core_transport() -> httpx.WSGITransport:
    return httpx.WSGITransport(app=get_wsgi_application())
