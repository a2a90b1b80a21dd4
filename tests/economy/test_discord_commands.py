"""The Discord module: command tree shape, and callbacks through to the services."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from bot.runner import GuildOpsBot
from economy import automod, discord_commands
from economy.models import AutoModRule, ModerationCase, Squad, SquadMembership
from tests.discord_objects import DiscordHarness, assert_acknowledged_once
from tests.economy.conftest import ALICE, BOB, GUILD, balance_of, make_balance
from tests.fakes.discord_api import AUTOCOMPLETE_RESULT, MODAL
from tests.fakes.discord_gateway import MODERATE_MEMBERS, Guild, Member

pytestmark = pytest.mark.django_db


MOD_ROLE = 333_000_000_000_000_009
ALICE_M = Member(ALICE, "alice")
BOB_M = Member(BOB, "bob")
MOD = Member(999, "mod", roles=[MOD_ROLE])


def economy_guild() -> Guild:
    guild = Guild(GUILD)
    guild.add_channel(77, "general")
    guild.add_role(MOD_ROLE, "Moderators", MODERATE_MEMBERS)
    for member in (ALICE_M, BOB_M, MOD):
        guild.add_member(member)
    return guild


@pytest.fixture
def harness(fake_discord):
    return DiscordHarness(fake_discord, economy_guild(), discord_commands.setup)


def run(harness, command_path, options=None, *, by=ALICE_M):
    """Invoke a slash command as Discord sends it (``by`` a member, with ``options``); the one
    answer's text (or its embed's description)."""
    result = harness.interact(harness.payloads.slash(command_path, options, member=by))
    assert_acknowledged_once(result)
    return result.text


def bot_tree():
    bot = GuildOpsBot()
    discord_commands.setup(bot)
    return bot


def test_setup_registers_a_valid_tree():
    bot = bot_tree()
    tree = bot.tree
    names = {c.name for c in tree.get_commands()}
    assert {"bytes", "squads", "warn", "timeout", "cases"} <= names
    assert {c.name for c in tree.get_commands(type=discord.AppCommandType.user)} == {"Send Bytes"}
    assert {c.name for c in tree.get_commands(type=discord.AppCommandType.message)} == {"Send Bytes"}
    assert {c.name for c in tree.get_command("bytes").commands} == {"balance", "send", "daily", "leaderboard",
                                                                    "history", "info"}
    assert {c.name for c in tree.get_command("squads").commands} == {"list", "join", "leave", "info", "members"}
    for command in tree.walk_commands():
        assert len(command.name) <= 32 and command.name == command.name.lower()
        assert 1 <= len(command.description) <= 100
        if isinstance(command, app_commands.Command):
            assert len(command.parameters) <= 25
    assert any(getattr(listener, "__module__", "") == "economy.discord_commands"
               for listener in bot.extra_events["on_message"])


def test_bytes_commands(config, harness):
    make_balance(ALICE, 100)
    assert "**100** bytes" in run(harness, "bytes balance")
    text = run(harness, "bytes send", {"member": BOB_M, "amount": 30, "reason": "gg"})
    assert text == "<@222000000000000001> sent **30** bytes to <@222000000000000002> — gg"
    assert balance_of(BOB).balance == 30
    too_much = run(harness, "bytes send", {"member": BOB_M, "amount": 1000})
    assert too_much == "You can send at most 500 bytes at once."
    assert "+**10** bytes! Streak: **1**" in run(harness, "bytes daily")
    assert "already claimed" in run(harness, "bytes daily")
    assert "**1.** <@222000000000000001> — 80" in run(harness, "bytes leaderboard")
    history = run(harness, "bytes history")
    assert "-30 bob — gg" in history and "+10 Daily reward" in history
    assert "Max transfer: **500**" in run(harness, "bytes info")


def open_send_bytes_modal(harness, payload) -> tuple[str, dict[str, str]]:
    """The context menu answers with a modal (callback type 9); its custom id and its text
    inputs' custom ids by label, as Discord received them."""
    result = harness.interact(payload)
    assert_acknowledged_once(result)
    assert result.callback.type == MODAL
    modal = result.callback.data
    inputs = {}
    stack = list(modal["components"])
    while stack:
        component = stack.pop()
        stack.extend(component.get("components", []))
        if "component" in component:  # a Label wrapping its input
            stack.append({**component["component"], "label": component.get("label")})
        if component.get("type") == 4:
            inputs[component["label"]] = component["custom_id"]
    return modal["custom_id"], inputs


