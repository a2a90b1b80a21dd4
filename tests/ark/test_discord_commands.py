"""The /ark command tree within Discord's limits, and the command/button bodies calling services."""

from __future__ import annotations

import datetime as dt

import pytest
from discord import app_commands

from ark import discord_commands as dc
from ark.models import Ban, Match, ReminderPrefs, Signup
from ark.services import ArkError
from bot.interactions import STALE_BUTTON
from bot.runner import GuildOpsBot
from tests.ark.conftest import user
from tests.discord_objects import DiscordHarness, assert_acknowledged_once
from tests.factories import BOT_OFFICER_ROLE, bot_guild
from tests.fakes.discord_api import AUTOCOMPLETE_RESULT
from tests.fakes.discord_gateway import Member

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


@pytest.fixture
def harness(fake_discord):
    """The bot with the Ark module, in a guild whose officer holds Manage Server."""
    return DiscordHarness(fake_discord, bot_guild([OFFICER_MEMBER]), dc.setup)


OFFICER_MEMBER = Member(9, "officer", roles=[BOT_OFFICER_ROLE])


def member(n: int) -> Member:
    """Governor ``n``'s owner as a guild member without officer permissions."""
    return Member(user(n), f"gov{n}")


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


@pytest.mark.django_db
def test_callbacks_answer_ephemerally_and_check_officers(alliance, governors, harness):
    from ark import services

    services.save_calendar(alliance=alliance, slots=["Sat 12:00"], close_time_utc=dt.time(20, 0))
    options = {"alliance": "Osiris Guard", "weekend": "2030-03-09", "slot": "Sat 12:00"}
    slash = harness.payloads.slash
    assert harness.ask(slash("ark create_match", options, member=member(2))) == "Only Ark officers can do that."
    assert not Match.objects.exists()
    assert harness.ask(slash("ark create_match", options, member=OFFICER_MEMBER)).startswith("Created")
    match = Match.objects.get()
    press = harness.payloads.button
    text = harness.ask(press(f"ark:join_sub:{match.pk}", member=member(2)))
    assert text == "Player slots are still open (0/3): join as Player."
    assert "signed up as **Player**" in harness.ask(press(f"ark:join_player:{match.pk}", member=member(2)))
    assert harness.ask(press("ark:nonsense:1", member=member(2))) == STALE_BUTTON


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


@pytest.mark.django_db
def test_alliance_and_match_autocomplete_through_discord(alliance, other_alliance, harness):
    def suggestions(path, options, focused):
        result = harness.interact(harness.payloads.slash(path, options, member=member(1), focused=focused))
        assert_acknowledged_once(result)
        assert result.callback.type == AUTOCOMPLETE_RESULT
        return [c["value"] for c in result.callback.data["choices"]]

    assert suggestions("ark create_match", {"alliance": "wol"}, "alliance") == ["Nile Wolves"]
    assert suggestions("ark roster", {"match_id": ""}, "match_id") == []


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
