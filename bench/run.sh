#!/usr/bin/env bash
# Runs every benchmark (bench/*.py) once against a fresh PostgreSQL (started like the test
# command's, unless DATABASE_URL is given). Each prints project figure, anchor figure, ratio.
#   bench/run.sh                   all of them
#   bench/run.sh guildsync_parser  only these (module names without .py)
set -euo pipefail
source "$(dirname "$0")/../scripts/_common.sh"
source "$ROOT/scripts/services.sh"
cd "$ROOT"
ensure_venv test
ensure_debian redis-server redis-server
start_services
export DEBUG=1 SECRET_KEY=bench-only-secret GUILDOPS_VAR_DIR=$SERVICES_DIR/var PATH="$PG_BIN:$PATH"
"$PY" manage.py migrate --noinput >/dev/null
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in bench/*.py; do b=$(basename "$f" .py); [[ $b == _* || $b == __init__ ]] || names+=("$b"); done
fi
for name in "${names[@]}"; do
  say "bench: $name"
  "$PY" -m "bench.$name"
done
