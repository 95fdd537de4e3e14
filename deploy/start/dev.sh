#!/bin/sh
# Development (compose.yaml): one role with the code mounted, restarted on every change to a .py file.
#   dev.sh core     migrations, the demo data (once), then Django's runserver (auto-reload)
#   dev.sh bot      uvicorn --reload, webhook mode (the Telegram sandbox posts the updates)
#   dev.sh web      uvicorn --reload
#   dev.sh sandbox  the Telegram sandbox (tgsandbox); no reload: its chats live in its memory
# Never for production: DEBUG follows APP_ENV=development, and the servers are the development ones.
set -eu
cd "$(dirname "$0")/../.."
. deploy/start/lib.sh
export BIND_HOST="${BIND_HOST:-0.0.0.0}"

# What runs before the server; skipped by START_DRY_RUN=1, which prints the server's command only.
prepare() {
    if [ "${START_DRY_RUN:-}" != 1 ]; then
        "$@"
    fi
}

# Both reloaders poll the files (neither has an inotify backend installed), which also works on bind mounts
# whose file events do not reach the container.
case "${1:-}" in
    core)
        export DJANGO_SETTINGS_MODULE=config.settings.core PORT="${PORT:-8000}"
        prepare python manage.py migrate --noinput
        prepare python manage.py seed_demo
        run python manage.py runserver "$BIND_HOST:$PORT" ;;
    bot)
        export DJANGO_SETTINGS_MODULE=config.settings.bot PORT="${PORT:-8001}"
        run uvicorn apps.botgateway.asgi:application --host "$BIND_HOST" --port "$PORT" --lifespan on \
            --no-access-log --log-level "$(log_level)" --reload --reload-dir apps --reload-dir config ;;
    web)
        export DJANGO_SETTINGS_MODULE=config.settings.web PORT="${PORT:-8002}"
        run uvicorn apps.dashboard.asgi:application --host "$BIND_HOST" --port "$PORT" --lifespan on \
            --no-access-log --log-level "$(log_level)" --reload --reload-dir apps --reload-dir config ;;
    sandbox)
        run python -m tgsandbox --host "$BIND_HOST" --port "${PORT:-8081}" --log-level "$(log_level)" ;;
    *)
        echo "usage: deploy/start/dev.sh core|bot|web|sandbox" >&2
        exit 2 ;;
esac
