"""Gunicorn settings shared by every role: `gunicorn -c deploy/gunicorn/conf.py config.wsgi`.

Environment: PORT, BIND_HOST (default 127.0.0.1), WEB_CONCURRENCY (workers, default 2),
GUNICORN_TIMEOUT, GUNICORN_WORKER_CLASS and GUNICORN_THREADS (worker_class and threads, when set),
PROMETHEUS_MULTIPROC_DIR (made fresh when unset, so /metrics sums all workers).
"""

import os
import shutil
import tempfile

bind = f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Core may run threaded workers (GUNICORN_WORKER_CLASS=gthread, GUNICORN_THREADS=8): concurrent permission checks
# of one process then share audit commits (apps/audit/services.py). Unset: gunicorn's defaults (sync, 1 thread).
if os.environ.get("GUNICORN_WORKER_CLASS"):
    worker_class = os.environ["GUNICORN_WORKER_CLASS"]
if os.environ.get("GUNICORN_THREADS"):
    threads = int(os.environ["GUNICORN_THREADS"])
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
# Several gunicorns run side by side (one per role); a shared control socket path would collide.
control_socket_disable = True
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "apps.common.logging.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": loglevel.upper()},
    "loggers": {"gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False}},
}

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
