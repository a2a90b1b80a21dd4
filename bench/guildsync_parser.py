"""Benchmark: the SavedVariables parser against slpp (``python -m bench.guildsync_parser``).

Goal (issue 3): ``parse_saved_variables`` at least 3× as fast as slpp on the same file. The
files are what the GuildSync addon writes: a 1,000-member roster export in the old tab-indented
style with ``-- [n]`` comments (the bigger, slower-to-parse of the two styles), and a several-MB
account file holding exports of several guilds. slpp decodes a single value, so it gets the
table after ``GuildSyncDB =``; we parse the whole file, assignment included. No database needed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from bench._setup import report
from guildsync.services.addon_processor import format_saved_variables, parse_saved_variables

CLASSES = [("WARRIOR", "Warrior"), ("PALADIN", "Paladin"), ("HUNTER", "Hunter"), ("ROGUE", "Rogue"),
           ("PRIEST", "Priest"), ("DEATHKNIGHT", "Death Knight"), ("SHAMAN", "Shaman"), ("MAGE", "Mage"),
           ("WARLOCK", "Warlock"), ("MONK", "Monk"), ("DRUID", "Druid"), ("DEMONHUNTER", "Demon Hunter"),
           ("EVOKER", "Evoker")]
RANKS = ["Guild Master", "Officer", "Veteran", "Member", "Initiate"]
REALMS = ["Sen'jin", "Quel'Thalas", "Ragnaros", "TwistingNether", "Area52"]
ZONES = ["Dornogal", "Valdrakken", "Orgrimmar", "The Ringing Deeps", "Hallowfall", "Azj-Kahet"]
SYLLABLES = ["ka", "ra", "th", "mor", "zul", "dra", "vel", "an", "is", "gor", "lia", "shen", "tor", "ix"]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()[:12]


def make_export(members: int = 1000, *, seed: int = 7, guild: str = "Pull All The Things") -> dict[str, Any]:
    """A realistic ``GuildSyncDB`` value, the way the addon builds it (see guildsync/addon/FORMAT.md)."""
    rng = random.Random(seed)
    names = [_name(rng) for _ in range(members)]
    roster = []
    for n in range(members):
        class_file, class_name = rng.choice(CLASSES)
        rank_index = min(4, int(rng.expovariate(0.6)))
        online = rng.random() < 0.1
        note = rng.choice(["", "", "Main", f"alt of {rng.choice(names)}", f"{rng.choice(names)}'s alt",
                           f"Discord: {names[n].lower()}#{rng.randint(1000, 9999)}", f"@{names[n].lower()}",
                           "|cff00ff00Raider|r", 'said "hi" \\o/'])
        member = {
            "name": names[n], "realm": rng.choice(REALMS), "rankIndex": rank_index, "rankName": RANKS[rank_index],
            "level": rng.choice([80, 80, 80, 79, 75, 70, 62]), "classFile": class_file, "className": class_name,
            "note": note, "officerNote": rng.choice(["", "", f"Main: {rng.choice(names)}", "trial until 12/01",
                                                     "sits out wipes\nlate on Tuesdays"]),
            "online": online, "status": 0, "zone": rng.choice(ZONES),
            "achievementPoints": rng.randint(500, 40000), "guid": f"Player-3676-{rng.randint(0, 2**32):08X}",
            "isMobile": False, "itemLevel": round(rng.uniform(580, 640), 6),
        }
        if not online:
            member["lastOnline"] = {"years": 0, "months": rng.randint(0, 5), "days": rng.randint(0, 29),
                                    "hours": rng.randint(0, 23)}
            member["lastOnlineAt"] = 1763700000 - rng.randint(0, 10**7)
        roster.append(member)
    return {
        "formatVersion": 1, "addonVersion": "1.0.0", "lastExport": f"{guild}-Sen'jin",
        "settings": {"autoExport": True, "verbose": False},
        "guilds": {f"{guild}-Sen'jin": {
            "guildName": guild, "guildRealm": "Sen'jin", "realmName": "Sen'jin", "exportedAt": 1763780000, "exportedBy": "Trogmoon-Sen'jin",
            "canViewOfficerNotes": True, "memberCount": members, "ranks": RANKS, "members": roster,
        }},
    }


def make_file(members: int = 1000, *, guilds: int = 1, legacy: bool = True) -> str:
    db = make_export(members)
    for g in range(1, guilds):
        db["guilds"].update(make_export(members, seed=g, guild=f"Guild {g}")["guilds"])
    return format_saved_variables({"GuildSyncDB": db}, legacy=legacy)


def _best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Best CPU time of ``repeat`` runs: both parsers are single-threaded and CPU-bound, and
    CPU time is what stays comparable on a machine shared with other work."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def bench(text: str, label: str, repeat: int = 5) -> None:
    from slpp import slpp as lua

    value_text = text.split("=", 1)[1]
    ours = _best_of(lambda: parse_saved_variables(text, max_bytes=0), repeat)
    theirs = _best_of(lambda: lua.decode(value_text), max(1, repeat // 2))
    mb = len(text.encode()) / 1e6
    report(f"guildsync parser, {label} ({mb:.2f} MB), MB/s of CPU time", mb / ours, mb / theirs, "MB/s",
           anchor_name="slpp.decode", goal=3)


def main() -> None:
    bench(make_file(1000, legacy=True), "1,000-member export, pre-10.2.7 tabbed style")
    bench(make_file(1000, legacy=False), "1,000-member export, current unindented style")
    bench(make_file(1000, guilds=8, legacy=True), "8 guild exports, tabbed style", repeat=3)


if __name__ == "__main__":
    main()
