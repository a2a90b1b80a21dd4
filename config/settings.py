"""Guild Ops settings: every value comes from the environment (see README, "Environment").

Parsing is strict: a malformed boolean or integer stops start-up with a message naming the
variable, because a silently ignored typo in production is worse than a refusal to start.
Defaults are the embedded ones (SQLite and a filesystem broker under ``var/``) so that the
project runs on one machine with nothing to install.
"""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GUILDOPS_VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_snowflake(name: str) -> int | None:
    raw = env_str(name)
    if not raw:
        return None
    if not raw.isdigit():
        raise ImproperlyConfigured(f"{name}={raw!r} is not a Discord id (digits only).")
    return int(raw)


def env_role_groups(name: str) -> list[tuple[int, str]]:
    """"role id:group name,…" → [(role id, group name)]."""
    pairs = []
    for item in env_list(name):
        role, _, group = item.partition(":")
        if not role.strip().isdigit() or not group.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not 'Discord role id:group name'.")
        pairs.append((int(role.strip()), group.strip()))
    return pairs


# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
# The running version (the image sets the git commit): error reports' release, /metrics, the dashboard.
GUILDOPS_VERSION = env_str("GUILDOPS_VERSION", "dev")
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (e.g. `openssl rand -hex 40`).")
    SECRET_KEY = secrets.token_urlsafe(50)
    warnings.warn("SECRET_KEY not set: generated a throw-away key (sessions end at restart).", stacklevel=1)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "core.admin_site.GuildOpsAdminConfig",  # django.contrib.admin with the officers' home page
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "core.discord_signin",  # allauth's Discord provider with configurable URLs
    "core.battlenet_signin",  # allauth's Battle.net provider (members prove their characters)
    "core",
    "bot",
    "guildsync",
    "raids",
    "ark",
    "ratmas",
    "economy",
    "members",  # members' front door: calendar feeds
]

