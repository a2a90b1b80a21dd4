#!/usr/bin/env bash
# Builds local stand-ins for the official images the Dockerfile and compose.yaml name, for
# machines that reach no image registry (CI, the deployment test):
#   python:3.11-slim-bookworm   Debian bookworm (debootstrap) with python3 3.11, venv, ca-certificates
#   postgres:15-bookworm        the same base with Debian's PostgreSQL 15 and an entrypoint that
#                               honours POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB like the official one
#   redis:7-bookworm            the same base with Debian's redis-server (7.0)
# Production pulls the real images; nothing here is used there. The Debian mirror is the one
# this machine's own apt sources name. An image that already exists is kept (FORCE=1 rebuilds).
#   scripts/build-base-images.sh                    all three
#   scripts/build-base-images.sh python             only the Python base
#   scripts/build-base-images.sh postgres redis     these (at once; they need the Python base)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '==> [%3ss] base images: %s\n' "$SECONDS" "$*"; }

PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.11-slim-bookworm}
POSTGRES_IMAGE=${POSTGRES_IMAGE:-postgres:15-bookworm}
REDIS_IMAGE=${REDIS_IMAGE:-redis:7-bookworm}

have() { [ "${FORCE:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

# The first http(s) Debian mirror named by this machine's apt sources (deb822 or one-line form).
debian_mirror() {
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
  echo "${m:-http://deb.debian.org/debian}"
}

WANT=" ${*:-python postgres redis} "
wanted() { [[ $WANT == *" $1 "* ]]; }

if ! wanted python; then
  :
elif have "$PYTHON_IMAGE"; then
  say "$PYTHON_IMAGE exists"
else
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
  MIRROR=$(debian_mirror)
  DIR=$(mktemp -d /tmp/guildops-rootfs.XXXXXX)
  chmod 755 "$DIR"  # it becomes the image's /, which every user must be able to enter
  # debootstrap mounts /proc and /sys inside while it works, and can leave them mounted when it
  # ends: unmount whatever is mounted below the root (deepest first) before archiving or removing.
  unmount_all() {
    awk -v d="$DIR" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts | sort -r \
      | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  }
  cleanup() { unmount_all; rm -rf --one-file-system "$DIR"; }
  trap cleanup EXIT
  say "debootstrap bookworm from $MIRROR (about 40 s)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$DIR" "$MIRROR" \
    >"$DIR.log" 2>&1 || { tail -30 "$DIR.log" >&2; exit 1; }
  rm -f "$DIR.log"
  unmount_all
  # Slim like debian:bookworm-slim, which the official python slim image starts from: no docs,
  # man pages or translations, now or in packages installed later.
  rm -rf "$DIR"/var/cache/apt/* "$DIR"/var/lib/apt/lists/* "$DIR"/usr/share/doc/* "$DIR"/usr/share/man/* \
    "$DIR"/usr/share/info/* "$DIR"/usr/share/locale/* "$DIR"/usr/share/lintian
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
    > "$DIR/etc/dpkg/dpkg.cfg.d/docker-slim"
  printf '%s\n' 'APT::Keep-Downloaded-Packages "false";' > "$DIR/etc/apt/apt.conf.d/docker-clean"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$MIRROR" "$MIRROR" > "$DIR/etc/apt/sources.list"
  say "docker import $PYTHON_IMAGE"
  # Imported under a name of its own and renamed only once tar succeeded: a failed archive
  # never leaves an image under the official name.
  partial="guildops-partial-base:$$"
  if ! tar -C "$DIR" --one-file-system -c . | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$partial" >/dev/null; then
    docker image rm -f "$partial" >/dev/null 2>&1 || true
    echo "archiving the root file system failed" >&2; exit 1
  fi
  docker tag "$partial" "$PYTHON_IMAGE" && docker image rm "$partial" >/dev/null
  cleanup; trap - EXIT
fi

# PostgreSQL and Redis at once: each is mostly waiting for Debian's mirror.
jobs=()
for pair in "postgres:$POSTGRES_IMAGE" "redis:$REDIS_IMAGE"; do
  kind=${pair%%:*} image=${pair#*:}
  wanted "$kind" || continue
  if have "$image"; then say "$image exists"; continue; fi
  docker image inspect "$PYTHON_IMAGE" >/dev/null 2>&1 || { echo "$PYTHON_IMAGE is missing: build it first" >&2; exit 1; }
  say "building $image (Debian packages over plain HTTP)"
  log=$(mktemp /tmp/guildops-standin.XXXXXX)
  ( docker build -q --build-arg BASE="$PYTHON_IMAGE" -t "$image" "$ROOT/docker/standins/$kind" >"$log" 2>&1 \
      || { echo "building $image failed:" >&2; tail -30 "$log" >&2; rm -f "$log"; exit 1; }
    rm -f "$log"; say "$image built" ) &
  jobs+=($!)
done
for job in "${jobs[@]}"; do wait "$job"; done
say "ready: ${WANT:1:-1}"
