#!/usr/bin/env bash
# The README's test command: installs everything, starts a real PostgreSQL and Redis on free
# ports (unless DATABASE_URL / REDIS_URL are given), runs the gates and the whole suite.
#   scripts/test.sh                 everything (what CI runs)
#   scripts/test.sh tests/ark -x    only these pytest arguments (gates still run)
#   QUICK=1 scripts/test.sh ...     skip the gates (ruff, migrations, check --deploy)
#   PYTEST_WORKERS=N                xdist workers (0: none); default chosen in tests/parallel.py
set -euo pipefail
source "$(dirname "$0")/_common.sh"
source "$ROOT/scripts/services.sh"
cd "$ROOT"

ensure_venv test
ensure_debian redis-server redis-server chromium chromium lua5.4 lua5.4 xgettext gettext
start_services

export DEBUG=1 SECRET_KEY=${SECRET_KEY:-test-secret-key-not-for-production-$(date +%s)}
export GUILDOPS_VAR_DIR=${GUILDOPS_VAR_DIR:-$SERVICES_DIR/var}
say "compiling the translation catalogues"
"$PY" manage.py compilemessages

if [ "${QUICK:-0}" != 1 ]; then
  say "gate: ruff"
  "$PY" -m ruff check .
  say "gate: makemigrations --check"
  "$PY" manage.py makemigrations --check --dry-run
  say "gate: check --deploy (production settings)"
  DEBUG=0 SECRET_KEY="$(head -c 48 /dev/urandom | base64)" ALLOWED_HOSTS=guildops.example.org \
    "$PY" manage.py check --deploy --fail-level WARNING
fi

# A fresh Hypothesis seed every run, printed so that a failure can be replayed exactly.
HYPOTHESIS_SEED=${HYPOTHESIS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

# In parallel (pytest-xdist): tests/parallel.py gives each worker its own test database, Redis
# database and var folder, and picks the worker count (PYTEST_WORKERS overrides it; none for a
# selection of one or two files). ``--dist loadgroup`` keeps the tests of one xdist_group on one
# worker; --no-loadscope-reorder keeps pytest-django's order (transactional tests, which flush
# the database, after the others) on every worker. ``-p no:xdist`` in the arguments runs serially.
PARALLEL=(-p tests.parallel -n auto --dist loadgroup --no-loadscope-reorder)
for arg in "$@"; do [ "$arg" = "no:xdist" ] && PARALLEL=(-p tests.parallel); done
pytest_run() { "$PY" -m pytest "${PARALLEL[@]}" --hypothesis-seed="$HYPOTHESIS_SEED" "$@"; }

# The run command's embedded default is SQLite: the service tests of the apps whose writes lean
# on the database (economy, ark, ratmas) run once more on it. Race tests and PostgreSQL's own
# features skip themselves there. Only on a whole run (no pytest arguments); SQLITE=0 skips it.
# It runs *alongside* the PostgreSQL pass at the lowest CPU priority (nice 19): that pass is
# CPU-bound but waits at times (browsers, bots, Celery workers), and the SQLite pass fills those
# gaps instead of adding its ~35 s after it (README, "Tests", measured). It has its own Redis
# databases (from the middle of the server's range, tests/parallel.py adds the worker's number)
# and var folder, and one worker per CPU: its tests wait on nothing, and every worker migrates
# its own database (~6 CPU s). Its output follows the PostgreSQL pass's.
SQLITE_PID=""
if [ $# -eq 0 ] && [ "${SQLITE:-1}" != 0 ]; then
  sqlite_redis=$REDIS_URL
  if [[ $REDIS_URL =~ ^(rediss?://[^/?#]*)(/[0-9]*)?$ ]]; then
    sqlite_redis="${BASH_REMATCH[1]}/$(( ${REDIS_DATABASES:-16} / 2 ))"
  fi
  say "pytest on SQLite (the embedded default): economy, ark, ratmas, alongside the PostgreSQL pass (nice 19)"
  DATABASE_URL="sqlite:///$SERVICES_DIR/sqlite-tests.sqlite3" REDIS_URL="$sqlite_redis" \
    GUILDOPS_VAR_DIR="$GUILDOPS_VAR_DIR/sqlite" PYTEST_WORKERS=${PYTEST_WORKERS:-$(nproc)} \
    nice -n 19 "$PY" -m pytest "${PARALLEL[@]}" --hypothesis-seed="$HYPOTHESIS_SEED" -q -m "not browser" \
    tests/economy tests/ark tests/ratmas > "$SERVICES_DIR/sqlite-pass.log" 2>&1 &
  SQLITE_PID=$!
  trap '[ -n "$SQLITE_PID" ] && kill "$SQLITE_PID" 2>/dev/null; stop_services' EXIT
fi

say "pytest against $DATABASE_URL and $REDIS_URL (Hypothesis seed $HYPOTHESIS_SEED: HYPOTHESIS_SEED=$HYPOTHESIS_SEED $0 to replay)"
pg_status=0
pytest_run "$@" || pg_status=$?

sqlite_status=0
if [ -n "$SQLITE_PID" ]; then
  say "pytest on SQLite (ran alongside): waiting for it to finish"
  wait "$SQLITE_PID" || sqlite_status=$?
  SQLITE_PID=""
  cat "$SERVICES_DIR/sqlite-pass.log"
fi
[ "$pg_status" = 0 ] || { say "the PostgreSQL pass failed"; exit "$pg_status"; }
[ "$sqlite_status" = 0 ] || { say "the SQLite pass failed"; exit "$sqlite_status"; }
say "done"
