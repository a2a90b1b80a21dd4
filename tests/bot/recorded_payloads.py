"""Gateway payloads recorded by public projects, that discord.py 2.7 cannot read (or does not
know), for the isolation and chaos tests. Each builder names its source; only ids, names and
the command are adapted to the fake guild (tests/factories.py), the shapes are as recorded.

- ``old_interaction``: an INTERACTION_CREATE recorded in March 2021, posted in
  github.com/kordlib/kord issue #227 ("Add `application_id` to the Interaction object"). It
  predates ``attachment_size_limit``, ``app_permissions``, ``locale``, ``entitlements``,
  ``context``: discord.py 2.7 indexes ``data['attachment_size_limit']`` and raises KeyError.
  Its member has ``is_pending`` and ``permissions`` as a string, and its command data no
  ``type`` (added later).
- ``member_join_without_flags``: a GUILD_MEMBER_ADD recorded on 2024-04-09 in a comment of
  github.com/Tornium/tornium ``src/shard.cpp``, without its ``flags`` field, i.e. the shape
  of member objects before Discord added member flags (the 2021 member of kord#227 above has no
  ``flags`` either): discord.py's ``Member`` indexes ``data['flags']`` and raises KeyError.
- ``member_join_roles_null``: the same recording with ``roles: null``, a wrong type Discord has
  sent in member objects (``roles: NilClass`` in the TYPING_START member, collected from live
  traffic in github.com/discord/discord-api-docs issue #919, 2019): TypeError in discord.py.
- ``voice_channel_status``: VOICE_CHANNEL_STATUS_UPDATE, an event discord.py 2.7 has no parser
  for (documented in discord-api-docs ``events/gateway.mdx``), as recorded in the test
  ``TestOnEventVoiceChannelStatusUpdate`` of github.com/bwmarrin/discordgo ``wsapi_test.go``.
- ``huge_member_chunk``: GUILD_MEMBERS_CHUNK over 1 MB made of the Tornium member recording
  (ids adapted), like the first chunks of a big server.
"""

from __future__ import annotations

import copy
import json
import secrets

from tests.fakes.discord_api import APPLICATION_ID
from tests.fakes.discord_gateway import FakeGateway, Member, snowflake

# kordlib/kord#227 (2021-03-29), INTERACTION_CREATE ``d`` as posted (ids, nick and roles adapted).
_KORD_2021_INTERACTION = {
    "application_id": "744361365724069898", "channel_id": "358774895850815488",
    "data": {"id": "826111687744421950", "name": "imageupload"}, "guild_id": "297732013006389252",
    "id": "826113573067554836",
    "member": {"deaf": False, "is_pending": False, "joined_at": "2017-04-01T14:00:43.649000+00:00", "mute": False,
               "nick": None, "pending": False, "permissions": "8589934591",
               "premium_since": "2019-06-04T18:02:56.819000+00:00", "roles": [],
               "user": {"avatar": "8bd2b747f135c65fd2da873c34ba485c", "discriminator": "4185",
                        "id": "123170274651668480", "public_flags": 131712, "username": "MrPowerGamerBR"}},
    "token": "owo", "type": 2, "version": 1,
}

# Tornium/tornium src/shard.cpp (recorded 2024-04-09), GUILD_MEMBER_ADD ``d`` as recorded.
_TORNIUM_2024_MEMBER_ADD = {
    "user": {"username": "tiksantesting", "public_flags": 0, "id": "760910136960745493", "global_name": None,
             "discriminator": "0", "avatar_decoration_data": None, "avatar": "b4f5107be04841665055788f029ab7f5"},
    "unusual_dm_activity_until": None, "roles": [], "premium_since": None, "pending": False, "nick": None,
    "mute": False, "joined_at": "2024-04-09T04:00:26.288963+00:00", "guild_id": "1132079436691415120", "flags": 0,
    "deaf": False, "communication_disabled_until": None, "avatar": None,
}

# bwmarrin/discordgo wsapi_test.go, VOICE_CHANNEL_STATUS_UPDATE ``d`` as recorded.
_DISCORDGO_VOICE_STATUS = {"status": None, "id": "1203011144998985748", "guild_id": "1202274544208064653"}


def old_interaction(gateway: FakeGateway, member: Member, command: str = "raid next") -> dict:
    """The 2021 interaction, from ``member`` in the fake guild, invoking ``command``'s root."""
    data = copy.deepcopy(_KORD_2021_INTERACTION)
    interaction_id = snowflake()
    data.update(id=str(interaction_id), application_id=APPLICATION_ID, guild_id=str(gateway.guild.id),
                channel_id=str(next(iter(gateway.guild.channels))),
                token=f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_urlsafe(24)}")
    data["data"] = {"id": gateway.command_id(command.split()[0]), "name": command.split()[0]}
    data["member"]["user"].update(id=str(member.id), username=member.username)
    return data


def _member_add(gateway: FakeGateway, user_id: int, username: str) -> dict:
    data = copy.deepcopy(_TORNIUM_2024_MEMBER_ADD)
    data["guild_id"] = str(gateway.guild.id)
    data["user"].update(id=str(user_id), username=username)
    return data


def member_join_without_flags(gateway: FakeGateway, user_id: int, username: str) -> dict:
    data = _member_add(gateway, user_id, username)
    del data["flags"]
    return data


def member_join_roles_null(gateway: FakeGateway, user_id: int, username: str) -> dict:
    data = _member_add(gateway, user_id, username)
    data["roles"] = None
    return data


def member_join_recorded(gateway: FakeGateway, user_id: int, username: str) -> dict:
    """The 2024 recording unchanged but for ids: a valid member join."""
    return _member_add(gateway, user_id, username)


def voice_channel_status(gateway: FakeGateway) -> dict:
    return {**_DISCORDGO_VOICE_STATUS, "id": str(next(iter(gateway.guild.channels))),
            "guild_id": str(gateway.guild.id)}


def huge_member_chunk(gateway: FakeGateway, first_id: int = 900_000_000_000_000_000) -> dict:
    members = []
    for i in range(2600):
        member = _member_add(gateway, first_id + i, f"chunked{i}")
        member.pop("guild_id")
        members.append(member)
    chunk = {"guild_id": str(gateway.guild.id), "members": members, "chunk_index": 0, "chunk_count": 1,
             "not_found": [], "presences": []}
    assert len(json.dumps(chunk)) > 1_048_576, "the chunk must be over 1 MB"
    return chunk
