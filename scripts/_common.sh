# Shared by scripts/run.sh and scripts/test.sh: the virtual environment and system packages.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python

STARTED_AT=${STARTED_AT:-$SECONDS}
# Each step's line carries the seconds elapsed since the command started, so a slow step shows.
say() { printf '\033[1m==> [%3ss] %s\033[0m\n' "$((SECONDS - STARTED_AT))" "$*"; }

# Create .venv and install the pinned dependencies; reinstall only when pyproject or
# constraints change (a stamp file records what was installed).
ensure_venv() {
  local extras=$1 stamp
  if [ ! -x "$PY" ]; then
    say "creating virtual environment in $VENV"
    python3 -m venv "$VENV"
  fi
  stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha1sum | cut -c1-12)-$extras"
  if [ ! -f "$stamp" ]; then
    say "installing the pinned dependencies ($extras): about a minute on a first run, pip's progress follows"
    local spec="$ROOT" began=$SECONDS
    [ "$extras" != "base" ] && spec="$ROOT[$extras]"
    pip_progress install -c "$ROOT/constraints.txt" -e "$spec"
    rm -f "$VENV"/.installed-* && touch "$stamp"
    say "dependencies installed in $((SECONDS - began)) s"
  fi
}

# pip with one line per package it collects or installs (its progress, without the noise).
pip_progress() {
  "$PY" -m pip "$@" --disable-pip-version-check --progress-bar off 2>&1 \
    | grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed|ERROR|error)' \
    | sed -u -e 's/^/    /' -e 's/^\(.\{150\}\).*/\1…/'
  return "${PIPESTATUS[0]}"
}

# pip, minus the noise of find-links folders some machines configure but do not have.
pip_quiet() {
  local out
  if ! out=$("$PY" -m pip "$@" --quiet --disable-pip-version-check 2>&1); then
    printf '%s\n' "$out" | grep -v "is ignored: it is neither" >&2
    return 1
  fi
  printf '%s\n' "$out" | grep -v -e "is ignored: it is neither" -e '^$' || true
}

APT_UPDATED=0
# Install Debian packages that provide the given commands, when missing (root only).
ensure_debian() {
  local missing=() cmd pkg
  while [ $# -gt 0 ]; do
    cmd=$1 pkg=$2; shift 2
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing system packages: ${missing[*]} (install them, or run as root to let this script do it)" >&2
    return 1
  fi
  apt_install "${missing[@]}"
}

# Install Debian packages by name (root only; the callers check). Waits for another apt run.
apt_install() {
  say "installing Debian packages: $*"
  if [ $APT_UPDATED = 0 ]; then apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
