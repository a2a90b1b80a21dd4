"""/ratmas: the command tree as Discord will see it, and the callbacks' service paths."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bot.runner import GuildOpsBot
from ratmas import discord_commands, services
from ratmas.models import Event, Exclusion, Pairing
from tests.discord_objects import DiscordHarness
from tests.fakes.discord_gateway import MANAGE_GUILD, Guild, Member, RoleRef
from tests.ratmas.conftest import GUILD, ROLE, uid

pytestmark = pytest.mark.django_db
MANAGER_ROLE = 999


MANAGE_SERVER_ROLE = 998
OPTIONS = {"open": ("signup_deadline", "purchase_deadline", "reveal_date"), "wishlist": ("url",),
           "exclude": ("giver", "receiver"), "message-recipient": ("text",), "message-santa": ("text",)}


def user(i: int, *, manage: bool = False, roles: tuple[int, ...] = ()) -> Member:
    """Participant ``i`` ("Player i") as a guild member; ``manage``: holds Manage Server."""
    return Member(uid(i), f"p{i}", global_name=f"Player {i}", roles=[*roles, *([MANAGE_SERVER_ROLE] * manage)])


@pytest.fixture
def harness(fake_discord):
    """The bot with /ratmas in a guild where players 1, 2 and 5 hold the participant role."""
    guild = Guild(GUILD)
    guild.add_channel(4242, "ratmas")
    guild.add_role(ROLE, "ratmas")
    guild.add_role(MANAGER_ROLE, "Ratmas organisers")
    guild.add_role(MANAGE_SERVER_ROLE, "Officers", MANAGE_GUILD)
    for i in range(1, 10):
        guild.add_member(user(i, roles=(ROLE,) if i in (1, 2, 5) else ()))
    return DiscordHarness(fake_discord, guild, discord_commands.setup)


def call(harness, name: str, member: Member, *args, **options) -> str:
    """``/ratmas <name>`` by ``member`` as Discord sends it (positional ``args`` are the
    command's leading options); every answer is ephemeral."""
    options = {**dict(zip(OPTIONS.get(name, ()), args, strict=False)), **options}
    return harness.ask(harness.payloads.slash(f"ratmas {name}", options, member=member))


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


def test_member_and_organiser_flow(harness, fake_discord, deliver_outbox):
    assert "no Ratmas in progress" in call(harness, "status", user(1))
    now = timezone.now()
    when = [(now + dt.timedelta(days=d)).strftime("%Y-%m-%d %H:%M") for d in (5, 10, 12)]
    assert "Manage Server" in call(harness, "open", user(1), *when)
    text = call(harness, "open", user(1, manage=True), *when, time_zone="Europe/Berlin", budget="10 EUR",
                managing_role=RoleRef(MANAGER_ROLE), participant_role=RoleRef(ROLE))
    assert "created" in text
    event = Event.objects.get(guild_id=GUILD)
    assert (event.timezone, event.managing_role_id, event.announcement_channel_id) == ("Europe/Berlin", MANAGER_ROLE,
                                                                                      4242)
    for i in (1, 2, 3, 4):
        assert "You're in" in call(harness, "join", user(i), wishlist=f"https://w.example/{i}")
    assert "already joined" in call(harness, "join", user(1))
    assert "http:// or https://" in call(harness, "wishlist", user(1), "nope")
    assert "cleared" in call(harness, "wishlist", user(4))
    assert "left" in call(harness, "leave", user(4))

    # role sync: in the server's member list 5 has the role, 3 does not
    text = call(harness, "sync", user(9, roles=(MANAGER_ROLE,)))
    assert "1 added, 1 removed" in text and "Player 5" in text and "Player 3" in text
    assert "Only Ratmas organisers" in call(harness, "lock", user(2))
    assert "exclusion" in call(harness, "exclude", user(9, roles=(MANAGER_ROLE,)), user(1), user(2)).lower()
    assert Exclusion.objects.filter(event=event).count() == 1
    assert "Signups locked" in call(harness, "lock", user(9, manage=True))
    assert "A valid draw exists: 3 Santas" in call(harness, "match", user(9, manage=True), dry_run=True)
    assert not Pairing.objects.exists()
    text = call(harness, "match", user(9, manage=True))
    assert "Pairings drawn" in text and "Player" not in text  # organisers never see who draws whom
    assert "3 DM(s) queued" in call(harness, "notify", user(9, manage=True))
    deliver_outbox()
    mine = Pairing.objects.select_related("recipient").get(santa__user_id=uid(1))
    assert f"You give to **{mine.recipient.display_name}**" in call(harness, "status", user(1))
    assert "Sent anonymously" in call(harness, "message-recipient", user(1), "hello from your santa")
    assert "Sent to your Secret Santa" in call(harness, "message-santa", user(1), "thanks!")
    assert "Ratmas completed" in call(harness, "complete", user(9, manage=True))
    assert "no Ratmas in progress" in call(harness, "cancel", user(9, manage=True))


def test_open_reopens_locked_signups_and_cancel(harness, make_event):
    event = make_event(3, status="locked", managing_role_id=MANAGER_ROLE)
    assert "open again" in call(harness, "open", user(9, roles=(MANAGER_ROLE,)))
    assert Event.objects.get(pk=event.pk).status == "open"
    assert "cancelled" in call(harness, "cancel", user(9, roles=(MANAGER_ROLE,)))
    assert services.get_active_event(GUILD) is None


def test_organiser_errors_are_shown_as_is(harness, make_event):
    manager = user(9, manage=True)
    assert "Give the signup deadline" in call(harness, "open", manager, "2030-01-01 10:00")
    assert "YYYY-MM-DD HH:MM" in call(harness, "open", manager, "tomorrow", "2030-01-02 10:00", "2030-01-03 10:00")
    assert "not a time zone" in call(harness, "open", manager, "2030-01-01 10:00", "2030-01-02 10:00",
                                     "2030-01-03 10:00", time_zone="Moon/Base")
    event = make_event(3)
    assert "no participant role" in call(harness, "sync", manager)
    for a, b in ((1, 2), (1, 3)):
        services.add_exclusion(event, uid(a), uid(b))
    services.set_status(event, "locked")
    assert "Player 1 cannot give to anyone" in call(harness, "match", manager)
    assert "Cannot notify Santas" in call(harness, "notify", manager)
    assert "once the pairings are drawn" in call(harness, "message-recipient", user(7), "hi")
