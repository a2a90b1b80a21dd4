"""Demo data: a realistic guild ("Stormwatch" on Twisting Nether) built through the real
services — Discord members, the Blizzard roster, an addon export with notes, matching, one
officer's manual link and the integrity check — with a few deliberate problems for officers
to find: orphan characters, Discord members without characters, a rank mismatch and a stale
character. The Veteran and Member ranks are mapped to their Discord roles (planned mode), so
the rank mismatch shows up as a role plan (admin → Role changes): add Veteran, remove Member.
Idempotent: names are deterministic and every step is an upsert or a no-op.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from guildsync.models import (
    DiscordRole,
    DiscordUser,
    GuildRank,
    PlayerCharacter,
    RankRoleMapping,
    WowCharacter,
)
from guildsync.reference_data import SPECIALIZATIONS
from guildsync.services import (
    db_sync,
    discord_sync,
    identity_engine,
    identity_links,
    integrity_checker,
    role_plans,
)

REALM = ("twisting-nether", "Twisting Nether")
ALT_REALM = ("azjolnerub", "Azjol-Nerub")
FIRST = ["Ael", "Bran", "Cor", "Dra", "Eli", "Fen", "Gor", "Hal", "Ira", "Jor", "Kae", "Lor", "Mal", "Nym",
         "Ori", "Pyr", "Qua", "Rha", "Syl", "Tha", "Ul", "Vex", "Wyn", "Xan", "Yse", "Zul"]
ALT_FIRST = ["Bub", "Cri", "Dot", "Fiz", "Gig", "Hox", "Jib", "Kip", "Mop", "Nib", "Pox", "Rix", "Tib", "Wiz"]
ALT_LAST = ["bles", "tank", "heals", "pew", "stab", "bank", "ling", "zap", "moo", "totem", "shot", "frost"]
GUEST_FIRST = ["Zed", "Quin", "Yor", "Vale", "Wren", "Xiu", "Odo"]
GUEST_LAST = ["bert", "ley", "mo", "na", "ric", "ton"]
LAST = ["dris", "gorn", "thas", "wyn", "mir", "rak", "lia", "dor", "nash", "vyn", "zara", "thor"]
ALT_STYLES = ["alt of {m}", "{m}'s alt", "Main: {m}", "{{{m}}}", "{m} alt"]
RANK_ROLES = {0: "GM", 1: "Officer", 2: "Veteran", 3: "Member", 4: "Initiate"}
ROLE_IDS = {name: 700 + i for i, name in enumerate([*RANK_ROLES.values(), "Raider"])}
MAPPED_RANKS = (2, 3)  # Veteran and Member: their mismatch becomes a role plan


def _names(rng: random.Random, n: int, first=FIRST, last=LAST) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = rng.choice(first) + rng.choice(last)
        if name not in names:
            names.append(name)
    return names


def _character(name: str, rng: random.Random, rank: int, realm=REALM) -> dict:
    spec_id, spec_name, class_name, _role = rng.choice(SPECIALIZATIONS)
    return {"character_name": name, "realm_slug": realm[0], "realm_name": realm[1], "class_name": class_name,
            "spec_id": spec_id, "spec_name": spec_name, "rank_index": rank, "level": 80,
            "item_level": rng.randint(590, 639), "achievement_points": rng.randint(8000, 38000),
            "last_login_at": timezone.now() - dt.timedelta(hours=rng.randint(1, 300))}


def seed_demo(stdout) -> None:
    rng = random.Random(20261122)
    mains = _names(rng, 80)
    ranks = {name: (0 if i == 0 else 1 if i < 5 else 2 if i < 20 else 3 if i < 65 else 4)
             for i, name in enumerate(mains)}
    # Discord: 70 mains use their character name, 8 write "Discord: handle" in their note,
    # 2 never joined; 30 more members (friends, applicants, 5 with a guild role but no characters).
    handles = {m: (m.lower() if i < 70 else f"{m.lower()}_{rng.randint(10, 99)}") for i, m in enumerate(mains[:78])}
    members = []
    for i, (main, handle) in enumerate(handles.items()):
        role = RANK_ROLES[ranks[main]]
        if main == mains[7]:
            role = "Member"  # deliberate rank mismatch: an Officer in game, Member in Discord
        members.append({"discord_id": 400_000_000_000_000_000 + i, "username": handle,
                        "display_name": main if i < 70 else handle.title(), "roles": [role, "Raider"] if i % 3 == 0 else [role],
                        "joined_at": timezone.now() - dt.timedelta(days=30 + i * 5)})
    for j, name in enumerate(_names(random.Random(7), 32, GUEST_FIRST, GUEST_LAST)):
        role = ["Member"] if j < 5 else []  # 5 orphans on the Discord side
        members.append({"discord_id": 400_000_000_000_001_000 + j, "username": f"{name.lower()}fan",
                        "display_name": f"{name} (guest)", "roles": role, "joined_at": None})
    # the server's roles as GET /guilds/{id}/roles lists them (higher position sits above)
    discord_sync.sync_discord_roles([{"id": str(role_id), "name": name, "position": 10 - i, "managed": False}
                                     for i, (name, role_id) in enumerate(ROLE_IDS.items())])
    for index in MAPPED_RANKS:
        rank = GuildRank.objects.get(blizzard_rank_index=index)
        if not RankRoleMapping.objects.filter(rank=rank).exists():
            role = DiscordRole.objects.get(discord_id=ROLE_IDS[RANK_ROLES[index]])
            role_plans.save_rank_role_mapping(rank.pk, role.pk, RankRoleMapping.Mode.PLANNED, actor="demo")
    for member in members:
        discord_sync.on_member_join(member)

    roster, addon = [], []
    alt_names = iter(_names(random.Random(99), 150, ALT_FIRST, ALT_LAST))
    for i, main in enumerate(mains):
        if main in mains[70:78]:
            note = f"Discord: {handles[main]}"
        else:
            note = rng.choice(["Raider", "Core team", "Social", "M+ enjoyer", ""])
        roster.append(_character(main, rng, ranks[main]))
        addon.append({"character_name": main, "realm": "TwistingNether", "guild_note": note,
                      "officer_note": f"joined {2020 + i % 6}", "rank_index": ranks[main], "class_name": None,
                      "level": 80})
        for k in range(i % 3):
            alt = next(alt_names)
            realm = ALT_REALM if (i + k) % 11 == 0 else REALM
            roster.append(_character(alt, rng, 4 if ranks[main] > 1 else 2, realm))
            addon.append({"character_name": alt, "realm": realm[1].replace("-", "").replace(" ", ""),
                          "guild_note": rng.choice(ALT_STYLES).format(m=main), "officer_note": "",
                          "rank_index": 4 if ranks[main] > 1 else 2, "class_name": None, "level": 80})
    for stray in ("Nobodyknows", "Wanderlust", "Quietstorm"):  # orphan characters
        roster.append(_character(stray, rng, 4))
    db_sync.sync_blizzard_roster(roster, mark_missing_removed=False)
    db_sync.sync_addon_data(addon)
    # A stale character: the API has not seen it for 45 days.
    db_sync.sync_blizzard_roster([_character("Oldgrumble", rng, 3)], mark_missing_removed=False,
                                 synced_at=timezone.now() - dt.timedelta(days=45))

    result = identity_engine.run_matching()
    # An officer's manual link: the old character joins the guild leader's player.
    leader = DiscordUser.objects.get(username=handles[mains[0]])
    old = WowCharacter.objects.get(character_name="Oldgrumble", realm_slug=REALM[0])
    if not PlayerCharacter.objects.filter(character=old).exists():
        identity_links.link_character(old.pk, discord_user_id=leader.pk, actor="demo")
    check = integrity_checker.run_integrity_check()
    stdout.write(f"guildsync: {WowCharacter.objects.count()} characters, {DiscordUser.objects.count()} Discord "
                 f"users; matching linked {result.links_created} now; {check.new} new issue(s), "
                 f"{check.still_open} open; role plan: {check.role_changes.get('planned', 0)} change(s) planned.\n")
