#!/usr/bin/env bash
# The deployment test (README, "Run it on a server"; .ci/run runs it after the test command):
# the image and compose.yaml on real containers. As root it installs what it needs (Debian's
# docker.io, docker-compose, debootstrap), starts dockerd if none answers, builds the stand-in
# base images (no registry here) and a wheelhouse of the pinned dependencies (pip inside a
# container cannot verify TLS to the index on these machines), then runs the drills of
# scripts/deploy/run.py. Bounded: each wait has its own limit, and the whole run is stopped
# after DEPLOY_TIMEOUT seconds (default 900).
#   DEPLOY_KEEP=1 scripts/test-deploy.sh    leave the stack up afterwards, to look at it
set -euo pipefail
source "$(dirname "$0")/_common.sh"
cd "$ROOT"

if [ "$(id -u)" != 0 ]; then
  echo "the deployment test needs root (dockerd, debootstrap)" >&2
  exit 1
fi
ensure_debian dockerd docker.io docker-compose docker-compose debootstrap debootstrap ip iproute2
ensure_venv test

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: /var/log/guildops-dockerd.log)"
  nohup dockerd >/var/log/guildops-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/guildops-dockerd.log >&2; echo "dockerd did not start" >&2; exit 1; }
fi
# The legacy builder: it uses the local stand-in images as they are (no registry lookup).
export DOCKER_BUILDKIT=0

# Rebuilt only when the pins change (a stamp names the hash of pyproject.toml and constraints.txt).
stamp="docker/wheels/.stamp-$(cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  say "wheelhouse: the pinned dependencies, built by this machine's pip (docker/wheels)"
  "$PY" -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
    > docker/wheels/requirements.txt
  pip_quiet wheel -w docker/wheels -r docker/wheels/requirements.txt -c constraints.txt
  # Debian's Python is 3.11.2: redis needs async-timeout below 3.11.3 (the official image is newer).
  pip_quiet wheel -w docker/wheels "async-timeout>=4.0.3"
  rm -f docker/wheels/requirements.txt docker/wheels/.stamp-* && touch "$stamp"
fi

say "stand-in base images"
timeout 600 ./scripts/build-base-images.sh

# The containers reach the fake Discord at the Docker bridge's address on this machine.
DEPLOY_FAKE_BIND=$(ip -4 -o addr show docker0 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
if [ -z "$DEPLOY_FAKE_BIND" ]; then
  echo "the Docker bridge docker0 has no IPv4 address: the containers could not reach the fake Discord" >&2
  exit 1
fi
export DEPLOY_FAKE_BIND
say "drills (fake Discord on $DEPLOY_FAKE_BIND)"
timeout --kill-after=30 "${DEPLOY_TIMEOUT:-900}" "$PY" -m scripts.deploy.run
