# Guild Ops: one image for every process kind (web, worker, delivery, beat, bot, migrate,
# backup), chosen by the command (docker/entrypoint.sh). README, "Run it on a server".
#
#   docker compose build                      pulls python:3.11-slim-bookworm, installs from PyPI
#   GUILDOPS_VERSION=$(git rev-parse --short HEAD) docker compose build    labels the version
#
# Offline builds (the deployment test): put wheels in docker/wheels/ and pass
# --build-arg PIP_OFFLINE=1; pip then installs from them only. Without wheels nothing changes.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtual environment with the pinned dependencies (constraints.txt), no test tools
FROM ${PYTHON_IMAGE} AS build
ARG PIP_OFFLINE=0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
# binutils: `strip` for the compiled extensions' debug symbols (build stage only).
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >/dev/null
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY docker/wheels/ /wheels/
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > requirements.txt \
    && python3 -m venv /opt/venv \
    && if [ "$PIP_OFFLINE" = 1 ]; then set -- --no-index --find-links /wheels; else set --; fi \
    && /opt/venv/bin/pip install --quiet "$@" -r requirements.txt -c constraints.txt \
    && /opt/venv/bin/python -m pip uninstall --quiet -y pip setuptools \
    # Slimmer, same behaviour: no test suites, and no translations other than English (no
    # LocaleMiddleware, LANGUAGE_CODE is en-us, so no other catalogue is ever loaded).
    && find /opt/venv -depth -type d -name tests -path '*/numpy/*' -exec rm -rf {} + \
    && find /opt/venv/lib -depth -type d -path '*/locale/*/LC_MESSAGES' ! -path '*/locale/en/*' -exec rm -rf {} + \
    && find /opt/venv -name '*.so' -type f ! -path '*.libs/*' -exec strip --strip-unneeded {} + \
    && find /opt/venv -name '*.pyc' -delete && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv >/dev/null
# The sources, static files collected (whitenoise serves them) and everything compiled, so a
# non-root process never writes next to them.
COPY . /app
WORKDIR /app
RUN rm -rf /app/docker/wheels /app/docker/standins \
    && DEBUG=0 SECRET_KEY=collectstatic-only /opt/venv/bin/python manage.py collectstatic --noinput -v 0 \
    && DEBUG=0 SECRET_KEY=compilemessages-only /opt/venv/bin/python manage.py compilemessages -v 0 \
    && /opt/venv/bin/python -m compileall -q -j 0 /app >/dev/null \
    && chmod 755 /app/docker/entrypoint.sh /app/docker/healthcheck.py

# --- the image -----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG GUILDOPS_VERSION=dev
LABEL org.opencontainers.image.title="Guild Ops" \
      org.opencontainers.image.version="${GUILDOPS_VERSION}" \
      org.opencontainers.image.revision="${GUILDOPS_VERSION}"
# pg_dump / pg_restore / psql for `manage.py backup` and `restore`: Debian's PostgreSQL 15 client
# binaries (the compose file's server is 15) with their libraries, without the Perl wrapper
# scripts of postgresql-client-common (50 MB of Perl for a version switch the image never needs).
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         libpq5 libreadline8 liblz4-1 libzstd1 >/dev/null \
    && cd /tmp && apt-get download -qq postgresql-client-15 \
    && dpkg-deb -x postgresql-client-15_*.deb /tmp/pgclient \
    && mv /tmp/pgclient/usr/lib/postgresql /usr/lib/postgresql \
    && rm -rf /tmp/pgclient /tmp/*.deb /usr/lib/postgresql/15/lib/bitcode \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/* \
    && useradd --system --uid 10001 --home-dir /var/lib/guildops --create-home --shell /usr/sbin/nologin guildops \
    && mkdir -p /backups && chown guildops:guildops /backups
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:/usr/lib/postgresql/15/bin:$PATH \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    GUILDOPS_VAR_DIR=/var/lib/guildops \
    BACKUP_DIR=/backups \
    GUILDOPS_VERSION=${GUILDOPS_VERSION}
WORKDIR /app
USER guildops
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
# Each process kind is checked its own way (docker/healthcheck.py); compose may tune timings.
HEALTHCHECK --interval=10s --timeout=8s --start-period=60s --retries=3 CMD ["/app/docker/healthcheck.py"]
