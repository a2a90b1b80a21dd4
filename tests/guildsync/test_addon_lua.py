"""The GuildSync addon, run under a real Lua 5.4 with a stub of the WoW API (wow_stub.lua).

Each test loads guildsync/addon/GuildSync the way the client does (files from the .toc, with
the addon name and namespace as varargs), drives it with events and slash commands, lets the
stub write GuildSyncDB like the client writes SavedVariables (both the pre-10.2.7 tabbed
style and the current one), then reads that file with the server's parser and record
extraction. ``scripts/test.sh`` installs ``lua5.4`` (Debian package), so a missing
interpreter is a broken environment, not a reason to skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.services import create_api_key
from guildsync.services.addon_processor import (
    AddonFormatError,
    extract_addon_records,
    format_saved_variables,
    parse_saved_variables,
)

ROOT = Path(__file__).resolve().parents[2]
ADDON_DIR = ROOT / "guildsync" / "addon" / "GuildSync"
STUB = Path(__file__).with_name("wow_stub.lua")
STYLES = ["legacy", "current"]

ROSTER: list[dict[str, Any]] = [
    {"name": "Trogmoon-Sen'jin", "rankIndex": 0, "level": 80, "class": "Druide", "classFileName": "DRUID",
     "zone": "Dornogal", "note": "GM |cff00ff00<3|r", "officernote": "Discord: trogmoon", "online": True,
     "achievementPoints": 21450, "guid": "Player-3676-0A1B2C3D"},
    {"name": "Shadowbane-TwistingNether", "rankIndex": 1, "level": 80, "class": "Todesritter",
     "classFileName": "DEATHKNIGHT", "note": 'says "hi" \\o/', "officernote": "Main: Trogmoon\nraid lead",
     "online": False, "offline": [0, 1, 2, 3], "guid": "Player-1587-00000001"},
    {"name": "Ðrâgøn-Sen'jin", "rankIndex": 3, "level": 72, "class": "Rufer", "classFileName": "EVOKER",
     "note": "alt of Shadowbane", "officernote": "", "online": False, "offline": [1, 0, 0, 5]},
    {"name": "Localguy", "rankIndex": 4, "level": 10, "class": "Dämonenjäger", "classFileName": "DEMONHUNTER",
     "note": "", "officernote": "tab\there", "online": True, "isMobile": True},
]

EXPECTED = [
    {"character_name": "Trogmoon", "realm": "Sen'jin", "realm_name": "Sen'jin", "guild_note": "GM |cff00ff00<3|r",
     "officer_note": "Discord: trogmoon", "rank_index": 0, "rank_name": "Guild Master", "class_name": "Druid",
     "level": 80},
    {"character_name": "Shadowbane", "realm": "TwistingNether", "realm_name": "", "guild_note": 'says "hi" \\o/',
     "officer_note": "Main: Trogmoon\nraid lead", "rank_index": 1, "rank_name": "Officer",
     "class_name": "Death Knight", "level": 80},
    {"character_name": "Ðrâgøn", "realm": "Sen'jin", "realm_name": "Sen'jin", "guild_note": "alt of Shadowbane", "officer_note": "",
     "rank_index": 3, "rank_name": "Member", "class_name": "Evoker", "level": 72},
    {"character_name": "Localguy", "realm": "Sen'jin", "realm_name": "Sen'jin", "guild_note": "", "officer_note": "tab\there",
     "rank_index": 4, "rank_name": "Initiate", "class_name": "Demon Hunter", "level": 10},
]


@pytest.fixture(scope="module")
def lua() -> str:
    path = shutil.which("lua5.4")
    if path is None:
        pytest.fail("lua5.4 is not installed: run the suite through scripts/test.sh, which installs the "
                    "Debian package lua5.4, or `apt-get install lua5.4`.")
    return path


def _lua_assignments(table: str, values: dict[str, Any]) -> str:
    return "".join(f"{table}[{k!r}] = {str(v).lower() if isinstance(v, bool) else repr(v)}\n" for k, v in values.items())


def run_addon(lua: str, tmp_path: Path, steps: str, *, style: str = "legacy",
              roster: list[dict[str, Any]] = ROSTER, restore: str | None = None,
              guild: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """Load the addon in the stub, run ``steps`` (Lua), and return the SavedVariables text the
    stub wrote in ``style`` and the lines the addon printed. ``restore`` is a SavedVariables
    file the client loads before the addon (the previous session's)."""
    (tmp_path / "roster.lua").write_text(format_saved_variables({"RosterInput": roster}) if roster
                                         else "RosterInput = {}\n", encoding="utf-8")
    restore_line = ""
    if restore is not None:
        (tmp_path / "restore.lua").write_text(restore, encoding="utf-8")
        restore_line = f"dofile({str(tmp_path / 'restore.lua')!r})"
    script = f"""
dofile({str(STUB)!r})
dofile({str(tmp_path / "roster.lua")!r})
WowStub.roster = RosterInput
RosterInput = nil
{_lua_assignments("WowStub.guild", guild or {})}
{restore_line}
WowStub.load_addon({str(ADDON_DIR)!r})
{steps}
io.stdout:write(WowStub.write_saved_variables({style!r}))
io.stderr:write(table.concat(WowStub.printed, "\\n"))
"""
    (tmp_path / "scenario.lua").write_text(script, encoding="utf-8")
    proc = subprocess.run([lua, str(tmp_path / "scenario.lua")], capture_output=True, text=True,
                          timeout=30, cwd=tmp_path)
    assert proc.returncode == 0, f"lua failed:\n{proc.stderr}"
    return proc.stdout, [line for line in proc.stderr.splitlines() if line]


EXPORT_ON_ROSTER_UPDATE = """
WowStub.fire("PLAYER_LOGIN")
assert(WowStub.rosterRequests == 1, "the addon asks for the roster at login")
WowStub.fire("GUILD_ROSTER_UPDATE")
WowStub.fire("GUILD_ROSTER_UPDATE")
assert(WowStub.run_timers() == 1, "roster updates are debounced into one export")
"""


@pytest.mark.parametrize("style", STYLES)
def test_roster_update_export_parses_into_records(lua, tmp_path, style):
    text, printed = run_addon(lua, tmp_path, EXPORT_ON_ROSTER_UPDATE, style=style)
    if style == "legacy":
        assert "\t\t\t\t{" in text and "-- [1]" in text
    else:
        assert "\t" not in text.replace("\\t", "") and "-- [" not in text
    assert printed == []  # automatic exports are silent

    parsed = parse_saved_variables(text)
    assert list(parsed) == ["GuildSyncDB"]
    db = parsed["GuildSyncDB"]
    assert db["formatVersion"] == 1 and db["addonVersion"] == "1.0.0"
    assert db["settings"] == {"autoExport": True}
    assert db["lastExport"] == "Pull All The Things-Sen'jin"
    export = db["guilds"]["Pull All The Things-Sen'jin"]
    assert export["guildName"] == "Pull All The Things"
    assert export["exportedAt"] == 1763780000 and export["exportedBy"] == "Trogmoon-Sen'jin"
    assert export["canViewOfficerNotes"] is True and export["memberCount"] == 4
    assert export["ranks"] == ["Guild Master", "Officer", "Veteran", "Member", "Initiate"]
    first, second = export["members"][:2]
    assert first["online"] is True and "lastOnline" not in first and first["zone"] == "Dornogal"
    assert first["classFile"] == "DRUID" and first["guid"] == "Player-3676-0A1B2C3D"
    assert second["lastOnline"] == {"years": 0, "months": 1, "days": 2, "hours": 3}
    assert second["lastOnlineAt"] == 1763780000 - ((30 + 2) * 24 + 3) * 3600
    assert export["members"][3]["isMobile"] is True

    assert extract_addon_records(parsed) == EXPECTED


@pytest.mark.parametrize("style", STYLES)
def test_slash_command_exports_and_reports(lua, tmp_path, style):
    text, printed = run_addon(lua, tmp_path, """
WowStub.slash("/guildsync")
assert(WowStub.rosterRequests == 1, "/guildsync asks the server for a fresh roster")
WowStub.slash("/gsync status")
""", style=style)
    assert printed[0].endswith("exported 4 members of <Pull All The Things> with officer notes. "
                               "/reload or log out to save the file.")
    assert "last export: 4 members of <Pull All The Things> at 2025-11-22" in printed[1]
    assert extract_addon_records(parse_saved_variables(text)) == EXPECTED


def test_auto_export_can_be_switched_off(lua, tmp_path):
    text, printed = run_addon(lua, tmp_path, """
WowStub.slash("/guildsync auto off")
WowStub.fire("GUILD_ROSTER_UPDATE")
assert(WowStub.run_timers() == 0, "no export is scheduled when auto-export is off")
WowStub.slash("/guildsync help")
""")
    assert printed[0].endswith("automatic export is off.")
    assert "/guildsync status" in printed[1]
    db = parse_saved_variables(text)["GuildSyncDB"]
    assert db["settings"] == {"autoExport": False} and db["guilds"] == {}
    with pytest.raises(AddonFormatError, match="holds no guild export yet"):
        extract_addon_records({"GuildSyncDB": db})


def test_empty_roster_never_replaces_the_previous_export(lua, tmp_path):
    first, _ = run_addon(lua, tmp_path, EXPORT_ON_ROSTER_UPDATE)
    text, printed = run_addon(lua, tmp_path, EXPORT_ON_ROSTER_UPDATE + 'WowStub.slash("/guildsync")',
                              roster=[], restore=first, style="current")
    assert printed == ["|cff33ff99GuildSync|r: nothing exported: the guild roster has not loaded yet."]
    assert extract_addon_records(parse_saved_variables(text)) == EXPECTED


def test_exports_of_two_guilds_are_kept_apart(lua, tmp_path):
    first, _ = run_addon(lua, tmp_path, EXPORT_ON_ROSTER_UPDATE)
    alt_roster = [{"name": "Bankalt-Sen'jin", "rankIndex": 2, "level": 80, "class": "Mage", "classFileName": "MAGE",
                   "note": "", "officernote": "", "online": True}]
    text, _ = run_addon(lua, tmp_path, EXPORT_ON_ROSTER_UPDATE, roster=alt_roster, restore=first,
                        guild={"name": "Bank Guild"})
    parsed = parse_saved_variables(text)
    assert sorted(parsed["GuildSyncDB"]["guilds"]) == ["Bank Guild-Sen'jin", "Pull All The Things-Sen'jin"]
    assert [r["character_name"] for r in extract_addon_records(parsed)] == ["Bankalt"]  # the latest export
    assert extract_addon_records(parsed, guild="pull all the things") == EXPECTED


def test_export_without_officer_notes_is_refused_by_the_server(lua, tmp_path):
    text, printed = run_addon(lua, tmp_path, 'WowStub.slash("/guildsync")', guild={"canViewOfficerNotes": False})
    assert "WITHOUT officer notes" in printed[0]
    parsed = parse_saved_variables(text)
    assert parsed["GuildSyncDB"]["guilds"]["Pull All The Things-Sen'jin"]["canViewOfficerNotes"] is False
    with pytest.raises(AddonFormatError, match="cannot read officer notes"):
        extract_addon_records(parsed)


def test_not_in_a_guild_exports_nothing(lua, tmp_path):
    text, printed = run_addon(lua, tmp_path, 'WowStub.slash("/guildsync")', guild={"inGuild": False})
    assert printed == ["|cff33ff99GuildSync|r: nothing exported: you are not in a guild."]
    assert parse_saved_variables(text)["GuildSyncDB"]["guilds"] == {}


def test_toc_declares_the_saved_variable_and_a_retail_interface():
    toc = (ADDON_DIR / "GuildSync.toc").read_text(encoding="utf-8")
    fields = {k.strip(): v.strip() for k, v in (line[2:].split(":", 1) for line in toc.splitlines()
                                                if line.startswith("## "))}
    assert fields["SavedVariables"] == "GuildSyncDB"
    interfaces = [int(v) for v in fields["Interface"].split(",")]
    assert all(110000 <= v < 130000 for v in interfaces)
    assert "GuildSync.lua" in toc.splitlines()


TRICKY = r"""-- every form the parser accepts, read by the real interpreter too
Tricky = {
	"plain", 'single "quoted"', "esc \"q\" \\ \n \t \a \b \f \v \r end", -- [3]
	"\65\066\0067 \x41\x4a \u{20AC}\u{1F600} \195\169t\195\169", "skip \z
       whitespace", "back\
slash-newline", [[long
"string" \n]], [==[with ]] inside]==],
	0, -7, 3.5, -4.84000015258789, 1e3, 1E-2, .5, 5., 0x1F, -0x10, 0x1p4, 0xA.8p1, 9007199254740993,
	true, false,
	{ ["key"] = "v", [2] = "two", [1.5] = "f", name = { nested = { deeper = {} } } },
	{ [1] = "a", [2] = "b" }, { 1, nil, 3 }; { ["x"] = nil, ["y"] = 1 };
	--[[ block ]] { "after", --[==[ level 2 ]==] "comments" },
	"|cff00ff00colour|r ||pipe Ðrâgøn 龍",
}
Second = "x"; Third = 42
"""


@pytest.mark.parametrize("style", STYLES)
def test_parser_agrees_with_the_real_lua_interpreter(lua, tmp_path, style):
    """Lua loads a file full of escapes, numbers and table forms and writes it back the way
    the game does; our reading of the original must equal our reading of Lua's rewrite."""
    source = tmp_path / "tricky.lua"
    source.write_text(TRICKY, encoding="utf-8")
    script = tmp_path / "roundtrip.lua"
    script.write_text(f"""
dofile({str(STUB)!r})
dofile({str(source)!r})
WowStub.savedVariables = {{ "Tricky", "Second", "Third" }}
io.stdout:write(WowStub.write_saved_variables({style!r}))
""", encoding="utf-8")
    proc = subprocess.run([lua, str(script)], capture_output=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    ours = parse_saved_variables(TRICKY)
    assert parse_saved_variables(proc.stdout) == ours
    tricky = ours["Tricky"]
    assert tricky[2] == "esc \"q\" \\ \n \t \a \b \f \v \r end"
    assert tricky[3] == "AB\x067 AJ €😀 été"
    assert tricky[4] == "skip whitespace" and tricky[5] == "back\nslash-newline"
    assert tricky[6:8] == ['long\n"string" \\n', "with ]] inside"]
    assert tricky[8:21] == [0, -7, 3.5, -4.84000015258789, 1000.0, 0.01, 0.5, 5.0, 31, -16, 16.0, 21.0,
                            9007199254740993]
    assert tricky[23] == {"key": "v", 2: "two", 1.5: "f", "name": {"nested": {"deeper": {}}}}
    assert tricky[24:28] == [["a", "b"], {1: 1, 3: 3}, {"y": 1}, ["after", "comments"]]
    assert ours["Second"] == "x" and ours["Third"] == 42


def _random_value(rng, depth: int = 0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice([True, False])
    if kind == 1:
        return rng.randint(-(2**63), 2**63 - 1) if rng.random() < 0.2 else rng.randint(-1000, 100000)
    if kind == 2:
        return rng.choice([rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randint(-300, 300), 0.1, -2.5])
    if kind == 3:
        alphabet = "abc XYZ\"'\\\n\r\t\x00\x01\x7f|{}[]=,;-é龍😀"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    if kind in (4, 5):
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(1, 4))]
    return {rng.choice(["k", "name", "a b", 'q"', "é", 7, -1, 10**12]): _random_value(rng, depth + 1)
            for _ in range(rng.randint(1, 4))}


@pytest.mark.parametrize("style", STYLES)
def test_our_writer_and_parser_agree_with_lua_on_random_data(lua, tmp_path, style):
    """Random nested data → our writer → real Lua loads it and writes it back like the game →
    our parser gives the same data (floats, big integers, control characters, emoji...)."""
    import random

    rng = random.Random(20240423)
    variables = {f"Var{n}": _random_value(rng) for n in range(60)}
    source = tmp_path / "random.lua"
    source.write_text(format_saved_variables(variables, legacy=style == "legacy"), encoding="utf-8")
    names = ", ".join(f'"{name}"' for name in variables)
    script = tmp_path / "roundtrip.lua"
    script.write_text(f"""
dofile({str(STUB)!r})
dofile({str(source)!r})
WowStub.savedVariables = {{ {names} }}
io.stdout:write(WowStub.write_saved_variables({style!r}))
""", encoding="utf-8")
    proc = subprocess.run([lua, str(script)], capture_output=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    expected = parse_saved_variables(source.read_text(encoding="utf-8"))
    assert parse_saved_variables(proc.stdout) == expected
    assert len(expected) == 60


@pytest.mark.django_db
@pytest.mark.parametrize("style", STYLES)
def test_real_export_through_the_upload_api_reaches_existing_characters(lua, tmp_path, settings, make, style):
    """The addon, on a realm with a space in its name, writes "TwistingNether" in members'
    realms and "Twisting Nether" as realmName; uploaded through the API, the notes land on the
    characters the Blizzard API created as ``twisting-nether`` (and ``azjolnerub``, a realm
    that breaks the slug rule) instead of creating duplicates."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    from guildsync.models import WowCharacter

    settings.BLIZZARD_REALM_SLUG = ""  # only the API's characters tell the slugs
    shadow = make.character("Shadowbane", realm="twisting-nether", realm_name="Twisting Nether")
    kel = make.character("Kel", realm="azjolnerub", realm_name="Azjol-Nerub")
    roster = [
        {"name": "Shadowbane-TwistingNether", "rankIndex": 1, "level": 80, "class": "Todesritter",
         "classFileName": "DEATHKNIGHT", "note": "Main", "officernote": "Discord: shadow", "online": True},
        {"name": "Kel-AzjolNerub", "rankIndex": 3, "level": 80, "class": "Mage", "classFileName": "MAGE",
         "note": "alt of Shadowbane", "officernote": "", "online": False, "offline": [0, 0, 3, 1]},
        {"name": "Localguy", "rankIndex": 4, "level": 12, "class": "Priest", "classFileName": "PRIEST",
         "note": "", "officernote": "trial", "online": True},
        {"name": "Zul-Sen'jin", "rankIndex": 3, "level": 70, "class": "Rogue", "classFileName": "ROGUE",
         "note": "", "officernote": "", "online": True},
    ]
    text, _ = run_addon(lua, tmp_path, 'WowStub.slash("/guildsync")', style=style, roster=roster,
                        guild={"realmName": "Twisting Nether"})
    assert '"TwistingNether"' in text and '"Twisting Nether"' in text
    _key, raw = create_api_key("companion", ["upload"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.post("/api/guild-sync/addon/upload",
                           {"file": SimpleUploadedFile("GuildSync.lua", text.encode())}, format="multipart")
    assert response.status_code == 200, response.data
    assert (response.data["stats"]["updated"], response.data["stats"]["created"]) == (2, 2)
    shadow.refresh_from_db()
    kel.refresh_from_db()
    assert (shadow.addon_note, shadow.addon_officer_note) == ("Main", "Discord: shadow")
    assert kel.addon_note == "alt of Shadowbane" and kel.guild_rank.name == "Member"
    local = WowCharacter.objects.get(character_name="Localguy")
    assert (local.realm_slug, local.realm_name, local.addon_officer_note) == ("twisting-nether", "Twisting Nether",
                                                                              "trial")
    assert WowCharacter.objects.get(character_name="Zul").realm_slug == "senjin"
    assert WowCharacter.objects.count() == 4
