#!/bin/sh
# core (centralized API, port 8000): gunicorn, WSGI. WEB_CONCURRENCY workers (default 2), /metrics summed across
# them through PROMETHEUS_MULTIPROC_DIR. Migrations are not run here: deploy/start/migrate.sh runs them once
# (compose's `migrate` service, the Kubernetes Job) before any core replica serves.
set -eu
cd "$(dirname "$0")/../.."
. deploy/start/lib.sh
export DJANGO_SETTINGS_MODULE=config.settings.core
export PORT="${PORT:-8000}" BIND_HOST="${BIND_HOST:-0.0.0.0}"
run gunicorn -c deploy/gunicorn/conf.py config.wsgi