def test_send_bytes_context_menus_open_a_modal_that_transfers(config, harness):
    make_balance(ALICE, 50)
    post = harness.payloads.message_json(BOB_M, "a nice post")
    custom_id, inputs = open_send_bytes_modal(
        harness, harness.payloads.message_command("Send Bytes", post, member=ALICE_M))
    assert set(inputs) == {"Amount", "Reason"}
    submit = harness.payloads.modal_submit(custom_id, {inputs["Amount"]: "20", inputs["Reason"]: "nice post"},
                                           member=ALICE_M)
    result = harness.interact(submit)
    assert_acknowledged_once(result)
    assert "sent **20** bytes" in result.text and "nice post" in result.text and not result.ephemeral
    assert balance_of(BOB).balance == 20
    custom_id, inputs = open_send_bytes_modal(harness, harness.payloads.user_command("Send Bytes", BOB_M,
                                                                                     member=ALICE_M))
    bad = harness.payloads.modal_submit(custom_id, {inputs["Amount"]: "lots", inputs["Reason"]: ""}, member=ALICE_M)
    assert harness.ask(bad) == "The amount must be a whole number of bytes."
    assert balance_of(BOB).balance == 20


def test_squad_commands(config, harness):
    Squad.objects.create(guild_id=GUILD, role_id=5, name="Red", description="The reds")
    assert "**Red** <@&5> — 0 members" in run(harness, "squads list")
    assert run(harness, "squads join", {"name": "red"}) == "You joined **Red**."
    assert "already in Red" in run(harness, "squads join", {"name": "Red"})
    assert run(harness, "squads members", {"name": "Red"}) == "**Red**: <@222000000000000001>"
    assert "The reds" in run(harness, "squads info", {"name": "Red"})
    assert run(harness, "squads leave") == "You left **Red**."
    assert not SquadMembership.objects.exists()
    assert "no squad called Blue" in run(harness, "squads join", {"name": "Blue"})


def test_moderator_commands(harness):
    text = run(harness, "warn", {"member": BOB_M, "reason": "spamming"}, by=MOD)
    assert "warn <@222000000000000002> — spamming" in text
    text = run(harness, "timeout", {"member": BOB_M, "minutes": 10, "reason": "cool down"}, by=MOD)
    assert "timeout <@222000000000000002>" in text
    assert ModerationCase.objects.filter(user_id=BOB).count() == 2
    listing = run(harness, "cases", {"member": BOB_M}, by=MOD)
    assert "Warn — spamming" in listing and "Timeout — cool down" in listing
    assert "needs a reason" in run(harness, "warn", {"member": BOB_M, "reason": " "}, by=MOD)


def test_on_message_listener_applies_automod(harness):
    automod.SPAM_WINDOW.clear()
    AutoModRule.objects.create(guild_id=GUILD, rule_type="invites", config={}, action="warn")
    spam = harness.payloads.message_create(ALICE_M, "join discord.gg/spam", channel_id=77)
    harness.event("MESSAGE_CREATE", spam)
    case = ModerationCase.objects.get()
    assert (case.message_id, case.action, case.moderator_tag) == (int(spam["id"]), "warn", "AutoMod")
    harness.event("MESSAGE_CREATE", harness.payloads.message_create(ALICE_M, "hello", channel_id=77))
    harness.event("MESSAGE_CREATE", harness.payloads.message_create(harness.payloads.bot, "discord.gg/x",
                                                                    channel_id=77))
    assert ModerationCase.objects.count() == 1


def test_squad_name_autocomplete(harness):
    for i, name in enumerate(["Red", "Redwood", "Blue"]):
        Squad.objects.create(guild_id=GUILD, role_id=i + 1, name=name)
    result = harness.interact(harness.payloads.slash("squads join", {"name": "red"}, member=ALICE_M, focused="name"))
    assert_acknowledged_once(result)
    assert result.callback.type == AUTOCOMPLETE_RESULT
    assert [c["value"] for c in result.callback.data["choices"]] == ["Red", "Redwood"]
