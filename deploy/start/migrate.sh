#!/bin/sh
# Core's migrations, once per release, before core serves: compose's one-shot `migrate` service and the
# Kubernetes migration Job run this. Safe to repeat (applied migrations are skipped).
set -eu
cd "$(dirname "$0")/../.."
. deploy/start/lib.sh
export DJANGO_SETTINGS_MODULE=config.settings.core
run python manage.py migrate --noinput