MIDDLEWARE = [
    "core.health.ProbeMiddleware",  # /healthz, /healthz/deep: before the SSL redirect and host checks
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language): after sessions, before CommonMiddleware (Django's rule).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.i18n.OfficerLanguageMiddleware",  # an officer's own choice overrides the browser's (needs the user)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded run command's admin login (manage.py ensure_admin); not used in production.
ADMIN_USERNAME = env_str("ADMIN_USERNAME", "admin")
ADMIN_PASSWORD = env_str("ADMIN_PASSWORD")

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'guildops.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: WAL and a busy timeout let the web server and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages (see README, "Languages"): English is the source. Each app keeps its catalogues in
# <app>/locale/, the project's templates theirs in locale/ (Discord's command localizations read
# the same catalogues: core.i18n). All are LOCALE_PATHS, not only app catalogues: Django ranks
# LOCALE_PATHS above every app, so Django's own catalogues (auth's "name" → "Name") never
# override the project's words (a slash option "name" must stay lowercase).
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
]
LOCALE_PATHS = [BASE_DIR / "locale"] + [BASE_DIR / app / "locale" for app in
                                        ("core", "bot", "guildsync", "raids", "ark", "ratmas", "economy", "members")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# collectstatic keeps only the content-hashed copies (the pages link to those): half the static
# files' size in the image.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
if DEBUG:
    # runserver and the test live server serve static files themselves; whitenoise is for
    # production (gunicorn), after `collectstatic`.
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")

# --- Security (production defaults when DEBUG is off; `check --deploy` is clean) ------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.ScopedAPIKeyOrModelPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ScopedKeyRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.BoundedLimitOffsetPagination",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "PAGE_SIZE": 100,
    "COERCE_DECIMAL_TO_STRING": True,
}
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 500, minimum=1)
# Rates per view family ("<n>/<second|minute|hour|day>"); empty = unlimited. Counted per API key
# or user, in the default cache (per process unless CACHES points at a shared cache).
API_THROTTLE_RATES = {
    "sync-trigger": env_str("API_THROTTLE_SYNC_TRIGGER", "6/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guild Ops API",
    "DESCRIPTION": "Machine clients authenticate with `Authorization: Api-Key <key>` "
    "(`manage.py create_api_key NAME --scope read|write|upload`; a key needs the operation's scope); "
    "staff may use their admin session and need the operation's Django permissions. "
    "Errors are `{\"detail\": ...}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "core.schema.document_error_responses"],
}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # Embedded default: kombu's filesystem transport needs no server, only a shared folder.
    CELERY_BROKER_URL = "filesystem://localhost//"  # the host part is ignored; naming it keeps kombu quiet
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or (REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TIMEZONE = "UTC"
# django-celery-beat's DatabaseScheduler, stamping the scheduler's heartbeat on each tick.
CELERY_BEAT_SCHEDULER = "core.beat:HeartbeatScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Discord delivery has a queue of its own ("discord"), consumed by its own worker, so a slow or
# failing Discord never holds the workers that run the lifecycle, reminders and syncs
# (README, "Run it on a server"). Every other task stays on the default queue "celery".
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"bot.tasks.deliver_outbox_task": {"queue": "discord"}}
# The daily backup (core.tasks.backup_task) runs on BACKUP_QUEUE: "celery" on one machine; the
# compose file sets "backup", consumed by its `backup` service (pg_dump, the backups volume).
BACKUP_QUEUE = env_str("BACKUP_QUEUE", "celery")
CELERY_TASK_ROUTES["core.tasks.backup_task"] = {"queue": BACKUP_QUEUE}

# Watched clocks (core.heartbeats, /healthz/deep): how often beat sends each worker queue a
# heartbeat task, and after how many seconds without a heartbeat a component counts as late.
HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_INTERVAL_SECONDS", 30, minimum=5)
HEALTH_SCHEDULER_LATE_SECONDS = env_int("HEALTH_SCHEDULER_LATE_SECONDS", 60, minimum=10)
HEALTH_WORKER_LATE_SECONDS = env_int("HEALTH_WORKER_LATE_SECONDS", 180, minimum=HEARTBEAT_INTERVAL_SECONDS + 5)
HEALTH_DELIVERY_LATE_SECONDS = env_int("HEALTH_DELIVERY_LATE_SECONDS", 180, minimum=HEARTBEAT_INTERVAL_SECONDS + 5)
HEALTH_BOT_LATE_SECONDS = env_int("HEALTH_BOT_LATE_SECONDS", 150, minimum=5)

# The one place the periodic schedule is declared. django-celery-beat copies it into the
# database at start, where officers can see it and change intervals in the admin.
CELERY_BEAT_SCHEDULE = {
    "core: queue jobs the broker missed": {"task": "core.tasks.sweep_pending_jobs_task", "schedule": 60.0},
    "bot: deliver outbox": {"task": "bot.tasks.deliver_outbox_task", "schedule": 60.0},
    "guildsync: discord member sync": {"task": "guildsync.tasks.discord_sync_task", "schedule": 15 * 60.0},
    "guildsync: blizzard pipeline": {
        "task": "guildsync.tasks.blizzard_pipeline_task",
        "schedule": crontab(minute=0, hour="1,7,13,19"),
    },
    "raids: auto-book next week": {"task": "raids.tasks.auto_book_task", "schedule": 5 * 60.0},
    "raids: import attendance": {"task": "raids.tasks.import_attendance_task", "schedule": 30 * 60.0},
    "raids: sync sign-ups": {"task": "raids.tasks.sync_signups_task", "schedule": 10 * 60.0},
    "raids: attendance from Warcraft Logs": {"task": "raids.tasks.import_wcl_attendance_task",
                                             "schedule": 30 * 60.0},
    "ark: lifecycle": {"task": "ark.tasks.ark_lifecycle_task", "schedule": 60.0},
    "ark: scheduled matches": {"task": "ark.tasks.ark_calendar_task", "schedule": 15 * 60.0},
    "ark: fill nudges": {"task": "ark.tasks.ark_nudge_task", "schedule": 5 * 60.0},
    "ratmas: scheduled reminders": {"task": "ratmas.tasks.ratmas_schedule_task", "schedule": 5 * 60.0},
    "economy: expire moderation cases": {"task": "economy.tasks.expire_cases_task", "schedule": 60.0},
    # Watched clocks (core.heartbeats): beat → broker → a worker of each queue, every interval.
    "core: heartbeat of the celery queue": {
        "task": "core.tasks.heartbeat_task", "args": ["worker"], "schedule": float(HEARTBEAT_INTERVAL_SECONDS),
        "options": {"queue": "celery", "expire_seconds": HEARTBEAT_INTERVAL_SECONDS}},
    "core: heartbeat of the discord queue": {
        "task": "core.tasks.heartbeat_task", "args": ["delivery"], "schedule": float(HEARTBEAT_INTERVAL_SECONDS),
        "options": {"queue": "discord", "expire_seconds": HEARTBEAT_INTERVAL_SECONDS}},
    "core: database backup": {"task": "core.tasks.backup_task", "schedule": crontab(minute=15, hour=3)},
    "core: privacy retention": {"task": "core.tasks.privacy_retention_task", "schedule": crontab(minute=45, hour=3)},
}

# --- Discord --------------------------------------------------------------------------------
DISCORD_TOKEN = env_str("DISCORD_TOKEN")
DISCORD_GUILD_ID = env_snowflake("DISCORD_GUILD_ID")
DISCORD_API_BASE = env_str("DISCORD_API_BASE", "https://discord.com/api/v10").rstrip("/")
DISCORD_GATEWAY_URL = env_str("DISCORD_GATEWAY_URL")  # default: discord.py's wss://gateway.discord.gg
DISCORD_HTTP_TIMEOUT = env_float("DISCORD_HTTP_TIMEOUT", 15.0)
# Requests per second to Discord from all processes together (shared through Redis when set).
# Discord allows 50; the margin absorbs network jitter between taking a slot and arriving.
DISCORD_GLOBAL_RATE = env_float("DISCORD_GLOBAL_RATE", 43.0)
DISCORD_AUDIT_CHANNEL_ID = env_snowflake("DISCORD_AUDIT_CHANNEL_ID")

# Sign in with Discord (django-allauth; core/discord_signin): the OAuth application's id and
# secret, Discord's OAuth URLs (tests point them at a fake), Discord roles → officer groups.
DISCORD_CLIENT_ID = env_str("DISCORD_CLIENT_ID")
DISCORD_CLIENT_SECRET = env_str("DISCORD_CLIENT_SECRET")
DISCORD_OAUTH_AUTHORIZE_URL = env_str("DISCORD_OAUTH_AUTHORIZE_URL", "https://discord.com/oauth2/authorize")
DISCORD_OAUTH_API_BASE = env_str("DISCORD_OAUTH_API_BASE", "https://discord.com/api/v10").rstrip("/")
DISCORD_OFFICER_ROLE_GROUPS = env_role_groups("DISCORD_OFFICER_ROLE_GROUPS")
# Discord Linked Roles (guildsync/services/linked_roles.py): sign-in asks for role_connections.write
# and members' values are pushed after sign-in and after each change of rank or link.
DISCORD_LINKED_ROLES = env_bool("DISCORD_LINKED_ROLES", False)
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
ACCOUNT_LOGOUT_REDIRECT_URL = "admin:login"
ACCOUNT_ADAPTER = "core.discord_signin.adapters.NoSignupAccountAdapter"
SOCIALACCOUNT_ADAPTER = "core.discord_signin.adapters.OfficerSocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False  # the token is used once, at sign-in, for the role lookup
SOCIALACCOUNT_PROVIDERS = {
    "discord": {"APPS": [{"client_id": DISCORD_CLIENT_ID, "secret": DISCORD_CLIENT_SECRET}]}
    if DISCORD_CLIENT_ID else {},
}
# runbot: database work of interactions runs on this many threads (one connection each);
# gateway events (auto-moderation, member updates) on their own threads and bounded queue.
DISCORD_DB_THREADS = env_int("DISCORD_DB_THREADS", 2, minimum=1)
DISCORD_EVENT_THREADS = env_int("DISCORD_EVENT_THREADS", 2, minimum=1)
DISCORD_EVENT_QUEUE = env_int("DISCORD_EVENT_QUEUE", 2000, minimum=1)
# GET /metrics (core.metrics): Prometheus scrapes with "Authorization: Bearer <METRICS_TOKEN>";
# without a token the endpoint is off (404).
METRICS_TOKEN = env_str("METRICS_TOKEN")
# runbot's own Prometheus metrics (bot.vitals): the port (0 = off) and the address it listens on.
BOT_METRICS_PORT = env_int("BOT_METRICS_PORT", 0, minimum=0)
BOT_METRICS_ADDR = env_str("BOT_METRICS_ADDR", "0.0.0.0")  # noqa: S104 - a container's port, published only on purpose
DISCORD_DEFER_AFTER = env_float("DISCORD_DEFER_AFTER", 0.4)  # seconds before an interaction is deferred
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100, minimum=1)  # rows one delivery run holds at once
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
OUTBOX_RUN_SECONDS = env_int("OUTBOX_RUN_SECONDS", 60, minimum=1)  # a delivery task starts no send after this
OUTBOX_NONCE_TRUST_SECONDS = env_int("OUTBOX_NONCE_TRUST_SECONDS", 60, minimum=0)
# A delivery run's claim on its rows lasts this long and is renewed every third of it while the
# run lives; a killed worker's rows are claimable again after it (bot/README.md, "Delivery").
OUTBOX_LEASE_SECONDS = env_float("OUTBOX_LEASE_SECONDS", 15.0)
# On shutdown (SIGTERM), requests in flight get this long to answer before they are abandoned.
OUTBOX_STOP_GRACE_SECONDS = env_float("OUTBOX_STOP_GRACE_SECONDS", 3.0)
# Delivery pauses once Discord answered this many requests 401/403/429 in 10 minutes (Discord bans
# the IP at 10,000; bot/guard.py).
DISCORD_INVALID_REQUEST_LIMIT = env_int("DISCORD_INVALID_REQUEST_LIMIT", 5000, minimum=1)

