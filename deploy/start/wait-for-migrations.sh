#!/bin/sh
# Init container of core in Kubernetes: waits until the migration Job has applied every migration, so a new core
# release never serves on an older schema. `migrate --check` applies nothing; it fails while some are pending.
set -eu
cd "$(dirname "$0")/../.."
. deploy/start/lib.sh
export DJANGO_SETTINGS_MODULE=config.settings.core
if [ "${START_DRY_RUN:-}" = 1 ]; then
    run python manage.py migrate --check
fi
attempts="${MIGRATION_WAIT_ATTEMPTS:-120}"
i=0
until python manage.py migrate --check >/dev/null; do
    i=$((i + 1))
    if [ "$i" -ge "$attempts" ]; then
        echo "migrations still pending after $attempts attempts" >&2
        exit 1
    fi
    echo "waiting for the migration Job ($i/$attempts)" >&2
    sleep 5
done
