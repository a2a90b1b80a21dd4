"""The economy and raids commands test_e2e_apps.py leaves out, through ``manage.py runbot``
(one process for this module) with real gateway payloads: ``/bytes history`` and ``info``,
every ``/squads`` subcommand and its autocompletes, ``/timeout`` and ``/cases``, and
``/raid roster`` (issue #10)."""

from __future__ import annotations

import pytest

from tests.bot.conftest import People
from tests.fakes.discord_api import AUTOCOMPLETE_RESULT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_bytes_history_and_info(bot):
    from economy.models import BytesTransaction

    gw = bot.gateway
    result = bot.ask(gw.slash("bytes history", member=People.bob))
    assert result.ephemeral and result.text == "No movements yet.", result
    bot.ask(gw.slash("bytes daily", member=People.bob))
    daily = BytesTransaction.objects.filter(receiver_id=People.bob.id).latest("created_at")
    result = bot.ask(gw.slash("bytes history", member=People.bob))
    assert result.ephemeral and f"+{daily.amount:,}" in result.text, result
    result = bot.ask(gw.slash("bytes info", member=People.bob))
    assert result.ephemeral and result.text.startswith("Daily: **"), result


def test_squads_list_info_members_and_leave(bot):
    from economy.models import Squad, SquadMembership

    gw = bot.gateway
    guild = gw.guild.id
    result = bot.ask(gw.slash("squads list", member=People.alice))
    assert result.text == "No squads yet.", result
    red = Squad.objects.create(guild_id=guild, role_id=5, name="Red", description="The red team")
    Squad.objects.create(guild_id=guild, role_id=6, name="Blue")
    for result in (bot.ask(gw.slash("squads info", {"name": "bl"}, member=People.alice, focused="name")),
                   bot.ask(gw.slash("squads members", {"name": "bl"}, member=People.alice, focused="name"))):
        assert result.callback.type == AUTOCOMPLETE_RESULT
        assert [c["value"] for c in result.callback.data["choices"]] == ["Blue"], result
    result = bot.ask(gw.slash("squads info", {"name": "Red"}, member=People.alice))
    assert result.text == "The red team", result
    bot.ask(gw.slash("squads join", {"name": "Red"}, member=People.alice))
    assert SquadMembership.objects.filter(squad=red, user_id=People.alice.id).exists()
    result = bot.ask(gw.slash("squads members", {"name": "Red"}, member=People.bob))
    assert result.text == f"**Red**: <@{People.alice.id}>", result
    result = bot.ask(gw.slash("squads list", member=People.bob))
    assert "**Blue** <@&6> — 0" in result.text and "**Red** <@&5> — 1" in result.text, result
    result = bot.ask(gw.slash("squads leave", member=People.alice))
    assert result.text == "You left **Red**.", result
    assert not SquadMembership.objects.filter(user_id=People.alice.id).exists()
    result = bot.ask(gw.slash("squads leave", member=People.alice))
    assert result.ephemeral and "**" not in result.text, result


def test_timeout_and_cases(bot):
    from economy.models import ModerationCase

    gw = bot.gateway
    result = bot.ask(gw.slash("cases", {"member": People.bob}, member=People.moderator))
    assert result.text.endswith("has no cases."), result
    result = bot.ask(gw.slash("timeout", {"member": People.bob, "minutes": 10, "reason": "flooding"},
                              member=People.moderator))
    case = ModerationCase.objects.get(user_id=People.bob.id)
    assert result.text.startswith(f"Case `{str(case.pk)[:8]}`:") and "flooding" in result.text, result
    assert case.action == "timeout" and case.expires_at is not None and case.moderator_id == People.moderator.id
    result = bot.ask(gw.slash("cases", {"member": People.bob}, member=People.moderator))
    assert result.text.startswith(f"`{str(case.pk)[:8]}` <t:") and "flooding" in result.text, result


def test_raid_roster_without_a_raid(bot):
    gw = bot.gateway
    result = bot.ask(gw.slash("raid roster", member=People.alice))
    assert result.ephemeral and result.text == "No raid is scheduled yet.", result


def test_moderation_and_officer_lookups_are_hidden_from_members_by_discord(bot):
    """/warn, /timeout, /cases and /guild are refused by Discord itself to members without the
    permission (``default_member_permissions`` of the synced command, which the bot does not
    re-check): what the bot registered with the fake Discord is what Discord would enforce."""
    from tests.bot.conftest import GUILD_ID
    from tests.fakes.discord_gateway import MANAGE_ROLES, MODERATE_MEMBERS

    with bot.rest.lock:
        synced = {c["name"]: c for c in bot.rest.commands[str(GUILD_ID)]}
    wanted = {"warn": MODERATE_MEMBERS, "timeout": MODERATE_MEMBERS, "cases": MODERATE_MEMBERS,
              "guild": MANAGE_ROLES}
    assert {name: int(synced[name]["default_member_permissions"]) for name in wanted} == wanted
    assert synced["bytes"].get("default_member_permissions") is None
    assert synced["ark"].get("default_member_permissions") is None  # officer checks are the bot's own
