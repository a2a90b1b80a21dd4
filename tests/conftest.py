"""Shared fixtures. App-specific ones live in tests/<app>/conftest.py.

- ``fake_discord``: the local fake Discord API, with settings pointed at it.
- ``deliver_outbox()``: runs the real delivery code once (claim, send, record).
- ``run_in_parallel(fn, n)``: n threads, each with its own database connection, released
  together by a barrier; for race tests (use with ``@pytest.mark.django_db(transaction=True)``).
- ``officer(group)``: a staff user in one officer group; ``admin_user`` from pytest-django.
- ``browser_page``: a Playwright page on Debian's Chromium, for tests against ``live_server``.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get("GUILDOPS_TEST_ISOLATED"):
    # Workers sharing one Redis database and var folder consume each other's Celery tasks.
    pytest.exit("parallel runs need tests/parallel.py (each worker's own Redis database and var folder): "
                "run ./scripts/test.sh, or add -p tests.parallel", returncode=4)

from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

from tests.fakes.discord_api import FakeDiscord, discord_settings  # noqa: E402
from tests.fakes.http import session_fake, use_fake  # noqa: E402

# One Hypothesis profile everywhere, CI included: a fresh seed each run (the test command picks it
# and prints it; ``HYPOTHESIS_SEED=N ./scripts/test.sh`` replays a run) and no per-example
# deadline, which only measures how loaded the machine is. Hypothesis would otherwise switch to
# its derandomized "ci" profile under CI=true and never try a new input there.
hypothesis_settings.register_profile("guildops", deadline=None, derandomize=False, print_blob=True,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("guildops")

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake APIs' access logs

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_configure(config: pytest.Config) -> None:
    """Passwords of test users are hashed with MD5, not PBKDF2: one PBKDF2 hash costs ~0.34 CPU
    seconds (Django's 870,000 iterations), and ``admin_user``/``officer()``/every browser login
    pays it, hundreds of times a run (tests/cpu_profile.py found it the largest single cost of
    the 10,000-row changelist checks). No test is about the hash's strength: production keeps
    Django's default (config/settings.py sets none), and a PBKDF2 hash made by a subprocess
    (``ensure_admin`` in a fresh checkout) still checks, since the default hashers follow."""
    from django.conf import settings

    if settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                     *settings.PASSWORD_HASHERS]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("uses PostgreSQL itself (a server-side function or trigger)")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its own hook is a plain one)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (``--dist loadgroup``, tests/parallel.py), the tests of a module that share a
    module-scoped fixture of ours (a ``runbot`` process, the demo data, a compiled addon) run on
    one worker, which sets it up once, as the serial run does. Any test may name its own group
    with ``@pytest.mark.xdist_group("name")``: the tests of one group share a worker."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group") is not None:
            continue
        shared = [name for name in info.names_closure
                  if (defs := info.name2fixturedefs.get(name))
                  and defs[-1].scope == "module" and defs[-1].baseid.startswith("tests")]
        if shared:
            item.add_marker(pytest.mark.xdist_group(f"module:{item.module.__name__}"))


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", None)
    return f"hypothesis: profile guildops, seed {seed if seed is not None else 'random'}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, django_db_blocker,
                                 tmp_path_factory) -> Iterator[None]:
    """Under xdist on PostgreSQL, the run migrates once, into ``test_<name>``, and every worker
    gets a copy of it (``CREATE DATABASE test_<name>_gwN TEMPLATE test_<name>``, well under a
    second) instead of migrating its own (several seconds of CPU each, all at once on the same
    cores). The first worker to take the lock builds the template; the others wait for it. On a
    server you provide (``DATABASE_URL``), ``test_<name>`` stays until the next run rebuilds it."""
    from django.db import connection

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or connection.vendor != "postgresql":
        yield
        return
    clone = connection.creation._get_test_db_name()  # test_<name>_gwN (pytest-django's suffix)
    template = clone.removesuffix(f"_{worker}")
    quote = connection.ops.quote_name
    shared = tmp_path_factory.getbasetemp().parent  # one folder per run, shared by its workers
    with django_db_blocker.unblock(), open(shared / "db-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = shared / "db-template.ready"
        if not ready.exists():
            _migrate_template(connection, template)
            ready.touch()
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(clone)}")  # left by an earlier run
            cursor.execute(f"CREATE DATABASE {quote(clone)} TEMPLATE {quote(template)}")
    yield
    with django_db_blocker.unblock():
        connection.close()
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(clone)} WITH (FORCE)")


def _migrate_template(connection, name: str) -> None:
    """``test_<name>`` created and migrated the way the serial run creates its test database."""
    test_settings = connection.settings_dict["TEST"]
    real_name, test_name = connection.settings_dict["NAME"], test_settings.get("NAME")
    test_settings["NAME"] = name
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    finally:
        connection.close()  # a template must have no session open while it is copied
        connection.settings_dict["NAME"], test_settings["NAME"] = real_name, test_name


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_modify_db_settings) -> bool:
    """A worker's copy of the template is already migrated: Django keeps it (and checks that no
    migration is missing) rather than create it again; the fixture above drops it at the end."""
    from django.db import connection

    if os.environ.get("PYTEST_XDIST_WORKER") and connection.vendor == "postgresql":
        return True
    return request.config.getvalue("reuse_db")


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections(django_db_setup, django_db_blocker):
    """The live server answers the browser on daemon threads that may still hold a database
    connection when the session ends; close them so the test database can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _quiet_outbox(settings):
    """Tests deliver explicitly (``deliver_outbox``) instead of via the broker."""
    settings.OUTBOX_KICK_ON_COMMIT = False


