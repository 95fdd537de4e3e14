#!/bin/sh
# bot (port 8001). BOT_MODE=webhook (default): uvicorn serves the Telegram webhook, /api/health and /metrics.
# One process on purpose: it handles updates one at a time in arrival order and owns its outbox file under
# DATA_DIR (deploy/SCALING.md). BOT_MODE=polling: `manage.py runbot` (long polling, no HTTP server).
set -eu
cd "$(dirname "$0")/../.."
. deploy/start/lib.sh
export DJANGO_SETTINGS_MODULE=config.settings.bot
export PORT="${PORT:-8001}" BIND_HOST="${BIND_HOST:-0.0.0.0}"
case "${BOT_MODE:-webhook}" in
    webhook)
        run uvicorn apps.botgateway.asgi:application --host "$BIND_HOST" --port "$PORT" --lifespan on \
            --no-access-log --log-level "$(log_level)" --timeout-graceful-shutdown 10 ;;
    polling)
        run python manage.py runbot ;;
    *)
        echo "BOT_MODE must be webhook or polling, got '${BOT_MODE}'" >&2
        exit 2 ;;
esac
