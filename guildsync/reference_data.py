"""Reference data loaded by migrations 0002/0004/0008: roles, the 13 classes, every spec, guild
ranks 0–9 with their Discord roles, the default note patterns and the sync lock rows.

Kept in a module of its own so the migrations, the demo data and the tests read the same facts
(the early migrations import only these definitions, never today's models). Pure data: it
imports nothing of the project. The one service that writes it into a database is
``guildsync.services.reference.load_reference_data`` (migrations and tests call it: a flushed
database, what a transactional test leaves behind, is then as a fresh migrate leaves it).
Blizzard ids from Blizzard's game-data API (playable-class, playable-specialization).

The names here are identifiers (matched against Blizzard's API and the addon's files, stored in
the rows): they stay English. What people read is their label in the reader's language
(``role_label``, ``class_label``, ``spec_label``: the names Blizzard's localized clients use),
marked below with a context so that "Frost" or "Holy" is translated as a WoW specialization.
"""

from __future__ import annotations

import functools
from typing import Any

ROLES = ("Tank", "Healer", "Melee DPS", "Ranged DPS")

# (blizzard_id, name, colour)
CLASSES = (
    (1, "Warrior", "#C69B6D"),
    (2, "Paladin", "#F48CBA"),
    (3, "Hunter", "#AAD372"),
    (4, "Rogue", "#FFF468"),
    (5, "Priest", "#FFFFFF"),
    (6, "Death Knight", "#C41E3A"),
    (7, "Shaman", "#0070DD"),
    (8, "Mage", "#3FC7EB"),
    (9, "Warlock", "#8788EE"),
    (10, "Monk", "#00FF98"),
    (11, "Druid", "#FF7C0A"),
    (12, "Demon Hunter", "#A330C9"),
    (13, "Evoker", "#33937F"),
)

# (blizzard_id, spec name, class name, default role)
SPECIALIZATIONS = (
    (71, "Arms", "Warrior", "Melee DPS"),
    (72, "Fury", "Warrior", "Melee DPS"),
    (73, "Protection", "Warrior", "Tank"),
    (65, "Holy", "Paladin", "Healer"),
    (66, "Protection", "Paladin", "Tank"),
    (70, "Retribution", "Paladin", "Melee DPS"),
    (253, "Beast Mastery", "Hunter", "Ranged DPS"),
    (254, "Marksmanship", "Hunter", "Ranged DPS"),
    (255, "Survival", "Hunter", "Melee DPS"),
    (259, "Assassination", "Rogue", "Melee DPS"),
    (260, "Outlaw", "Rogue", "Melee DPS"),
    (261, "Subtlety", "Rogue", "Melee DPS"),
    (256, "Discipline", "Priest", "Healer"),
    (257, "Holy", "Priest", "Healer"),
    (258, "Shadow", "Priest", "Ranged DPS"),
    (250, "Blood", "Death Knight", "Tank"),
    (251, "Frost", "Death Knight", "Melee DPS"),
    (252, "Unholy", "Death Knight", "Melee DPS"),
    (262, "Elemental", "Shaman", "Ranged DPS"),
    (263, "Enhancement", "Shaman", "Melee DPS"),
    (264, "Restoration", "Shaman", "Healer"),
    (62, "Arcane", "Mage", "Ranged DPS"),
    (63, "Fire", "Mage", "Ranged DPS"),
    (64, "Frost", "Mage", "Ranged DPS"),
    (265, "Affliction", "Warlock", "Ranged DPS"),
    (266, "Demonology", "Warlock", "Ranged DPS"),
    (267, "Destruction", "Warlock", "Ranged DPS"),
    (268, "Brewmaster", "Monk", "Tank"),
    (269, "Windwalker", "Monk", "Melee DPS"),
    (270, "Mistweaver", "Monk", "Healer"),
    (102, "Balance", "Druid", "Ranged DPS"),
    (103, "Feral", "Druid", "Melee DPS"),
    (104, "Guardian", "Druid", "Tank"),
    (105, "Restoration", "Druid", "Healer"),
    (577, "Havoc", "Demon Hunter", "Melee DPS"),
    (581, "Vengeance", "Demon Hunter", "Tank"),
    (1467, "Devastation", "Evoker", "Ranged DPS"),
    (1468, "Preservation", "Evoker", "Healer"),
    (1473, "Augmentation", "Evoker", "Ranged DPS"),
)

# The seed's five ranks (migration 0002): (name, level, scheduling_weight, blizzard_rank_index,
# discord_role_name). Ranks 5–9 exist too (a guild has up to ten): they start as placeholders.
GUILD_RANKS = (
    ("Guild Leader", 5, 5, 0, "Guild Leader"),
    ("Officer", 4, 4, 1, "Officer"),
    ("Veteran", 3, 3, 2, "Veteran"),
    ("Member", 2, 2, 3, "Member"),
    ("Initiate", 1, 1, 4, "Initiate"),
)

RANK_INDEXES = range(10)  # Blizzard's rank numbers: 0 = Guild Master … 9


def placeholder_rank_name(index: int) -> str:
    """The name of a rank nobody named yet: "Rank 7" (the roster's own number)."""
    return f"Rank {index}"


# Discord role names counting as each default rank (``GuildRankRole``; officers edit them). The
# seed's rank_mismatch check accounts for "Guild Leader" vs "GM": the Guild Leader's role may be "GM".
DEFAULT_RANK_ROLES = {0: ("Guild Leader", "GM"), 1: ("Officer",), 2: ("Veteran",), 3: ("Member",), 4: ("Initiate",)}

