"""Gunicorn settings shared by every role: `gunicorn -c deploy/gunicorn/conf.py config.wsgi`.

Environment: PORT, BIND_HOST (default 127.0.0.1), WEB_CONCURRENCY (workers, default 2),
GUNICORN_TIMEOUT, GUNICORN_WORKER_CLASS (default gthread) and GUNICORN_THREADS (default 4),
PROMETHEUS_MULTIPROC_DIR (made fresh when unset, so /metrics sums all workers).
"""

import logging
import os
import shutil
import tempfile

from gunicorn.glogging import Logger

bind = f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers by default: they keep connections alive, and core's clients (the bot, web) hold theirs open,
# where sync workers close every connection after one request (the bot's async client paid about 2.7 ms for each
# new one). Concurrent permission checks of one process also share audit commits (apps/audit/services.py).
# GUNICORN_WORKER_CLASS=sync for gunicorn's one-request-per-process workers; web's start script picks uvicorn's.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or "4")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
# Several gunicorns run side by side (one per role); a shared control socket path would collide.
control_socket_disable = True
# Longer than the clients keep an idle connection (httpx: 5 s), so a client never sends on a connection the server
# is closing at that moment; a write that is not safe to repeat would fail instead of reaching core.
keepalive = 20
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    # The master's own lines in the roles' format (LOG_FORMAT, config/settings/base.py).
    "formatters": {"line": {"()": "apps.common.logging." + (
        "ConsoleFormatter" if os.environ.get("LOG_FORMAT", "json").lower() == "console" else "JsonFormatter")}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": loglevel.upper()},
    "loggers": {"gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False}},
}


class AccessLogger(Logger):
    """Builds a request's access line only when it would be written: Django's logging config silences
    gunicorn.access (WARNING), yet gunicorn formats every line first (about 0.1 ms of a core request)."""

    def access(self, resp, req, environ, request_time):
        if self.access_log.isEnabledFor(logging.INFO):
            super().access(resp, req, environ, request_time)


logger_class = AccessLogger

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-")
_multiproc_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server):
    # Stale files from an earlier run would be summed into this one's metrics.
    for name in os.listdir(_multiproc_dir):
        path = os.path.join(_multiproc_dir, name)
        if os.path.isfile(path):
            os.unlink(path)


def post_worker_init(worker):
    from apps.common.heap import freeze_startup_objects

    freeze_startup_objects()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _multiproc_dir.startswith(tempfile.gettempdir()) and os.path.basename(_multiproc_dir).startswith("prometheus-"):
        shutil.rmtree(_multiproc_dir, ignore_errors=True)