@pytest.fixture(autouse=True)
def _server_language_read_afresh():
    """``core.i18n`` keeps the server language for a few seconds per process: each test reads
    its own database's setting (English unless the test chooses another), and starts in English."""
    from django.utils import translation

    from core.i18n import forget_server_language

    forget_server_language()
    yield
    forget_server_language()
    # A request through the test client (LocaleMiddleware, an officer's choice) activates its
    # language on this thread; the next test starts in English again.
    translation.deactivate()


@pytest.fixture(autouse=True)
def _guard_counts_of_its_own(monkeypatch):
    """Discord's invalid-request guard (bot/guard.py) counts 401/403/429 answers for 10 minutes
    in Redis, shared by every test of this xdist worker: a test that met a refused DM would make
    a later one's dashboard warn about invalid requests. Each test counts under keys of its own
    (a process a test starts counts under the default keys; tests of that share their prefix)."""
    import uuid

    from bot import guard

    monkeypatch.setattr(guard, "PREFIX", f"test:guard:{uuid.uuid4().hex}")
    guard.GUARD.cached, guard.GUARD.was_paused = None, False
    yield
    guard.GUARD.cached, guard.GUARD.was_paused = None, False


@pytest.fixture(autouse=True)
def _bot_work_on_the_test_thread(settings):
    """Commands run in this process (real discord.py interactions, tests/discord_objects.py)
    do their database work on the test's thread (inside the test's transaction) and answer at
    once unless a test lowers ``DISCORD_DEFER_AFTER``; the
    end-to-end tests (tests/bot/test_e2e_*.py) run the real pool and deferral in ``runbot``."""
    from bot import interactions

    settings.DISCORD_DEFER_AFTER = 60.0
    interactions.DB.inline = interactions.EVENTS.inline = True
    yield
    interactions.DB.inline = interactions.EVENTS.inline = False


_fake_discord_server = session_fake(FakeDiscord)


@pytest.fixture
def fake_discord(_fake_discord_server, settings) -> FakeDiscord:
    return use_fake(_fake_discord_server, settings, **discord_settings(_fake_discord_server))


@pytest.fixture
def deliver_outbox(fake_discord) -> Callable[..., Any]:
    from bot.delivery import deliver_due

    def deliver(**kwargs):
        return deliver_due(**kwargs)

    return deliver


@pytest.fixture
def run_in_parallel() -> Callable[..., list[Any]]:
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("race tests prove their guarantees on parallel PostgreSQL connections")

    def run(fn: Callable[[int], Any], n: int, timeout: float = 120) -> list[Any]:
        barrier = threading.Barrier(n)
        results: list[Any] = [None] * n

        def worker(i: int) -> None:
            try:
                barrier.wait(timeout=timeout)
                results[i] = fn(i)
            except BaseException as exc:  # returned to the test, which asserts on it
                results[i] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        return results

    return run


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The demo data of every app (``core.demo``), seeded once per test module, in a transaction
    rolled back after the module. Each test (``db``) runs in a savepoint inside it, so whatever a
    test changes is undone before the next, and the seeding (seconds) is paid once, not per test."""
    from django.db import transaction

    from core.demo import demo_seeders

    with django_db_blocker.unblock(), transaction.atomic():
        for _label, seeder in demo_seeders():
            seeder(io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def officer(db, django_user_model) -> Callable[[str], Any]:
    from django.contrib.auth.models import Group

    def make(group_name: str, username: str | None = None):
        user = django_user_model.objects.create_user(
            username=username or group_name.lower().replace(" ", "_"), password="officer-pass-123", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group_name))
        return user

    return make


@pytest.fixture
def _browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: the test command installs Debian's 'chromium'.")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
    # Playwright's sync API runs an event loop in this thread while it is open: one browser
    # per test keeps that loop from leaking into the tests that follow.


@pytest.fixture
def browser_page(_browser):
    context = _browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def admin_login(browser_page, live_server) -> Callable[[str, str], Any]:
    """Log in to the admin in the browser: ``admin_login(username, password)`` → page."""

    def login(username: str, password: str):
        page = browser_page
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")
        return page

    return login
