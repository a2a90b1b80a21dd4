#!/bin/sh
# One image, every process kind: the first argument names it (compose.yaml sets it per service).
#   web       gunicorn on :8000 (WEB_CONCURRENCY workers)
#   worker    Celery worker of the "celery" queue (lifecycle, reminders, syncs; WORKER_CONCURRENCY)
#   delivery  Celery worker of the "discord" queue (outbox delivery; DELIVERY_CONCURRENCY, default 2)
#   beat      Celery beat, the one scheduler (run exactly one)
#   bot       manage.py runbot; without DISCORD_TOKEN it stays idle and says so
#   migrate   manage.py migrate (one-shot; the other services wait for it)
#   backup    Celery worker of the "backup" queue: runs the backups beat schedules, into /backups
#   manage …  any management command, e.g. `manage createsuperuser`
# Anything else is executed as given.
set -eu
kind=${1:-web}
[ $# -gt 0 ] && shift
# The healthcheck (docker/healthcheck.py) reads which kind this container runs.
echo "$kind" > /tmp/guildops-process
case "$kind" in
  web)
    exec gunicorn config.wsgi:application --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" --timeout "${WEB_TIMEOUT:-60}" --graceful-timeout 20 \
      --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" "$@" ;;
  worker)
    exec celery -A config worker -Q celery -n "worker@%h" --concurrency "${WORKER_CONCURRENCY:-2}" \
      --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  delivery)
    exec celery -A config worker -Q discord -n "delivery@%h" --concurrency "${DELIVERY_CONCURRENCY:-2}" \
      --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  backup)
    exec celery -A config worker -Q backup -n "backup@%h" --concurrency 1 --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  beat)
    exec celery -A config beat --pidfile= --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  bot)
    if [ -z "${DISCORD_TOKEN:-}" ]; then
      echo "bot: DISCORD_TOKEN is not set, so the bot is disabled (set it in .env, then docker compose up -d)."
      exec sleep infinity
    fi
    exec python manage.py runbot "$@" ;;
  migrate)
    exec python manage.py migrate --noinput "$@" ;;
  manage)
    exec python manage.py "$@" ;;
  *)
    exec "$kind" "$@" ;;
esac