# --- Other external APIs --------------------------------------------------------------------
BLIZZARD_CLIENT_ID = env_str("BLIZZARD_CLIENT_ID")
BLIZZARD_CLIENT_SECRET = env_str("BLIZZARD_CLIENT_SECRET")
BLIZZARD_REGION = env_str("BLIZZARD_REGION", "us").lower()
BLIZZARD_LOCALE = env_str("BLIZZARD_LOCALE", "en_US")
BLIZZARD_API_BASE = env_str("BLIZZARD_API_BASE", f"https://{BLIZZARD_REGION}.api.blizzard.com").rstrip("/")
BLIZZARD_OAUTH_URL = env_str("BLIZZARD_OAUTH_URL", "https://oauth.battle.net/token")
BLIZZARD_REALM_SLUG = env_str("BLIZZARD_REALM_SLUG")
BLIZZARD_GUILD_SLUG = env_str("BLIZZARD_GUILD_SLUG")
BLIZZARD_REQUESTS_PER_SECOND = env_float("BLIZZARD_REQUESTS_PER_SECOND", 100.0)
# Members connect Battle.net from /me/ to prove their characters (core/battlenet_signin): off unless
# set; uses the Blizzard client above (its redirect URL: https://HOST/accounts/battlenet/login/callback/).
BATTLENET_CONNECT = env_bool("BATTLENET_CONNECT", False)
BATTLENET_OAUTH_BASE = env_str("BATTLENET_OAUTH_BASE", "https://oauth.battlenet.com.cn" if BLIZZARD_REGION == "cn"
                               else "https://oauth.battle.net").rstrip("/")
