"""Reference data loaded by migrations 0002/0004/0008: roles, the 13 classes, every spec, guild
ranks 0–9 with their Discord roles, the default note patterns and the sync lock rows.

Kept in a module of its own so the migrations, the demo data and the tests read the same facts
(the early migrations import only these definitions, never today's models). Pure data: it
imports nothing of the project. The one service that writes it into a database is
``guildsync.services.reference.load_reference_data`` (migrations and tests call it: a flushed
database, what a transactional test leaves behind, is then as a fresh migrate leaves it).
Blizzard ids from Blizzard's game-data API (playable-class, playable-specialization).
"""

from __future__ import annotations

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
