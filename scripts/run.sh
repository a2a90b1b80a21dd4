#!/usr/bin/env bash
# The README's run command: installs, migrates, loads demo data, prints the admin login and
# runs the web server plus a Celery worker with beat on the embedded defaults (SQLite and a
# filesystem broker under var/): no server to install.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
cd "$ROOT"

ensure_venv base
export DEBUG=${DEBUG:-1}
export GUILDOPS_VAR_DIR=${GUILDOPS_VAR_DIR:-$ROOT/var}
mkdir -p "$GUILDOPS_VAR_DIR/broker/queue" "$GUILDOPS_VAR_DIR/broker/control"
source "$ROOT/scripts/local_keys.sh"  # SECRET_KEY and FIELD_ENCRYPTION_KEY kept under var/

say "compiling the translation catalogues"
"$PY" manage.py compilemessages
say "migrating"
"$PY" manage.py migrate --noinput
say "loading demo data"
"$PY" manage.py seed_demo

ADDR=${ADDR:-127.0.0.1:8000}
say "starting Celery worker + beat"
# One embedded worker reads both queues: "celery" (lifecycle, reminders, syncs) and "discord"
# (outbox delivery, routed there by CELERY_TASK_ROUTES); production runs one worker per queue.
"$VENV/bin/celery" -A config worker --beat --loglevel=INFO --concurrency=2 -Q celery,discord \
  --schedule="$GUILDOPS_VAR_DIR/celerybeat-schedule" >"$GUILDOPS_VAR_DIR/worker.log" 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
say "Guild Ops is starting: admin at http://$ADDR/admin/ (worker log: $GUILDOPS_VAR_DIR/worker.log)"
"$PY" manage.py ensure_admin
"$PY" manage.py runserver "$ADDR" --noreload