SOCIALACCOUNT_PROVIDERS["battlenet"] = {
    "APPS": [{"client_id": BLIZZARD_CLIENT_ID, "secret": BLIZZARD_CLIENT_SECRET}], "SCOPE": ["wow.profile"],
    "REGION": BLIZZARD_REGION} if BLIZZARD_CLIENT_ID else {}
RAID_HELPER_API_BASE = env_str("RAID_HELPER_API_BASE", "https://raid-helper.dev/api/v4").rstrip("/")
RAID_HELPER_API_KEY = env_str("RAID_HELPER_API_KEY")
WCL_CLIENT_ID = env_str("WCL_CLIENT_ID")
WCL_CLIENT_SECRET = env_str("WCL_CLIENT_SECRET")
# Warcraft Logs v2 (raids.warcraftlogs): OAuth token and GraphQL endpoints (tests point them at a
# fake), the guild whose reports are read (its id, or name + realm slug + region), pacing knobs.
WCL_TOKEN_URL = env_str("WCL_TOKEN_URL", "https://www.warcraftlogs.com/oauth/token")
WCL_API_URL = env_str("WCL_API_URL", "https://www.warcraftlogs.com/api/v2/client")
WCL_HTTP_TIMEOUT = env_float("WCL_HTTP_TIMEOUT", 15.0)
WCL_GUILD_ID = env_int("WCL_GUILD_ID", 0, minimum=0)  # 0 = find the guild by name, realm, region
WCL_GUILD_NAME = env_str("WCL_GUILD_NAME")
WCL_GUILD_SERVER_SLUG = env_str("WCL_GUILD_SERVER_SLUG", BLIZZARD_REALM_SLUG)
WCL_GUILD_SERVER_REGION = env_str("WCL_GUILD_SERVER_REGION", BLIZZARD_REGION)
WCL_IMPORT_AFTER_MINUTES = env_int("WCL_IMPORT_AFTER_MINUTES", 30, minimum=0)
WCL_IMPORT_GIVE_UP_HOURS = env_int("WCL_IMPORT_GIVE_UP_HOURS", 48, minimum=1)
# API keys/secrets officers set in the admin are Fernet-encrypted with a key derived from this
# (core.secrets); earlier keys, comma-separated, still decrypt after a rotation.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
FIELD_ENCRYPTION_KEY_PREVIOUS = env_list("FIELD_ENCRYPTION_KEY_PREVIOUS")
ADDON_UPLOAD_MAX_BYTES = env_int("ADDON_UPLOAD_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
ADDON_UPLOAD_MAX_MEMBERS = env_int("ADDON_UPLOAD_MAX_MEMBERS", 5_000, minimum=1)
ADDON_UPLOAD_MAX_TABLES = env_int("ADDON_UPLOAD_MAX_TABLES", 200_000, minimum=100)
ADDON_UPLOAD_SYNC_MAX_BYTES = env_int("ADDON_UPLOAD_SYNC_MAX_BYTES", 1024 * 1024, minimum=0)
ADDON_PARSE_CPU_SECONDS = env_float("ADDON_PARSE_CPU_SECONDS", 10.0)
ADDON_PARSE_MAX_MEMORY_MB = env_int("ADDON_PARSE_MAX_MEMORY_MB", 1024, minimum=128)

# --- Domain knobs ---------------------------------------------------------------------------
GUILDSYNC_FUZZY_THRESHOLD = env_float("GUILDSYNC_FUZZY_THRESHOLD", 88.0)
GUILDSYNC_FUZZY_MARGIN = env_float("GUILDSYNC_FUZZY_MARGIN", 6.0)
GUILDSYNC_STALE_DAYS = env_int("GUILDSYNC_STALE_DAYS", 30, minimum=1)
GUILDSYNC_MATCH_DEBOUNCE_SECONDS = env_int("GUILDSYNC_MATCH_DEBOUNCE_SECONDS", 30, minimum=1)
RAID_HELPER_HTTP_TIMEOUT = env_float("RAID_HELPER_HTTP_TIMEOUT", 15.0)
ARK_REMINDER_TYPES = env_list("ARK_REMINDER_TYPES", "registration_close_1h,checkin_12h,4h,1h,start")
ARK_REMINDER_GRACE_MINUTES = env_float("ARK_REMINDER_GRACE_MINUTES", 20.0)
ARK_RESULT_REMINDER_HOURS = env_float("ARK_RESULT_REMINDER_HOURS", 2.0)
ARK_OFFICER_ROLE_ID = env_snowflake("ARK_OFFICER_ROLE_ID")
ARK_RETENTION_DAYS = env_int("ARK_RETENTION_DAYS", 730, minimum=30)

# --- Backups (core/backups.py; README "Backups") -------------------------------------------
BACKUP_DIR = Path(env_str("BACKUP_DIR") or VAR_DIR / "backups")  # where `manage.py backup` and beat write
BACKUP_KEEP_DAILY = env_int("BACKUP_KEEP_DAILY", 7, minimum=1)  # newest backup of each of the last N days
BACKUP_KEEP_WEEKLY = env_int("BACKUP_KEEP_WEEKLY", 4, minimum=0)  # … and of each of the last M ISO weeks
BACKUP_BY_BEAT = env_bool("BACKUP_BY_BEAT", True)  # off when another process (compose `backup`) runs them
BACKUP_PG_BIN_DIR = env_str("BACKUP_PG_BIN_DIR")  # folder of pg_dump/pg_restore/psql; default: matched to the server

# --- Members' data rights (core/privacy; docs/PRIVACY.md) ----------------------------------
RETENTION_OUTBOX_DAYS = env_int("RETENTION_OUTBOX_DAYS", 30, minimum=1)  # settled outbox rows (their payloads)
RETENTION_RATMAS_DAYS = env_int("RETENTION_RATMAS_DAYS", 30, minimum=1)  # relay texts and wishlists after an event ends
RETENTION_MODERATION_DAYS = env_int("RETENTION_MODERATION_DAYS", 180, minimum=1)  # a case's reason/message text
RETENTION_LEFT_MEMBER_DAYS = env_int("RETENTION_LEFT_MEMBER_DAYS", 90, minimum=1)  # members who left: forgotten
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 1000, minimum=1)  # rows per short purge transaction
PRIVACY_POLICY_URL = env_str("PRIVACY_POLICY_URL")  # where the community publishes docs/PRIVACY.md

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}, "discord": {"level": "WARNING"}},
}

# --- Error reports (core/sentry.py) -----------------------------------------------------------
# Sentry (or a Sentry-compatible service such as GlitchTip): off without a DSN. Every process
# that loads these settings reports its errors, secrets scrubbed, release = GUILDOPS_VERSION.
SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
if SENTRY_DSN:
    from core import sentry

    sentry.init(SENTRY_DSN, release=GUILDOPS_VERSION, environment=SENTRY_ENVIRONMENT)

# Members' calendar feeds (members/): the public address their URLs start with, how far back a feed
# reaches, and how many fetches one token (or public feed per address) may make per window.
SITE_URL = env_str("SITE_URL", "http://localhost:8000")
CALENDAR_FEED_PAST_DAYS = env_int("CALENDAR_FEED_PAST_DAYS", 60, minimum=0)
CALENDAR_FEED_RATE = (env_int("CALENDAR_FEED_RATE_COUNT", 30, minimum=1),
                      env_int("CALENDAR_FEED_RATE_SECONDS", 3600, minimum=1))
