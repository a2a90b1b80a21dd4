"""/ratmas: the command tree as Discord will see it, and the callbacks' service paths."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

import discord
import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from bot.runner import GuildOpsBot
from ratmas import discord_commands, services
from ratmas.models import Event, Exclusion, Pairing
from tests.ratmas.conftest import GUILD, ROLE, uid

pytestmark = pytest.mark.django_db
MANAGER_ROLE = 999


@dataclass
class Response:
    sent: list[tuple[str, bool]] = field(default_factory=list)

    async def send_message(self, content: str, ephemeral: bool = False) -> None:
        self.sent.append((content, ephemeral))


def user(i: int, *, manage: bool = False, roles: tuple[int, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(id=uid(i), display_name=f"Player {i}", bot=False, name=f"p{i}",
                           guild_permissions=discord.Permissions(manage_guild=manage),
                           roles=[SimpleNamespace(id=r) for r in roles])


def interaction(member: SimpleNamespace, guild_members: list | None = None) -> SimpleNamespace:
    role = SimpleNamespace(id=ROLE, name="ratmas", members=guild_members or [])
    guild = SimpleNamespace(id=GUILD, get_role=lambda rid: role if rid == ROLE else None)
    return SimpleNamespace(guild_id=GUILD, guild=guild, channel_id=4242, user=member, response=Response())


@pytest.fixture
def group():
    return discord_commands.build_group()


def call(group, name: str, member, *args, guild_members=None, **kwargs) -> str:
    inter = interaction(member, guild_members)
    async_to_sync(group.get_command(name).callback)(inter, *args, **kwargs)
    [(text, ephemeral)] = inter.response.sent
    assert ephemeral
    return text


def test_setup_registers_a_valid_tree():
    bot = GuildOpsBot()
    discord_commands.setup(bot)
    ratmas = bot.tree.get_command("ratmas")
    names = {c.name for c in ratmas.commands}
    assert names == {"status", "join", "leave", "wishlist", "message-recipient", "message-santa", "open", "lock",
                     "match", "notify", "complete", "cancel", "exclude", "sync"}
    assert len(ratmas.commands) <= 25
    for command in ratmas.commands:
        payload = command.to_dict(bot.tree)
        assert 1 <= len(payload["name"]) <= 32 and payload["name"] == payload["name"].lower()
        assert 1 <= len(payload["description"]) <= 100
        assert len(payload.get("options", [])) <= 25
        for option in payload.get("options", []):
            assert len(option["name"]) <= 32 and 1 <= len(option["description"]) <= 100


def test_member_and_organiser_flow(group, fake_discord, deliver_outbox):
    assert "no Ratmas in progress" in call(group, "status", user(1))
    now = timezone.now()
    when = [(now + dt.timedelta(days=d)).strftime("%Y-%m-%d %H:%M") for d in (5, 10, 12)]
    assert "Manage Server" in call(group, "open", user(1), *when)
    text = call(group, "open", user(1, manage=True), *when, time_zone="Europe/Berlin", budget="10 EUR",
                managing_role=SimpleNamespace(id=MANAGER_ROLE), participant_role=SimpleNamespace(id=ROLE))
    assert "created" in text
    event = Event.objects.get(guild_id=GUILD)
    assert (event.timezone, event.managing_role_id, event.announcement_channel_id) == ("Europe/Berlin", MANAGER_ROLE,
                                                                                      4242)
    for i in (1, 2, 3, 4):
        assert "You're in" in call(group, "join", user(i), wishlist=f"https://w.example/{i}")
    assert "already joined" in call(group, "join", user(1))
    assert "http:// or https://" in call(group, "wishlist", user(1), "nope")
    assert "cleared" in call(group, "wishlist", user(4))
    assert "left" in call(group, "leave", user(4))

    # role sync: member 5 has the role, 3 lost it
    text = call(group, "sync", user(9, roles=(MANAGER_ROLE,)), guild_members=[user(1), user(2), user(5)])
    assert "1 added, 1 removed" in text and "Player 5" in text and "Player 3" in text
    assert "Only Ratmas organisers" in call(group, "lock", user(2))
    assert "exclusion" in call(group, "exclude", user(9, roles=(MANAGER_ROLE,)), user(1), user(2)).lower()
    assert Exclusion.objects.filter(event=event).count() == 1
    assert "Signups locked" in call(group, "lock", user(9, manage=True))
    assert "A valid draw exists: 3 Santas" in call(group, "match", user(9, manage=True), dry_run=True)
    assert not Pairing.objects.exists()
    text = call(group, "match", user(9, manage=True))
    assert "Pairings drawn" in text and "Player" not in text  # organisers never see who draws whom
    assert "3 DM(s) queued" in call(group, "notify", user(9, manage=True))
    deliver_outbox()
    mine = Pairing.objects.select_related("recipient").get(santa__user_id=uid(1))
    assert f"You give to **{mine.recipient.display_name}**" in call(group, "status", user(1))
    assert "Sent anonymously" in call(group, "message-recipient", user(1), "hello from your santa")
    assert "Sent to your Secret Santa" in call(group, "message-santa", user(1), "thanks!")
    assert "Ratmas completed" in call(group, "complete", user(9, manage=True))
    assert "no Ratmas in progress" in call(group, "cancel", user(9, manage=True))


def test_open_reopens_locked_signups_and_cancel(group, make_event):
    event = make_event(3, status="locked", managing_role_id=MANAGER_ROLE)
    assert "open again" in call(group, "open", user(9, roles=(MANAGER_ROLE,)))
    assert Event.objects.get(pk=event.pk).status == "open"
    assert "cancelled" in call(group, "cancel", user(9, roles=(MANAGER_ROLE,)))
    assert services.get_active_event(GUILD) is None


def test_organiser_errors_are_shown_as_is(group, make_event):
    manager = user(9, manage=True)
    assert "Give the signup deadline" in call(group, "open", manager, "2030-01-01 10:00")
    assert "YYYY-MM-DD HH:MM" in call(group, "open", manager, "tomorrow", "2030-01-02 10:00", "2030-01-03 10:00")
    assert "not a time zone" in call(group, "open", manager, "2030-01-01 10:00", "2030-01-02 10:00",
                                     "2030-01-03 10:00", time_zone="Moon/Base")
    event = make_event(3)
    assert "no participant role" in call(group, "sync", manager)
    for a, b in ((1, 2), (1, 3)):
        services.add_exclusion(event, uid(a), uid(b))
    services.set_status(event, "locked")
    assert "Player 1 cannot give to anyone" in call(group, "match", manager)
    assert "Cannot notify Santas" in call(group, "notify", manager)
    assert "once the pairings are drawn" in call(group, "message-recipient", user(7), "hi")
