"""The objects tests build, built once: one factory per object, shared by every app's tests.

Style: plain functions with keyword defaults, no factory_boy. Half of these objects must be
built through the services (an Ark match and its signups, a Ratmas event moved through its
states), which factory_boy's field declarations cannot express without a custom ``_create`` per
factory; plain functions read the same for both kinds, carry type hints, need no dependency and
show at the call site what a test sets (``ark_match(alliance, day="Sun")``).

Each app's ``tests/<app>/conftest.py`` keeps its fixtures (``make_match``, ``make_player``,
``make_event``, ``make``...) and short names (``NOW``, ``sign``, ``uid``...) as thin wrappers
around these, so tests keep reading in their app's words. Models are imported inside the
functions: this module is imported by conftest files before Django is set up.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from ark.models import Alliance, Governor, Match
    from bot.models import OutboxMessage
    from economy.models import BytesBalance, BytesConfig, BytesTransaction, ModerationCase
    from guildsync.models import (
        AuditIssue,
        DiscordRole,
        DiscordUser,
        GuildRank,
        Player,
        Specialization,
        WowCharacter,
    )
    from raids.models import RaidEvent, RaidHelperSettings, RecurringEvent
    from ratmas.models import Event
    from tests.fakes.discord_gateway import Guild

_ids = itertools.count(1)


def next_id(base: int) -> int:
    """A fresh id above ``base``, unique in the session (Discord snowflakes that must not collide)."""
    return base + next(_ids)


# -- ark -------------------------------------------------------------------------------------
# A Wednesday; the match is on the Saturday after it.
ARK_NOW = dt.datetime(2030, 3, 6, 12, 0, tzinfo=dt.UTC)
ARK_WEEKEND = dt.date(2030, 3, 9)
ARK_START = dt.datetime(2030, 3, 9, 12, 0, tzinfo=dt.UTC)
ARK_CLOSE = dt.datetime(2030, 3, 8, 20, 0, tzinfo=dt.UTC)
ARK_REG_CHANNEL = 111_000_000_000_000_001
ARK_CONF_CHANNEL = 111_000_000_000_000_002
ARK_OFFICER = 999_000_000_000_000_001


def ark_user(n: int) -> int:
    """The Discord id of member ``n`` (governor ``n``'s owner)."""
    return 700_000_000_000_000_000 + n


def ark_alliance(name: str = "Osiris Guard", *, offset: int = 0, **fields: Any) -> Alliance:
    """An alliance with its registration and confirmation channels (``offset`` shifts both ids,
    for a second alliance)."""
    from ark.models import Alliance

    fields.setdefault("registration_channel_id", ARK_REG_CHANNEL + offset)
    fields.setdefault("confirmation_channel_id", ARK_CONF_CHANNEL + offset)
    return Alliance.objects.create(name=name, **fields)


def ark_governor(n: int, name: str | None = None, *, owner: int | None = None, **fields: Any) -> Governor:
    """Governor ``n`` named "Gov{n}", owned by ``ark_user(owner or n)`` (or ``discord_user_id``)."""
    from ark.models import Governor

    fields.setdefault("discord_user_id", ark_user(owner or n))
    return Governor.objects.create(governor_id=n, name=name or f"Gov{n}", **fields)


def ark_governors() -> list[Governor]:
    """Ten governors; ``ark_user(1)`` owns governors 1 and 11 (a main and a farm)."""
    return [*(ark_governor(n) for n in range(1, 11)), ark_governor(11, "Gov1-farm", owner=1)]


def ark_match(alliance: Alliance, *, weekend: dt.date = ARK_WEEKEND, day: str = "Sat", start: dt.datetime = ARK_START,
              close: dt.datetime = ARK_CLOSE, now: dt.datetime = ARK_NOW, **kwargs: Any) -> Match:
    """A match created as an officer creates it (``services.create_match``)."""
    from ark import services

    return services.create_match(alliance=alliance, ark_weekend_date=weekend, match_day=day, match_time_utc=start,
                                 signup_close_utc=close, actor_discord_id=ARK_OFFICER, now=now, **kwargs)


def ark_sign(match: Match, n: int, **kwargs: Any):
    """Governor ``n`` signs up by its owner's hand (``services.add_signup``); governor 11 is user 1's farm."""
    from ark import services

    kwargs.setdefault("now", ARK_NOW)
    return services.add_signup(match_id=match.pk, governor_id=n, discord_user_id=ark_user(1) if n == 11 else ark_user(n),
                               actor_discord_id=ark_user(n), **kwargs)


def ark_cadence(*, cadence_weekends: int = 2, anchor: dt.date = ARK_WEEKEND):
    """The game's fortnightly cadence, anchored so that ``ARK_WEEKEND`` is an Ark weekend."""
    from ark.models import ArkSettings

    return ArkSettings.objects.create(pk=1, cadence_weekends=cadence_weekends, anchor_weekend=anchor)


# -- ratmas ----------------------------------------------------------------------------------
RATMAS_GUILD = 111_000_000_000_000_001
RATMAS_CHANNEL = 222_000_000_000_000_001
RATMAS_ROLE = 333_000_000_000_000_001
RATMAS_USER0 = 444_000_000_000_000_000


def ratmas_uid(i: int) -> int:
    """The Discord id of participant ``i`` ("Player i")."""
    return RATMAS_USER0 + i


def ratmas_event(n: int = 0, status: str = "open", guild: int = RATMAS_GUILD, **kwargs: Any) -> Event:
    """An event with ``n`` participants (ids ``ratmas_uid(1..n)``, names "Player i"), moved to
    ``status`` (open, locked, matched) through the services, as an organiser would."""
    from ratmas import services

    now = timezone.now()
    kwargs.setdefault("announcement_channel_id", RATMAS_CHANNEL)
    kwargs.setdefault("budget", "20 EUR")
    event = services.create_event(guild, now + dt.timedelta(days=7), now + dt.timedelta(days=20),
                                  now + dt.timedelta(days=24), **kwargs)
    for i in range(1, n + 1):
        services.join(event, ratmas_uid(i), f"Player {i}", f"https://wish.example/{i}")
    if status in ("locked", "matched", "notified"):
        services.set_status(event, "locked")
    if status in ("matched", "notified"):
        services.generate_pairings(event, seed=1)
    event.refresh_from_db()
    return event


# -- guildsync -------------------------------------------------------------------------------
def guild_rank(name: str | None = None, *, level: int | None = None) -> GuildRank:
    """A rank of the reference data, by name or by level."""
    from guildsync.models import GuildRank

    return GuildRank.objects.get(name=name) if name is not None else GuildRank.objects.get(level=level)


def specialization(name: str, class_name: str) -> Specialization:
    """A spec of the reference data: ``specialization("Holy", "Paladin")``."""
    from guildsync.models import Specialization

    return Specialization.objects.get(name=name, wow_class__name=class_name)


def wow_character(name: str, realm: str = "twisting-nether", **fields: Any) -> WowCharacter:
    """A character as the last Blizzard sync saw it; ``guild_rank`` may be given by name."""
    from guildsync.models import WowCharacter

    fields.setdefault("last_api_sync", timezone.now())
    if isinstance(fields.get("guild_rank"), str):
        fields["guild_rank"] = guild_rank(fields["guild_rank"])
    return WowCharacter.objects.create(character_name=name, realm_slug=realm, **fields)


def discord_user(username: str, *, role: str = "Member", display_name: str | None = None,
                 **fields: Any) -> DiscordUser:
    """A guild member on Discord whose highest (and only) guild role is ``role`` ("" for none),
    shown as ``username`` unless ``display_name`` says otherwise."""
    from guildsync.models import DiscordUser

    fields.setdefault("discord_id", next_id(900_000))
    display_name = username if display_name is None else display_name
    return DiscordUser.objects.create(username=username, display_name=display_name,
                                      highest_guild_role=role, all_guild_roles=[role] if role else [], **fields)


def player(name: str, discord_user: DiscordUser | None = None, characters: Iterable[WowCharacter] = (),
           source: str = "manual", **fields: Any) -> Player:
    """A player with ``characters`` linked to it (``source``, full confidence). One transaction:
    a ``main_character`` must be one of the player's links when it commits."""
    from django.db import transaction

    from guildsync.models import Player, PlayerCharacter

    with transaction.atomic():
        made = Player.objects.create(display_name=name, discord_user=discord_user, **fields)
        for char in characters:
            PlayerCharacter.objects.create(player=made, character=char, link_source=source, confidence=1.0)
    return made


GUILD_ROLE_IDS = {"Guild Leader": 801, "Officer": 802, "Veteran": 803, "Member": 804, "Initiate": 805, "Raider": 806}
"""Discord role ids of the guild's rank roles (and an unmapped Raider role), as Discord gives them."""
GUILD_ROLE_POSITION = {name: 810 - i for name, i in GUILD_ROLE_IDS.items()}
"""Positions as Discord orders them (higher sits above): Guild Leader 9 … Raider 4."""


def guild_discord_roles() -> dict[str, DiscordRole]:
    """The guild's roles as the last Discord sync saw them, by name."""
    from guildsync.models import DiscordRole
    from guildsync.services import discord_sync
    from tests.fakes.discord_gateway import role_json

    discord_sync.sync_discord_roles([role_json(i, name, 0, position=GUILD_ROLE_POSITION[name])
                                     for name, i in GUILD_ROLE_IDS.items()])
    return {r.name: r for r in DiscordRole.objects.all()}


def mismatched_officer(*, username: str = "thrall", discord_id: int | None = None,
                       roles: Iterable[str] = ("Member", "Raider")) -> DiscordUser:
    """A player who is an Officer in game and only a Member (plus Raider) in Discord."""
    user = discord_user(username, role="Member", **({"discord_id": discord_id} if discord_id else {}))
    user.all_guild_roles = [r for r in roles if r != "Raider"]
    user.save()
    player(username.title(), discord_user=user, characters=[wow_character(username.title(), guild_rank="Officer")])
    return user


def audit_issue(issue_type: str = "orphan_wow", summary: str = "A character in no player", **fields: Any) -> AuditIssue:
    """An open integrity-check finding, last seen now (``issue_hash`` unique unless given)."""
    from guildsync.models import AuditIssue

    fields.setdefault("issue_hash", f"h{next_id(0)}")
    fields.setdefault("last_seen", timezone.now())
    return AuditIssue.objects.create(issue_type=issue_type, summary=summary, **fields)


# -- raids -----------------------------------------------------------------------------------
RAID_CHANNEL = 555_100_000_000_000_001
RAID_LEADER = 555_200_000_000_000_001


def raid_player(name: str, *, rank: int | None = 3, discord: bool = True, auto_invite: bool = True,
                hiatus: bool = False, spec: tuple[str, str] | None = ("Holy", "Paladin"), main: bool = True,
                active: bool = True) -> Player:
    """A raider: a player of rank level ``rank`` with a Discord account and a main of ``spec``
    (spec name, class name) unless told otherwise."""
    main_spec = specialization(*spec) if spec else None
    character = None
    if main:
        character = wow_character(name, "silvermoon", last_api_sync=None, active_spec=main_spec,
                                  wow_class=main_spec.wow_class if main_spec else None)
    user = discord_user(name.lower(), role="", display_name="", discord_id=next_id(777_000_000_000_001_000)) \
        if discord else None
    return player(name, user, [character] if character else (), main_character=character, main_spec=main_spec,
                  guild_rank=guild_rank(level=rank) if rank else None, is_active=active,
                  auto_invite_events=auto_invite, on_raid_hiatus=hiatus)


# A raider of each kind the booking treats differently: (name, raid_player arguments).
RAID_ROSTER = {
    "accepted": ("Aelith", {"rank": 3, "auto_invite": True}),
    "tentative": ("Borin", {"rank": 2, "auto_invite": False, "spec": ("Protection", "Warrior")}),
    "bench": ("Cyra", {"rank": 1, "spec": ("Fire", "Mage")}),
    "absence": ("Dunmar", {"rank": 5, "hiatus": True, "spec": ("Havoc", "Demon Hunter")}),
    "no_discord": ("Elowen", {"rank": 4, "discord": False, "spec": ("Balance", "Druid")}),
    "no_main": ("Fen", {"rank": 4, "main": False}),
    "inactive": ("Gorrim", {"rank": 4, "active": False}),
}


def raid_roster(*kinds: str) -> dict[str, Player]:
    """The raiders of ``RAID_ROSTER`` by kind (all of them, or only ``kinds``)."""
    return {kind: raid_player(name, **args) for kind, (name, args) in RAID_ROSTER.items() if not kinds or kind in kinds}


def raid_night(label: str = "Heroic Progression", **fields: Any) -> RecurringEvent:
    """A weekly raid night (Tuesdays 20:00 UTC, three hours, Raid-Helper template "wowretail2")."""
    from raids.models import RecurringEvent

    defaults = {"day_of_week": 1, "default_start_time": dt.time(20, 0), "timezone": "UTC",
                "default_duration_minutes": 180, "raid_helper_template_id": "wowretail2"}
    return RecurringEvent.objects.create(label=label, **{**defaults, **fields})


def raid_event(recurring: RecurringEvent | None, start: dt.datetime, **fields: Any) -> RaidEvent:
    """One raid of ``recurring`` (or a one-off) starting at ``start`` (on the minute), three hours long."""
    from raids.models import RaidEvent

    start = start.replace(second=0, microsecond=0)  # raid nights start on the minute
    defaults = {"title": recurring.label if recurring else "One-off", "event_date": start.date(),
                "start_time_utc": start, "end_time_utc": start + dt.timedelta(hours=3),
                "recurring_event": recurring}
    return RaidEvent.objects.create(**{**defaults, **fields})


def raid_config(server_id: int, **fields: Any) -> RaidHelperSettings:
    """Raid-Helper settings for ``server_id``: the raid channel, the leader, template "wowretail2"."""
    from raids.models import RaidHelperSettings

    defaults = {"raid_channel_id": RAID_CHANNEL, "leader_discord_id": RAID_LEADER,
                "default_template_id": "wowretail2"}
    return RaidHelperSettings.objects.create(server_id=server_id, **{**defaults, **fields})


# -- economy ---------------------------------------------------------------------------------
ECONOMY_GUILD = 111_000_000_000_000_001


def bytes_config(guild_id: int = ECONOMY_GUILD, **fields: Any) -> BytesConfig:
    """A guild's economy config, the model's defaults but no starting balance, so sums are easy to follow."""
    from economy.models import BytesConfig

    fields.setdefault("starting_balance", 0)
    return BytesConfig.objects.create(guild_id=guild_id, **fields)


def bytes_balance(user_id: int, balance: int, guild_id: int = ECONOMY_GUILD, **fields: Any) -> BytesBalance:
    from economy.models import BytesBalance

    return BytesBalance.objects.create(guild_id=guild_id, user_id=user_id, balance=balance, **fields)


def balance_of(user_id: int, guild_id: int = ECONOMY_GUILD) -> BytesBalance:
    from economy.models import BytesBalance

    return BytesBalance.objects.get(guild_id=guild_id, user_id=user_id)


def bytes_transaction(giver_id: int, receiver_id: int, amount: int, guild_id: int = ECONOMY_GUILD,
                      **fields: Any) -> BytesTransaction:
    """A transfer row as the ledger stored it (names as they were that day: ``giver_username``...)."""
    from economy.models import BytesTransaction

    fields.setdefault("giver_username", f"user{giver_id}")
    fields.setdefault("receiver_username", f"user{receiver_id}")
    return BytesTransaction.objects.create(guild_id=guild_id, giver_id=giver_id, receiver_id=receiver_id,
                                           amount=amount, **fields)


def moderation_case(user_id: int, action: str = "warn", reason: str = "spam", guild_id: int = ECONOMY_GUILD,
                    **fields: Any) -> ModerationCase:
    """A case AutoMod opened against ``user_id`` (a moderator's when ``moderator_id`` is given)."""
    from economy.models import ModerationCase

    fields.setdefault("user_tag", f"user{user_id}")
    fields.setdefault("moderator_id", 0)
    fields.setdefault("moderator_tag", "AutoMod")
    return ModerationCase.objects.create(guild_id=guild_id, user_id=user_id, action=action, reason=reason, **fields)


def outbox_message(kind: str = "dm", status: str = "pending", **fields: Any) -> OutboxMessage:
    """An outbox row in ``status`` due now (a DM to user 5 unless told otherwise), without going
    through ``bot.outbox``: for tests of what officers see and do with rows in every state."""
    from bot.models import OutboxMessage

    if kind == "dm":
        fields.setdefault("user_id", 5)
    else:
        fields.setdefault("channel_id", 1)
    fields.setdefault("payload", {"content": "hi"})
    fields.setdefault("next_attempt_at", timezone.now())
    return OutboxMessage.objects.create(kind=kind, status=status, **fields)


# -- bot: the guild the fake gateway serves ---------------------------------------------------
BOT_GUILD_ID = 1_345_046_958_481_346_613
BOT_GENERAL = 1_345_046_959_593_095_214
BOT_OFFICER_ROLE = 1_345_046_958_481_346_619  # Manage Server
BOT_ARK_ROLE = 1_355_389_599_949_525_134  # ARK_OFFICER_ROLE_ID: no permission bit, officer by role
BOT_MOD_ROLE = 1_355_389_599_949_525_135  # Moderate Members
BOT_GUILD_OFFICER_ROLE = 1_355_389_599_949_525_136  # Manage Roles


def bot_people() -> SimpleNamespace:
    """The members of the bot's guild: an officer, an Ark officer, a moderator, Alice and Bob."""
    from tests.fakes.discord_gateway import Member

    return SimpleNamespace(
        officer=Member(1_034_315_047_838_687_264, "officer", roles=[BOT_OFFICER_ROLE], global_name="The Officer"),
        ark_officer=Member(1_034_315_047_838_687_265, "arkofficer", roles=[BOT_ARK_ROLE]),
        moderator=Member(1_034_315_047_838_687_266, "moderator", roles=[BOT_MOD_ROLE]),
        alice=Member(1_034_315_047_838_687_267, "alice", global_name="Alice"),
        bob=Member(1_034_315_047_838_687_268, "bob", nick="Bobby"),
    )


def bot_guild(members: Iterable[Any] = ()) -> Guild:
    """The guild payload the fake gateway sends (GUILD_CREATE): #general, the officer roles, ``members``."""
    from tests.fakes.discord_gateway import MANAGE_GUILD, MANAGE_ROLES, MODERATE_MEMBERS, Guild

    guild = Guild(BOT_GUILD_ID)
    guild.add_channel(BOT_GENERAL, "general")
    guild.add_role(BOT_OFFICER_ROLE, "Officers", MANAGE_GUILD)
    guild.add_role(BOT_ARK_ROLE, "Ark officers")
    guild.add_role(BOT_MOD_ROLE, "Moderators", MODERATE_MEMBERS)
    guild.add_role(BOT_GUILD_OFFICER_ROLE, "Guild officers", MANAGE_ROLES)
    for member in members:
        guild.add_member(member)
    return guild


def bot_ark_alliance(governors: dict[int, Any], **fields: Any) -> Alliance:
    """An Ark alliance announcing in the bot guild's #general, and ``governors`` (id → the member
    owning it, a ``bot_people()`` member) named "Gov{id}"."""
    alliance = ark_alliance("Osiris Guard", registration_channel_id=BOT_GENERAL,
                            confirmation_channel_id=BOT_GENERAL + 1, **fields)
    for governor_id, member in governors.items():
        ark_governor(governor_id, discord_user_id=member.id)
    return alliance
