"""The end-to-end bot: one ``manage.py runbot`` process per test module (tests/bot/test_e2e_*.py),
against the fake gateway and REST API, on the test database.

Test data must be committed for the bot process to see it: e2e tests use
``@pytest.mark.django_db(transaction=True)``.
"""

from __future__ import annotations

import pytest

from tests.factories import BOT_ARK_ROLE as ARK_ROLE
from tests.factories import BOT_GENERAL as GENERAL
from tests.factories import BOT_GUILD_ID as GUILD_ID
from tests.factories import BOT_MOD_ROLE as MOD_ROLE
from tests.factories import bot_guild, bot_people
from tests.fakes.bot_process import BotProcess

__all__ = ["ARK_ROLE", "GENERAL", "GUILD_ID", "MOD_ROLE", "People"]

People = bot_people()


@pytest.fixture(scope="module")
def bot(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    guild = bot_guild(vars(People).values())
    process = BotProcess(guild, url, env={"ARK_OFFICER_ROLE_ID": str(ARK_ROLE)}).start()
    yield process
    code = process.stop()
    assert code == 0, process.log()[-3000:]
    assert_every_interaction_acknowledged_once(process)


def assert_every_interaction_acknowledged_once(process: BotProcess) -> None:
    """After a module: each interaction dispatched got exactly one callback (an answer, a
    deferral, an autocomplete result or a modal), before any edit or follow-up of it. Counted
    and ordered, not timed: Discord's 3-second deadline is measured by bench/bot_burst.py."""
    rest = process.rest
    with rest.lock:
        issued = dict(rest.interactions)
        answers = list(rest.answers)
    for token in issued:
        kinds = [a.kind for a in answers if a.token == token]
        assert kinds.count("callback") == 1, (token, kinds)
        assert kinds[0] == "callback", (token, kinds)