# Default note patterns (NotePattern rows, editable by officers): (name, kind, regex, priority).
# Group 1 captures a character name (alt_of) or a Discord name (discord).
NOTE_PATTERNS = (
    ("alt of X", "alt_of", r"\balt\s+(?:of|for)\s*:?\s*([^\s,;:(){}\[\]]+)", 10),
    ("X's alt", "alt_of", r"([^\s,;:(){}\[\]']+)'s\s+alt\b", 20),
    ("main: X", "alt_of", r"\bmain\s*[:=]\s*([^\s,;(){}\[\]]+)", 30),
    ("{X}", "alt_of", r"\{\s*([^{}\s]+)\s*\}", 40),
    ("X alt", "alt_of", r"^\s*([^\s,;:(){}\[\]']+)\s+alt\b", 50),
    ("Discord: name", "discord", r"\bdiscord\s*[:=]\s*@?([\w.]{2,32})", 10),
    ("@name", "discord", r"(?:^|[\s(,;])@([\w.]{2,32})", 20),
)

# The rows of ``SyncLock`` the sync jobs claim (migration 0004; ``services.common`` adds one on demand).
SYNC_LOCKS = ("blizzard", "discord", "addon", "matching", "integrity", "report")


# -- labels people read (the models' ``__str__``, the admin, bot replies) -----------------------
@functools.cache
def _labels() -> dict[str, dict[str, Any]]:
    """The labels (lazy: translated when shown). Built on first use, importing Django only then:
    the addon's parse child imports this module's data and nothing of Django."""
    from django.utils.translation import pgettext_lazy

    roles = {
        "Tank": pgettext_lazy("wow role", "Tank"),
        "Healer": pgettext_lazy("wow role", "Healer"),
        "Melee DPS": pgettext_lazy("wow role", "Melee DPS"),
        "Ranged DPS": pgettext_lazy("wow role", "Ranged DPS"),
    }
    classes = {
        "Warrior": pgettext_lazy("wow class", "Warrior"),
        "Paladin": pgettext_lazy("wow class", "Paladin"),
        "Hunter": pgettext_lazy("wow class", "Hunter"),
        "Rogue": pgettext_lazy("wow class", "Rogue"),
        "Priest": pgettext_lazy("wow class", "Priest"),
        "Death Knight": pgettext_lazy("wow class", "Death Knight"),
        "Shaman": pgettext_lazy("wow class", "Shaman"),
        "Mage": pgettext_lazy("wow class", "Mage"),
        "Warlock": pgettext_lazy("wow class", "Warlock"),
        "Monk": pgettext_lazy("wow class", "Monk"),
        "Druid": pgettext_lazy("wow class", "Druid"),
        "Demon Hunter": pgettext_lazy("wow class", "Demon Hunter"),
        "Evoker": pgettext_lazy("wow class", "Evoker"),
    }
    specs = {
        "Arms": pgettext_lazy("wow spec", "Arms"),
        "Fury": pgettext_lazy("wow spec", "Fury"),
        "Protection": pgettext_lazy("wow spec", "Protection"),
        "Holy": pgettext_lazy("wow spec", "Holy"),
        "Retribution": pgettext_lazy("wow spec", "Retribution"),
        "Beast Mastery": pgettext_lazy("wow spec", "Beast Mastery"),
        "Marksmanship": pgettext_lazy("wow spec", "Marksmanship"),
        "Survival": pgettext_lazy("wow spec", "Survival"),
        "Assassination": pgettext_lazy("wow spec", "Assassination"),
        "Outlaw": pgettext_lazy("wow spec", "Outlaw"),
        "Subtlety": pgettext_lazy("wow spec", "Subtlety"),
        "Discipline": pgettext_lazy("wow spec", "Discipline"),
        "Shadow": pgettext_lazy("wow spec", "Shadow"),
        "Blood": pgettext_lazy("wow spec", "Blood"),
        "Frost": pgettext_lazy("wow spec", "Frost"),
        "Unholy": pgettext_lazy("wow spec", "Unholy"),
        "Elemental": pgettext_lazy("wow spec", "Elemental"),
        "Enhancement": pgettext_lazy("wow spec", "Enhancement"),
        "Restoration": pgettext_lazy("wow spec", "Restoration"),
        "Arcane": pgettext_lazy("wow spec", "Arcane"),
        "Fire": pgettext_lazy("wow spec", "Fire"),
        "Affliction": pgettext_lazy("wow spec", "Affliction"),
        "Demonology": pgettext_lazy("wow spec", "Demonology"),
        "Destruction": pgettext_lazy("wow spec", "Destruction"),
        "Brewmaster": pgettext_lazy("wow spec", "Brewmaster"),
        "Windwalker": pgettext_lazy("wow spec", "Windwalker"),
        "Mistweaver": pgettext_lazy("wow spec", "Mistweaver"),
        "Balance": pgettext_lazy("wow spec", "Balance"),
        "Feral": pgettext_lazy("wow spec", "Feral"),
        "Guardian": pgettext_lazy("wow spec", "Guardian"),
        "Havoc": pgettext_lazy("wow spec", "Havoc"),
        "Vengeance": pgettext_lazy("wow spec", "Vengeance"),
        "Devastation": pgettext_lazy("wow spec", "Devastation"),
        "Preservation": pgettext_lazy("wow spec", "Preservation"),
        "Augmentation": pgettext_lazy("wow spec", "Augmentation"),
    }
    return {"role": roles, "class": classes, "spec": specs}


def role_label(name: str) -> str:
    """A combat role's name as the reader's client says it (an unknown name as it is)."""
    return str(_labels()["role"].get(name, name))


def class_label(name: str) -> str:
    """A class's name as the reader's client says it ("Todesritter", "Chevalier de la mort")."""
    return str(_labels()["class"].get(name, name))


def spec_label(name: str) -> str:
    """A specialization's name as the reader's client says it."""
    return str(_labels()["spec"].get(name, name))
