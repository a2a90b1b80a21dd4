"""Every app through the real bot: ``manage.py runbot`` as a process, real gateway payloads
from the fake gateway, answers read back from the fake REST API, state from the database.

Each app's slash commands (with options, subcommand groups, member options), buttons,
autocompletes, context menus, modals and gateway listeners run at least once; officer
commands are checked against real member payloads (role ids resolved against the guild's
roles, permission bits), both allowed and refused.
"""

from __future__ import annotations

import time

import pytest

from tests import factories
from tests.bot.conftest import ARK_ROLE, GENERAL, People
from tests.fakes.discord_api import AUTOCOMPLETE_RESULT, MODAL

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def eventually(check, timeout: float = 20.0):
    """For gateway listeners, which answer nobody: poll the database until ``check()`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def acked_then_answered(result) -> None:
    """Acknowledged and answered, the acknowledgement first (Discord's 3-second deadline is a
    wall-clock figure: bench/bot_burst.py measures it, under load)."""
    assert result.callback is not None and result.callback is result.answers[0], result
    assert result.answered_after is not None, result


# -- ark ----------------------------------------------------------------------------------------------
@pytest.fixture
def ark_match():
    from ark import services

    alliance = factories.bot_ark_alliance({1: People.alice, 2: People.bob, 3: People.moderator}, player_cap=2, sub_cap=1)
    services.save_calendar(alliance=alliance, slots=["Sat 12:00", "Sun 04:00"])
    return factories.ark_match(alliance)


def test_ark_slash_button_autocomplete_and_officer_checks(bot, ark_match):
    from ark.models import Governor, Match, Signup

    gw = bot.gateway
    # autocomplete of match_id: the typed digits
    result = bot.ask(gw.slash("ark signup", {"match_id": str(ark_match.pk)}, member=People.alice,
                              focused="match_id"))
    assert result.callback.type == AUTOCOMPLETE_RESULT
    choices = result.callback.data["choices"]
    assert choices[0]["value"] == ark_match.pk and choices[0]["name"].startswith(f"#{ark_match.pk} Osiris Guard")
    # slash command with an integer and a choice option
    result = bot.ask(gw.slash("ark signup", {"match_id": ark_match.pk, "slot": "Player"}, member=People.alice))
    acked_then_answered(result)
    assert result.ephemeral and "Gov1 is signed up as **Player**" in result.text
    # the registration message's button
    result = bot.ask(gw.button(f"ark:join_player:{ark_match.pk}", member=People.bob))
    acked_then_answered(result)
    assert "Gov2 is signed up as **Player**" in result.text
    result = bot.ask(gw.button(f"ark:join_player:{ark_match.pk}", member=People.moderator))
    assert result.text == "All 2 player slots are taken: join as Sub." and result.ephemeral
    assert Signup.objects.filter(match=ark_match, status="Active").count() == 2
    # a subcommand group with options
    result = bot.ask(gw.slash("ark governor register", {"governor_id": 42, "name": "Cleo"}, member=People.alice))
    assert result.text == "Registered Cleo (42)."
    assert Governor.objects.get(governor_id=42).discord_user_id == People.alice.id
    # officer command: refused to a plain member, allowed by role id and by Manage Server
    args = {"alliance": "Osiris Guard", "weekend": "2030-03-16", "slot": "Sat 12:00"}  # an Ark weekend
    result = bot.ask(gw.slash("ark create_match", args, member=People.alice))
    assert result.text == "Only Ark officers can do that." and result.ephemeral
    assert Match.objects.count() == 1
    result = bot.ask(gw.slash("ark create_match", args, member=People.ark_officer))
    assert result.text.startswith("Created"), result.text
    result = bot.ask(gw.slash("ark ban_list", member=People.officer))
    assert result.text == "No active bans."
    # autocomplete of alliance (officer command)
    result = bot.ask(gw.slash("ark create_match", {"alliance": "osi"}, member=People.officer, focused="alliance"))
    assert [c["value"] for c in result.callback.data["choices"]] == ["Osiris Guard"]
    # autocomplete of slot: only the chosen alliance's calendar slots
    result = bot.ask(gw.slash("ark create_match", {"alliance": "Osiris Guard", "slot": "sun"}, member=People.officer,
                              focused="slot"))
    assert [c["value"] for c in result.callback.data["choices"]] == ["Sun 04:00"]
    assert ARK_ROLE in People.ark_officer.roles


# -- economy ------------------------------------------------------------------------------------------
def test_economy_commands_context_menus_modal_and_automod(bot):
    from economy.models import AutoModRule, BytesBalance, ModerationCase, Squad

    gw = bot.gateway
    guild = gw.guild.id
    result = bot.ask(gw.slash("bytes balance", member=People.alice))
    acked_then_answered(result)
    assert "**Alice** has" in result.text and result.ephemeral
    start = BytesBalance.objects.get(guild_id=guild, user_id=People.alice.id).balance
    result = bot.ask(gw.slash("bytes daily", member=People.alice))
    assert "bytes! Streak: **1**" in result.text and not result.ephemeral
    # a member option (resolved user + member)
    result = bot.ask(gw.slash("bytes send", {"member": People.bob, "amount": 5, "reason": "gg"},
                              member=People.alice))
    assert f"<@{People.alice.id}> sent **5** bytes to <@{People.bob.id}> — gg" == result.text, result
    result = bot.ask(gw.slash("bytes leaderboard", member=People.bob))
    assert "Bytes leaderboard" in str(result.answers[-1].data) and not result.ephemeral
    # user context menu → modal → modal submit
    result = bot.ask(gw.user_command("Send Bytes", People.bob, member=People.alice))
    assert result.callback.type == MODAL
    modal = result.callback.data
    fields = [row["components"][0]["custom_id"] for row in modal["components"]]
    result = bot.ask(gw.modal_submit(modal["custom_id"], {fields[0]: "3", fields[1]: "thanks"},
                                     member=People.alice))
    assert "sent **3** bytes" in result.text, result
    # message context menu on bob's message
    message = gw.message_json(People.bob, "nice run")
    result = bot.ask(gw.message_command("Send Bytes", message, member=People.alice))
    assert result.callback.type == MODAL
    daily = BytesBalance.objects.get(guild_id=guild, user_id=People.alice.id).balance
    assert daily < start + 1000 and BytesBalance.objects.get(guild_id=guild, user_id=People.bob.id).balance > 0
    # squads: autocomplete and a command
    Squad.objects.create(guild_id=guild, role_id=5, name="Red")
    result = bot.ask(gw.slash("squads join", {"name": "re"}, member=People.alice, focused="name"))
    assert [c["value"] for c in result.callback.data["choices"]] == ["Red"]
    result = bot.ask(gw.slash("squads join", {"name": "Red"}, member=People.alice))
    assert result.text == "You joined **Red**."
    # moderation command (Moderate Members is Discord's default_permissions; the service records the case)
    result = bot.ask(gw.slash("warn", {"member": People.bob, "reason": "spam"}, member=People.moderator))
    assert "warn <@" in result.text and ModerationCase.objects.filter(user_id=People.bob.id).count() == 1
    # automod on MESSAGE_CREATE (gateway listener, its own lane)
    AutoModRule.objects.create(guild_id=guild, rule_type="invites", config={}, action="warn")
    gw.send(gw.message_create(People.bob, "join discord.gg/spam"))
    gw.send(gw.message_create(People.alice, "hello everyone"))
    case = eventually(lambda: ModerationCase.objects.filter(moderator_tag="AutoMod").first())
    assert case is not None and case.user_id == People.bob.id and case.action == "warn"


def test_economy_error_is_ephemeral_even_for_a_public_command(bot):
    gw = bot.gateway
    result = bot.ask(gw.slash("bytes send", {"member": People.bob, "amount": 10**6}, member=People.alice))
    acked_then_answered(result)
    assert result.ephemeral and "bytes" in result.text and "sent" not in result.text


# -- ratmas -------------------------------------------------------------------------------------------
def test_ratmas_open_join_and_organiser_check(bot):
    from ratmas.models import Event, Participant

    gw = bot.gateway
    result = bot.ask(gw.slash("ratmas open", {"signup_deadline": "2030-12-01 20:00",
                                              "purchase_deadline": "2030-12-15 20:00",
                                              "reveal_date": "2030-12-24 18:00"}, member=People.alice))
    assert result.text == "Starting a Ratmas needs the Manage Server permission." and result.ephemeral
    result = bot.ask(gw.slash("ratmas open", {"signup_deadline": "2030-12-01 20:00",
                                              "purchase_deadline": "2030-12-15 20:00",
                                              "reveal_date": "2030-12-24 18:00", "budget": "20 EUR"},
                              member=People.officer))
    acked_then_answered(result)
    assert result.text.startswith("🎄 Ratmas created"), result.text
    event = Event.objects.get()
    assert event.announcement_channel_id == GENERAL and event.guild_id == gw.guild.id
    result = bot.ask(gw.slash("ratmas join", {"wishlist": "https://example.org/list"}, member=People.bob))
    assert result.text.startswith("🎄 You're in!")
    assert Participant.objects.get(event=event).user_id == People.bob.id
    result = bot.ask(gw.slash("ratmas lock", member=People.bob))
    assert "Only Ratmas organisers" in result.text
    result = bot.ask(gw.slash("ratmas status", member=People.bob))
    assert result.text and result.ephemeral


# -- raids --------------------------------------------------------------------------------------------
def test_raid_commands(bot):
    gw = bot.gateway
    result = bot.ask(gw.slash("raid next", member=People.alice))
    acked_then_answered(result)
    assert result.text.startswith("No raid is booked yet.") and result.ephemeral
    result = bot.ask(gw.slash("raid attendance", member=People.alice))
    assert result.text == "There is no current raid season."


# -- guildsync ----------------------------------------------------------------------------------------
def test_guildsync_member_listeners_and_whois(bot):
    from guildsync.models import DiscordUser
    from tests.fakes.discord_gateway import Member

    gw = bot.gateway
    newcomer = Member(1_100_000_000_000_000_001, "newcomer", global_name="Newcomer")
    gw.dispatch("GUILD_MEMBER_ADD", gw.member_add(newcomer))
    row = eventually(lambda: DiscordUser.objects.filter(discord_id=newcomer.id).first())
    assert row is not None and row.username == "newcomer" and row.is_present
    newcomer.nick = "Renamed"
    gw.dispatch("GUILD_MEMBER_UPDATE", gw.member_update(newcomer))
    assert eventually(lambda: DiscordUser.objects.filter(discord_id=newcomer.id, display_name="Renamed").exists())
    result = bot.ask(gw.slash("guild whois", {"member": newcomer}, member=People.officer))
    acked_then_answered(result)
    assert "**Renamed**" in result.text and result.ephemeral
    gw.dispatch("GUILD_MEMBER_REMOVE", gw.member_remove(newcomer))
    assert eventually(lambda: DiscordUser.objects.filter(discord_id=newcomer.id, is_present=False).exists())
