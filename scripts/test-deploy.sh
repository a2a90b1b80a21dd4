#!/usr/bin/env bash
# The deployment test (README, "Run it on a server"; .ci/run runs it after the test command):
# the image and compose.yaml on real containers. As root it installs what it needs (Debian's
# docker.io, docker-compose, debootstrap), starts dockerd if none answers, builds the stand-in
# base images (no registry here) and a wheelhouse of the pinned dependencies (pip inside a
# container cannot verify TLS to the index on these machines), then runs the drills of
# scripts/deploy/run.py. Bounded: each wait has its own limit, and the drills are stopped after
# DEPLOY_TIMEOUT seconds (default 900). It cleans up after itself: the stack's containers,
# network and volumes, the upgrade drill's image, and the dockerd it started.
#   DEPLOY_KEEP=1 scripts/test-deploy.sh    leave the stack (and dockerd) up afterwards, to look at it
#
# Each phase's time is printed at the end with the load average, since these machines are shared.
# What can run at once does: the wheelhouse while debootstrap works, then the application image
# beside the PostgreSQL and Redis stand-ins (all three need only the Python base image).
set -euo pipefail
source "$(dirname "$0")/_common.sh"
cd "$ROOT"

if [ "$(id -u)" != 0 ]; then
  echo "the deployment test needs root (dockerd, debootstrap)" >&2
  exit 1
fi

PHASES=()
phase_began=$SECONDS
phase_name=""
phase() {  # phase NAME: closes the running phase (its time is recorded), opens the next
  [ -n "$phase_name" ] && PHASES+=("$(printf '%5ss  %s' "$((SECONDS - phase_began))" "$phase_name")")
  phase_name=${1:-} phase_began=$SECONDS
  [ -n "$phase_name" ] && say "$phase_name"
  return 0
}
STARTED_DOCKERD=""
LOGS=$(mktemp -d /tmp/guildops-deploy-logs.XXXXXX)
finish() {
  local rc=$?
  phase ""
  echo "==> deployment test phases (load average at the start: $LOAD_AT_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)):"
  printf '    %s\n' "${PHASES[@]}"
  echo "    $(printf '%5ss' "$SECONDS")  in all (exit $rc)"
  if [ -n "$STARTED_DOCKERD" ] && [ "${DEPLOY_KEEP:-0}" != 1 ]; then
    kill "$STARTED_DOCKERD" 2>/dev/null && wait "$STARTED_DOCKERD" 2>/dev/null || true
  fi
  rm -rf "$LOGS"
}
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
trap finish EXIT

phase "system packages (docker.io, docker-compose, debootstrap) and the test environment"
ensure_debian dockerd docker.io docker-compose docker-compose debootstrap debootstrap ip iproute2
ensure_venv test

if ! docker info >/dev/null 2>&1; then
  phase "starting dockerd (log: /var/log/guildops-dockerd.log)"
  dockerd >/var/log/guildops-dockerd.log 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/guildops-dockerd.log >&2; echo "dockerd did not start" >&2; exit 1; }
fi
# The legacy builder: it uses the local stand-in images as they are (no registry lookup).
export DOCKER_BUILDKIT=0

# The wheelhouse (rebuilt only when the pins change: a stamp names the hash of pyproject.toml and
# constraints.txt) is built by the host's pip while debootstrap makes the Python base image.
wheelhouse() {
  local stamp
  stamp="docker/wheels/.stamp-$(cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)"
  [ -f "$stamp" ] && { echo "wheelhouse: up to date"; return 0; }
  "$PY" -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
    > docker/wheels/requirements.txt
  pip_quiet wheel -w docker/wheels -r docker/wheels/requirements.txt -c constraints.txt
  # Debian's Python is 3.11.2: redis needs async-timeout below 3.11.3 (the official image is newer).
  pip_quiet wheel -w docker/wheels "async-timeout>=4.0.3"
  rm -f docker/wheels/requirements.txt docker/wheels/.stamp-* && touch "$stamp"
  echo "wheelhouse: built"
}
# Waits for background job $1 (its output in $LOGS/$2.log) and fails with its log when it failed.
await() {
  if ! wait "$1"; then
    echo "$2 failed:" >&2
    tail -40 "$LOGS/$2.log" >&2
    exit 1
  fi
  cat "$LOGS/$2.log"
}

phase "the Python base image (debootstrap + docker import) and, meanwhile, the wheelhouse (host pip)"
wheelhouse >"$LOGS/wheelhouse.log" 2>&1 &
wheels_job=$!
timeout 600 ./scripts/build-base-images.sh python
await "$wheels_job" wheelhouse

phase "the application image, and meanwhile the PostgreSQL and Redis stand-ins"
VERSION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
export DEPLOY_IMAGE=${DEPLOY_IMAGE:-guildops:deploytest}
timeout 600 docker build -q --build-arg PIP_OFFLINE=1 --build-arg "GUILDOPS_VERSION=$VERSION" \
  -t "$DEPLOY_IMAGE" . >"$LOGS/image.log" 2>&1 &
image_job=$!
timeout 600 ./scripts/build-base-images.sh postgres redis
await "$image_job" image
export DEPLOY_IMAGE_VERSION=$VERSION

# The containers reach the fake Discord at the Docker bridge's address on this machine.
DEPLOY_FAKE_BIND=$(ip -4 -o addr show docker0 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
if [ -z "$DEPLOY_FAKE_BIND" ]; then
  echo "the Docker bridge docker0 has no IPv4 address: the containers could not reach the fake Discord" >&2
  exit 1
fi
export DEPLOY_FAKE_BIND
phase "drills (fake Discord on $DEPLOY_FAKE_BIND)"
# In the background, so that a SIGTERM (CI's timeout) reaches the drills at once: they stop,
# print their summary and take the stack down; then this script's own clean-up runs.
timeout --kill-after=30 "${DEPLOY_TIMEOUT:-900}" "$PY" -m scripts.deploy.run &
drills=$!
trap 'echo "deployment test: stopped by a signal" >&2; kill -TERM "$drills" 2>/dev/null; wait "$drills" || true; exit 143' TERM INT
wait "$drills"
