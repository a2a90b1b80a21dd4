"""The /ark command tree within Discord's limits, and the command/button bodies calling services."""

from __future__ import annotations

import asyncio
import datetime as dt
from types import SimpleNamespace

import discord
import pytest
from asgiref.sync import sync_to_async
from discord import app_commands
from django.db import connections

from ark import discord_commands as dc
from ark.models import Ban, Match, ReminderPrefs, Signup
from ark.services import ArkError
from bot.runner import GuildOpsBot
from tests.ark.conftest import user

MEMBER_COMMANDS = {"signup", "withdraw", "checkin", "switch", "roster", "prefs", "governor"}
OFFICER_COMMANDS = {
    "create_match",
    "amend_match",
    "cancel_match",
    "ban_add",
    "ban_revoke",
    "ban_list",
    "set_result",
    "attendance",
}


def walk(group: app_commands.Group):
    yield group
    for cmd in group.commands:
        if isinstance(cmd, app_commands.Group):
            yield from walk(cmd)
        else:
            yield cmd


def test_setup_registers_the_ark_group_within_discord_limits():
    bot = GuildOpsBot()
    dc.setup(bot)
    ark = bot.tree.get_command("ark")
    assert {c.name for c in ark.commands} == MEMBER_COMMANDS | OFFICER_COMMANDS
    assert {c.name for c in ark.get_command("governor").commands} == {"register", "list"}
    for cmd in walk(ark):
        assert 1 <= len(cmd.name) <= 32 and cmd.name == cmd.name.lower(), cmd.name
        assert 1 <= len(cmd.description) <= 100, cmd.name
        if isinstance(cmd, app_commands.Group):
            assert len(cmd.commands) <= 25
        else:
            assert len(cmd.parameters) <= 25
            for p in cmd.parameters:
                assert 1 <= len(p.name) <= 32 and p.name == p.name.lower()
    payload = ark.to_dict(bot.tree)
    assert payload["name"] == "ark"
    assert "on_interaction" in {name for name, _ in bot.extra_events.items()}
    assert "ark" in bot.components.handlers


class FakeResponse:
    def __init__(self):
        self.sent: list[tuple[str, bool]] = []

    async def send_message(self, text, ephemeral=False):
        self.sent.append((text, ephemeral))


def interaction(user_id: int, *, officer: bool = False, custom_id: str | None = None):
    perms = discord.Permissions(manage_guild=officer)
    return SimpleNamespace(
        user=SimpleNamespace(id=user_id, guild_permissions=perms, roles=[]),
        response=FakeResponse(),
        type=discord.InteractionType.component,
        data={"custom_id": custom_id} if custom_id else {},
    )


@pytest.mark.django_db
def test_member_flow_through_command_bodies(match, governors, settings):
    assert "Registered Cleo" in dc.do_governor_register(user(20), 20, "Cleo")
    assert "Cleo (20)" in dc.do_governor_list(user(20))
    # buttons resolve the user's only free governor
    assert "signed up as **Player**" in dc.do_button(user(20), f"ark:join_player:{match.pk}")
    assert dc.do_button(user(20), "raids:join:1") is None
    # two governors: the button asks which one
    with pytest.raises(ArkError, match="several governors"):
        dc.do_button(user(1), f"ark:join_player:{match.pk}")
    assert "Player" in dc.do_signup(user(1), match.pk, governor_id=1)
    assert "Switched: Gov1-farm keeps the Player slot" in dc.do_button(user(1), f"ark:switch:{match.pk}")
    roster = dc.do_roster(match.pk)
    assert "Gov1-farm" in roster and "Cleo" in roster
    assert "left" in dc.do_button(user(20), f"ark:leave:{match.pk}")
    assert Signup.objects.get(governor__governor_id=20).status == "Withdrawn"
    assert "Reminder DMs are on" in dc.do_prefs(user(1), disable="4h")
    assert ReminderPrefs.objects.get(discord_user_id=user(1)).disabled_types == ["4h"]
    with pytest.raises(ArkError, match="Check-in opens"):
        dc.do_button(user(1), f"ark:checkin:{match.pk}")


@pytest.mark.django_db
def test_officer_flow_through_command_bodies(alliance, governors):
    from ark import services

    with pytest.raises(ArkError, match="no Ark calendar yet"):
        dc.do_create_match(1, "Osiris Guard", "2030-03-09", "Sat 12:00")
    services.save_calendar(alliance=alliance, slots=["Sat 12:00", "Sun 04:00"])
    assert [c.value for c in dc.slot_choices_for("Osiris Guard")] == ["Sat 12:00", "Sun 04:00"]
    assert [c.value for c in dc.slot_choices_for("Osiris Guard", "sun")] == ["Sun 04:00"]
    assert dc.slot_choices_for(None) == []
    with pytest.raises(ArkError, match="allowed: Sat 12:00, Sun 04:00"):
        dc.do_create_match(1, "Osiris Guard", "2030-03-09", "Sat 20:00")
    text = dc.do_create_match(1, "Osiris Guard", "2030-03-09", "Sun 04:00")
    match = Match.objects.get()
    assert "Created" in text and "<t:" in text
    assert (match.match_day, match.match_time_utc.hour, match.signup_close_utc.isoformat()) == (
        "Sun", 4, "2030-03-08T23:00:00+00:00"
    )
    assert "Amended" in dc.do_amend_match(1, match.pk, notes="Teleport at 11:50")
    assert "Ban #" in dc.do_ban_add(1, "afk", member_id=user(3), weekends=1)
    assert "afk" in dc.do_ban_list()
    assert "Revoked" in dc.do_ban_revoke(1, Ban.objects.get().pk)
    with pytest.raises(ArkError, match="not started"):
        dc.do_set_result(1, match.pk, "Win")
    assert "Cancelled" in dc.do_cancel_match(1, match.pk, "merge")
    with pytest.raises(ArkError, match="YYYY-MM-DD"):
        dc.do_create_match(1, "Osiris Guard", "next week", "Sat 12:00")


