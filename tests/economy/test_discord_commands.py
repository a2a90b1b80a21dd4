"""The Discord module: command tree shape, and callbacks through to the services."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import discord
import pytest
from asgiref.sync import async_to_sync
from discord import app_commands
from django.utils import timezone

from bot.runner import GuildOpsBot
from economy import automod, discord_commands
from economy.models import AutoModRule, ModerationCase, Squad, SquadMembership
from tests.economy.conftest import ALICE, BOB, GUILD, balance_of, make_balance

pytestmark = pytest.mark.django_db


class Response:
    def __init__(self) -> None:
        self.sent: list[tuple[str | None, dict]] = []
        self.modal = None

    async def send_message(self, content=None, **kwargs):
        self.sent.append((content, kwargs))

    async def send_modal(self, modal):
        self.modal = modal


def person(user_id, name):
    return SimpleNamespace(id=user_id, name=name, display_name=name, mention=f"<@{user_id}>", bot=False, roles=[],
                           __str__=lambda self: name)


def interaction(user_id=ALICE, name="alice"):
    return SimpleNamespace(guild_id=GUILD, user=person(user_id, name), response=Response())


def run(command_path, inter, **kwargs):
    group, _, sub = command_path.partition(" ")
    command = bot_tree().get_command(group)
    if sub:
        command = command.get_command(sub)
    async_to_sync(command.callback)(inter, **kwargs)
    [(content, extra)] = inter.response.sent
    return content if content is not None else extra["embed"].description


_BOT = None


def bot_tree():
    global _BOT
    if _BOT is None:
        _BOT = GuildOpsBot()
        discord_commands.setup(_BOT)
    return _BOT.tree


def test_setup_registers_a_valid_tree():
    tree = bot_tree()
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
               for listener in _BOT.extra_events["on_message"])


def test_bytes_commands(config):
    make_balance(ALICE, 100)
    assert "**100** bytes" in run("bytes balance", interaction())
    bob = person(BOB, "bob")
    text = run("bytes send", interaction(), member=bob, amount=30, reason="gg")
    assert text == "<@222000000000000001> sent **30** bytes to <@222000000000000002> — gg"
    assert balance_of(BOB).balance == 30
    assert run("bytes send", interaction(), member=bob, amount=1000) == "You can send at most 500 bytes at once."
    assert "+**10** bytes! Streak: **1**" in run("bytes daily", interaction())
    assert "already claimed" in run("bytes daily", interaction())
    assert "**1.** <@222000000000000001> — 80" in run("bytes leaderboard", interaction())
    history = run("bytes history", interaction())
    assert "-30 bob — gg" in history and "+10 Daily reward" in history
    assert "Max transfer: **500**" in run("bytes info", interaction())


def test_send_bytes_context_menu_opens_a_modal_that_transfers(config):
    make_balance(ALICE, 50)
    inter = interaction()
    menu = bot_tree().get_command("Send Bytes", type=discord.AppCommandType.message)
    message = SimpleNamespace(author=person(BOB, "bob"))
    async_to_sync(menu.callback)(inter, message)
    modal = inter.response.modal
    modal.amount._value, modal.reason._value = "20", "nice post"
    submit = interaction()
    async_to_sync(modal.on_submit)(submit)
    assert "sent **20** bytes" in submit.response.sent[0][0]
    assert balance_of(BOB).balance == 20
    modal.amount._value = "lots"
    bad = interaction()
    async_to_sync(modal.on_submit)(bad)
    assert bad.response.sent[0][0] == "The amount must be a whole number of bytes."


def test_squad_commands(config):
    Squad.objects.create(guild_id=GUILD, role_id=5, name="Red", description="The reds")
    assert "**Red** <@&5> — 0 members" in run("squads list", interaction())
    assert run("squads join", interaction(), name="red") == "You joined **Red**."
    assert "already in Red" in run("squads join", interaction(), name="Red")
    assert run("squads members", interaction(), name="Red") == "**Red**: <@222000000000000001>"
    assert "The reds" in run("squads info", interaction(), name="Red")
    assert run("squads leave", interaction()) == "You left **Red**."
    assert not SquadMembership.objects.exists()
    assert "no squad called Blue" in run("squads join", interaction(), name="Blue")


def test_moderator_commands():
    mod = interaction(999, "mod")
    target = person(BOB, "bob")
    assert "warn <@222000000000000002> — spamming" in run("warn", mod, member=target, reason="spamming")
    assert "timeout <@222000000000000002>" in run("timeout", interaction(999, "mod"), member=target, minutes=10,
                                                  reason="cool down")
    assert ModerationCase.objects.filter(user_id=BOB).count() == 2
    listing = run("cases", interaction(999, "mod"), member=target)
    assert "Warn — spamming" in listing and "Timeout — cool down" in listing
    assert "needs a reason" in run("warn", interaction(999, "mod"), member=target, reason=" ")


def test_on_message_listener_applies_automod():
    automod.SPAM_WINDOW.clear()
    AutoModRule.objects.create(guild_id=GUILD, rule_type="invites", config={}, action="warn")
    author = person(ALICE, "alice")
    message = SimpleNamespace(guild=SimpleNamespace(id=GUILD), author=author, channel=SimpleNamespace(id=77),
                              content="join discord.gg/spam", mentions=[], created_at=timezone.now(), id=4321)
    async_to_sync(discord_commands.on_message)(message)
    case = ModerationCase.objects.get()
    assert (case.message_id, case.action, case.moderator_tag) == (4321, "warn", "AutoMod")
    message.id, message.content, message.created_at = 4322, "hello", timezone.now() + dt.timedelta(seconds=1)
    async_to_sync(discord_commands.on_message)(message)
    bot_author = SimpleNamespace(**{**vars(author), "bot": True})
    async_to_sync(discord_commands.on_message)(SimpleNamespace(**{**vars(message), "author": bot_author, "id": 1,
                                                                  "content": "discord.gg/x"}))
    assert ModerationCase.objects.count() == 1


def test_squad_name_autocomplete():
    for i, name in enumerate(["Red", "Redwood", "Blue"]):
        Squad.objects.create(guild_id=GUILD, role_id=i + 1, name=name)
    choices = async_to_sync(discord_commands.squad_names)(interaction(), "red")
    assert [c.value for c in choices] == ["Red", "Redwood"]
