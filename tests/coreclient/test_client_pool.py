"""The sync client lends each call an httpx transport of its own (apps/coreclient/client.py): many threads calling
at once keep their connections to core open instead of opening one per call, a stream holds its transport until it
is closed, and close() closes every transport."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.coreclient import CoreClient
from apps.coreclient.client import _TransportPool

THREADS = 32  # above httpx's default of 20 idle connections kept
CALLS = 15


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def handle(self):
        with self.server.count_lock:
            self.server.connections += 1
        super().handle()

    def do_GET(self):
        self.server.paths.append(self.path)
        if self.path.startswith("/api/audit/events.csv"):
            body, kind = b"id,action\n1,user.create\n", "text/csv"
        else:
            body, kind = json.dumps({"success": True, "data": {"items": [], "total": 0, "page": 1,
                                                               "limit": 20}}).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # every thread connects at once
    daemon_threads = True


@pytest.fixture
def server():
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.connections, httpd.count_lock, httpd.paths = 0, threading.Lock(), []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_concurrent_calls_keep_their_connections(server):
    client = CoreClient(f"http://127.0.0.1:{server.server_address[1]}", "key", timeout=10)
    start = threading.Barrier(THREADS)
    answers, failures = [], []

    def calls():
        start.wait()
        for _ in range(CALLS):
            try:
                answers.append(client.group_list(limit=20))
            except Exception as exc:  # reported below, with the count
                failures.append(exc)

    threads = [threading.Thread(target=calls) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert not failures and len(answers) == THREADS * CALLS
    # One connection per call in flight at most; a shared pool closed idle connections beyond 20 and reopened them.
    assert server.connections <= THREADS


def test_a_stream_holds_its_transport_until_closed(server):
    client = CoreClient(f"http://127.0.0.1:{server.server_address[1]}", "key", timeout=10)
    stream = client.audit_csv(action="user.create")
    assert not client._transports._idle  # lent to the stream
    assert b"".join(stream) == b"id,action\n1,user.create\n"
    assert len(client._transports._idle) == 1  # back once the stream ended
    client.group_list()
    assert len(client._transports._idle) == 1 and server.connections == 1  # the same one, the same connection
    client.close()
    assert server.paths == ["/api/audit/events.csv?action=user.create", "/api/groups"]


class _Closable:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


def test_the_last_one_given_back_is_lent_first_and_idle_ones_are_bounded():
    pool = _TransportPool(_Closable, keep=2)
    first, second, third = pool.take(), pool.take(), pool.take()
    for client in (first, second, third):
        pool.give_back(client)
    assert third.closed and not first.closed and not second.closed  # only two kept
    assert pool.take() is second
    assert pool.take() is first
    pool.close()
    assert first.closed and second.closed  # lent or idle, every open one is closed