@pytest.mark.django_db(transaction=True)
def test_callbacks_answer_ephemerally_and_check_officers(alliance, governors):
    from ark import services

    services.save_calendar(alliance=alliance, slots=["Sat 12:00"], close_time_utc=dt.time(20, 0))
    bot = GuildOpsBot()
    dc.setup(bot)
    ark = bot.tree.get_command("ark")
    member = interaction(user(2))
    asyncio.run(
        ark.get_command("create_match").callback(
            member,
            "Osiris Guard",
            "2030-03-09",
            "Sat 12:00",
        )
    )
    assert member.response.sent == [("Only Ark officers can do that.", True)]
    officer = interaction(9, officer=True)
    asyncio.run(
        ark.get_command("create_match").callback(
            officer,
            "Osiris Guard",
            "2030-03-09",
            "Sat 12:00",
        )
    )
    assert officer.response.sent[0][0].startswith("Created") and officer.response.sent[0][1]
    match = Match.objects.get()
    click = interaction(user(2), custom_id=f"ark:join_sub:{match.pk}")
    asyncio.run(bot.components.on_interaction(click))
    assert click.response.sent == [("Player slots are still open (0/3): join as Player.", True)]
    click = interaction(user(2), custom_id=f"ark:join_player:{match.pk}")
    asyncio.run(bot.components.on_interaction(click))
    assert "signed up as **Player**" in click.response.sent[0][0]
    asyncio.run(sync_to_async(connections.close_all)())  # the worker thread's connection


@pytest.mark.django_db
def test_match_id_and_alliance_autocomplete(match, make_match, other_alliance):
    other = make_match(other_alliance)
    choices = dc.match_choices_for("")
    assert [c.value for c in choices] == [match.pk, other.pk]
    assert choices[0].name.startswith(f"#{match.pk} Osiris Guard · 2030-03-09 Sat 12:00 UTC")
    assert [c.value for c in dc.match_choices_for("nile")] == [other.pk]
    assert [c.value for c in dc.match_choices_for(f"#{other.pk}")] == [other.pk]
    assert [c.value for c in dc.match_choices_for(str(match.pk))] == [match.pk]
    assert [c.value for c in dc.match_choices_for("2030-03")] == [match.pk, other.pk]
    bot = GuildOpsBot()
    dc.setup(bot)
    ark = bot.tree.get_command("ark")
    for name in ("signup", "withdraw", "checkin", "switch", "roster", "amend_match", "cancel_match", "set_result"):
        assert ark.get_command(name)._params["match_id"].autocomplete is not None, name
    assert ark.get_command("create_match")._params["alliance"].autocomplete is not None


@pytest.mark.django_db(transaction=True)
def test_alliance_autocomplete_callback(alliance, other_alliance):
    choices = asyncio.run(dc.alliance_choices(interaction(1), "wol"))
    assert [c.value for c in choices] == ["Nile Wolves"]
    choices = asyncio.run(dc.match_choices(interaction(1), ""))
    assert choices == []
    asyncio.run(sync_to_async(connections.close_all)())


@pytest.mark.django_db
def test_confirmation_withdraw_button_is_an_emergency_withdraw(match, governors):
    from ark import services
    from ark.models import AuditLog
    from bot.models import OutboxMessage
    from tests.ark.conftest import NOW, sign

    for n in (2, 3, 4, 5):
        sign(match, n)
    services.lock_match(match_id=match.pk, now=NOW)
    ask = dc.do_button(user(2), f"ark:withdraw:{match.pk}")  # first an ephemeral "are you sure?"
    assert "Press the button to confirm" in ask.content and not AuditLog.objects.filter(action="emergency_withdraw")
    [button] = ask.view.children
    assert button.custom_id == f"ark:withdraw_confirm:{match.pk}"
    assert "Gov2 left" in dc.do_button(user(2), button.custom_id)
    assert AuditLog.objects.filter(action="emergency_withdraw").count() == 1
    assert OutboxMessage.objects.filter(topic="ark.withdraw_notice").count() == 1  # the officers are told
    assert OutboxMessage.objects.get(topic="ark.promoted").user_id == user(5)
    with pytest.raises(ArkError, match="not signed up"):
        dc.do_button(user(2), f"ark:withdraw_confirm:{match.pk}")


@pytest.mark.django_db
def test_attendance_command_records_and_shows_the_record(match, governors):
    from tests.ark.conftest import NOW, sign

    sign(match, 1)
    with pytest.raises(ArkError, match="once the match has started"):
        dc.do_attendance(1, match.pk, 1, "played")
    Match.objects.filter(pk=match.pk).update(match_time_utc=NOW.replace(year=2020), signup_close_utc=NOW.replace(year=2020))
    text = dc.do_attendance(1, match.pk, 1, "no_show")
    assert text.startswith("Gov1: **No-show**") and "0 played, 1 no-show, 0 excused of 1 signups" in text
