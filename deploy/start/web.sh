#!/bin/sh
# web (browser API, dashboard, WebSocket live feed; port 8002): ASGI under gunicorn with uvicorn workers,
# WEB_CONCURRENCY of them (default 2).
set -eu
cd "$(dirname "$0")/../.."
. deploy/start/lib.sh
export DJANGO_SETTINGS_MODULE=config.settings.web
export PORT="${PORT:-8002}" BIND_HOST="${BIND_HOST:-0.0.0.0}"
run gunicorn -c deploy/gunicorn/conf.py -k uvicorn_worker.UvicornWorker apps.dashboard.asgi:application
