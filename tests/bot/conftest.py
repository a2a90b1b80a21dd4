"""The end-to-end bot: one ``manage.py runbot`` process per test module (tests/bot/test_e2e_*.py),
against the fake gateway and REST API, on the test database.

Test data must be committed for the bot process to see it: e2e tests use
``@pytest.mark.django_db(transaction=True)``.
"""

from __future__ import annotations

import pytest

from tests.fakes.bot_process import BotProcess
from tests.fakes.discord_gateway import MANAGE_GUILD, MANAGE_ROLES, MODERATE_MEMBERS, Guild, Member

GUILD_ID = 1_345_046_958_481_346_613
GENERAL = 1_345_046_959_593_095_214
OFFICER_ROLE = 1_345_046_958_481_346_619  # Manage Server
ARK_ROLE = 1_355_389_599_949_525_134  # ARK_OFFICER_ROLE_ID: no permission bit, officer by role
MOD_ROLE = 1_355_389_599_949_525_135  # Moderate Members
GUILD_OFFICER_ROLE = 1_355_389_599_949_525_136  # Manage Roles


def make_guild() -> Guild:
    guild = Guild(GUILD_ID)
    guild.add_channel(GENERAL, "general")
    guild.add_role(OFFICER_ROLE, "Officers", MANAGE_GUILD)
    guild.add_role(ARK_ROLE, "Ark officers")
    guild.add_role(MOD_ROLE, "Moderators", MODERATE_MEMBERS)
    guild.add_role(GUILD_OFFICER_ROLE, "Guild officers", MANAGE_ROLES)
    return guild


class People:
    officer = Member(1_034_315_047_838_687_264, "officer", roles=[OFFICER_ROLE], global_name="The Officer")
    ark_officer = Member(1_034_315_047_838_687_265, "arkofficer", roles=[ARK_ROLE])
    moderator = Member(1_034_315_047_838_687_266, "moderator", roles=[MOD_ROLE])
    alice = Member(1_034_315_047_838_687_267, "alice", global_name="Alice")
    bob = Member(1_034_315_047_838_687_268, "bob", nick="Bobby")


@pytest.fixture(scope="module")
def bot(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    guild = make_guild()
    for person in (People.officer, People.ark_officer, People.moderator, People.alice, People.bob):
        guild.add_member(person)
    process = BotProcess(guild, url, env={"ARK_OFFICER_ROLE_ID": str(ARK_ROLE)}).start()
    process.late_ok = set()
    yield process
    code = process.stop()
    assert code == 0, process.log()[-3000:]
    assert_every_interaction_acknowledged_in_time(process)


def assert_every_interaction_acknowledged_in_time(process: BotProcess) -> None:
    """After a module: each interaction dispatched got exactly one callback (an answer, a
    deferral, an autocomplete result or a modal), within Discord's 3 seconds of its dispatch
    unless the test said otherwise (sent while the bot was disconnected)."""
    rest = process.rest
    with rest.lock:
        issued = dict(rest.interactions)
        answers = list(rest.answers)
    for token, known in issued.items():
        callbacks = [a for a in answers if a.token == token and a.kind == "callback"]
        assert len(callbacks) == 1, (token, callbacks)
        if token not in process.late_ok:
            assert callbacks[0].at - known["dispatched_at"] < 3, (token, callbacks[0])
