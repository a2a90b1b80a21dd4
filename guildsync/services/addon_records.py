"""The addon's export (parsed ``GuildSyncDB``) → the roster records ``db_sync.sync_addon_data``
consumes, from our addon's format and from the origin project's ("legacy") addon. The two
readers share how a member's common fields are read and checked (:func:`_member_record`) and
differ only in where the realm and class come from. The export format is documented in
``guildsync/addon/FORMAT.md``.
"""

from __future__ import annotations

from typing import Any

from core.deferred_text import Message, gettext_noop
from guildsync.reference_data import CLASSES
from guildsync.services.addon_parser import (
    DEFAULT_MAX_MEMBERS,
    SAVED_VARIABLE,
    AddonFormatError,
    UploadTooLargeError,
    _setting,
)

SUPPORTED_FORMAT_VERSIONS = frozenset({1})
RECORD_KEYS = ("character_name", "realm", "realm_name", "guild_note", "officer_note", "rank_index", "rank_name",
               "class_name", "level")



def _squash(realm: str) -> str:
    """A realm's letters and digits only, casefolded ("Twisting Nether" = "TwistingNether")."""
    return "".join(ch for ch in realm.casefold() if ch.isalnum())


def _require(mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise AddonFormatError(Message(gettext_noop("%(where)s has no '%(key)s' field; is this the GuildSync addon's "
                                                    "file?"), where=where, key=key))
    value = mapping[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise AddonFormatError(Message(gettext_noop("%(where)s.%(key)s has the wrong type (%(type)s)."),
                                       where=where, key=key, type=type(value).__name__))
    return value


def _text(member: dict[str, Any], key: str, where: str) -> str:
    value = member.get(key, "")
    if not isinstance(value, str):
        raise AddonFormatError(Message(gettext_noop("%(where)s.%(key)s should be text, not %(type)s."),
                                       where=where, key=key, type=type(value).__name__))
    return value


def _check_member_count(count: int, max_members: int | None) -> None:
    limit = _setting("ADDON_UPLOAD_MAX_MEMBERS", DEFAULT_MAX_MEMBERS) if max_members is None else max_members
    if limit and count > limit:
        raise UploadTooLargeError(Message(gettext_noop(
            "The export lists %(count)s members, over the %(limit)s-member limit (ADDON_UPLOAD_MAX_MEMBERS; a guild "
            "holds at most 1,000). Nothing was changed."), count=f"{count:,}", limit=f"{limit:,}"))



def _member_record(member: Any, mwhere: str, *, rank_key: str, class_key: str) -> dict[str, Any]:
    """A member's record as every export format gives it, each field checked the same way. The
    formats differ in what the rank index and class are called (``rank_key``, ``class_key``) and
    in how the realm is written: the caller fixes ``realm``, ``realm_name`` and ``class_name``."""
    if not isinstance(member, dict):
        raise AddonFormatError(Message(gettext_noop("%(where)s should be a table."), where=mwhere))
    name = _require(member, "name", str, mwhere).strip()
    if not name:
        raise AddonFormatError(Message(gettext_noop("%(where)s.name is empty."), where=mwhere))
    rank_index = _require(member, rank_key, int, mwhere)
    level = member.get("level", 0)
    if not isinstance(level, int) or isinstance(level, bool):
        raise AddonFormatError(Message(gettext_noop("%(where)s.level should be a whole number."), where=mwhere))
    return {
        "character_name": name,
        "realm": _text(member, "realm", mwhere),
        "realm_name": "",
        "guild_note": _text(member, "note", mwhere),
        "officer_note": _text(member, "officerNote", mwhere),
        "rank_index": rank_index,
        "rank_name": _text(member, "rankName", mwhere),
        "class_name": _text(member, class_key, mwhere),
        "level": level,
    }


# classFile tokens ("DEATHKNIGHT") → English class names, for exports that give only the
# client's localised name (the origin addon below). Same table as the addon's CLASS_NAMES.
_CLASS_FILES = {name.upper().replace(" ", ""): name for _bid, name, _colour in CLASSES}
ORIGIN_ADDON = "GuildSync 1.0.0 of the Pull All The Things site (GuildSyncDB.lastExport.characters)"


def _is_origin_export(db: dict[str, Any]) -> bool:
    """The origin project's addon (Shadowedvaca/PullAllTheThings-site, wow_addon/GuildSync/
    GuildSync.lua) writes ``GuildSyncDB = {lastExport = {exportTime, guildName, memberCount,
    characters = {...}}, lastExportTime, totalExports}``: no ``formatVersion``, no ``guilds``."""
    last = db.get("lastExport")
    return "formatVersion" not in db and isinstance(last, dict) and "characters" in last


def _origin_records(db: dict[str, Any], max_members: int | None) -> list[dict[str, Any]]:
    """Records from the origin addon's export. Its characters carry ``name``, ``realm`` (the
    exporter's own realm comes from GetRealmName(), with spaces: "Twisting Nether"; others as
    the game writes them: "TwistingNether"), ``class`` (localised), ``classFile``, ``level``,
    ``rank`` (0 = guild master, like ours), ``rankName``, ``note`` and ``officerNote``. It does
    not record whether the exporter could read officer notes, so an export in which every
    officer note is empty is refused: syncing it could erase them all."""
    where = f"{SAVED_VARIABLE}.lastExport"
    characters = db["lastExport"]["characters"]
    if isinstance(characters, dict) and not characters:
        characters = []
    if not isinstance(characters, list) or not characters:
        raise AddonFormatError(Message(gettext_noop(
            "%(where)s.characters holds no members: open the guild roster in the game, type /guildsync force and "
            "then /reload so the game writes the file."), where=where))
    _check_member_count(len(characters), max_members)
    records: list[dict[str, Any]] = []
    for n, member in enumerate(characters, 1):
        mwhere = f"{where}.characters[{n}]"
        record = _member_record(member, mwhere, rank_key="rank", class_key="classFile")
        realm = record["realm"]
        record.update(realm=realm.replace(" ", ""), realm_name=realm if " " in realm else "",
                      class_name=_CLASS_FILES.get(record["class_name"], ""))
        records.append(record)
    if not any(r["officer_note"] for r in records):
        raise AddonFormatError(Message(gettext_noop(
            "This export of the origin addon (%(origin)s) has no officer note at all: it was probably made by a "
            "character who cannot read them, and syncing it would erase every officer note. Export again with an "
            "officer, or install the GuildSync addon from guildsync/addon (it records who exported)."),
            origin=ORIGIN_ADDON))
    return records


def extract_addon_records(parsed: dict[str, Any], *, guild: str | None = None,
                          max_members: int | None = None) -> list[dict[str, Any]]:
    """Turn a parsed GuildSync SavedVariables file into roster records.

    Each record has exactly the keys of :data:`RECORD_KEYS` (what ``sync_addon_data`` reads):
    ``realm`` is the realm as the game gives it in "Name-Realm" (normalised, without spaces:
    "TwistingNether"); ``realm_name`` is the display name with spaces ("Twisting Nether", the
    export's ``realmName``) for members of the exporter's own realm, "" for the others (the game
    gives no display name for connected realms);
    ``rank_index`` is 0 for the guild master, like Blizzard's API. ``guild`` picks one guild's
    export by name (case-insensitive) when the officer's account exported several; by default
    the most recent export is used. Exports made by a character who cannot read officer notes
    are refused, since syncing them would erase every officer note on the site. An export of
    the origin project's addon (``GuildSyncDB.lastExport.characters``, no ``formatVersion``) is
    read too (:func:`_origin_records`). More than ``max_members`` members (default
    ``settings.ADDON_UPLOAD_MAX_MEMBERS``) raises :class:`UploadTooLargeError` before any record is built.
    """
    if not isinstance(parsed, dict) or SAVED_VARIABLE not in parsed:
        found = (", ".join(sorted(str(k) for k in parsed)) if isinstance(parsed, dict) and parsed
                 else Message(gettext_noop("nothing")))
        raise AddonFormatError(Message(gettext_noop(
            "This file is not a GuildSync export: no %(variable)s variable (found %(found)s). Upload "
            "WTF/Account/<ACCOUNT>/SavedVariables/GuildSync.lua."), variable=SAVED_VARIABLE, found=found))
    db = parsed[SAVED_VARIABLE]
    if not isinstance(db, dict):
        raise AddonFormatError(Message(gettext_noop("%(variable)s should be a table of settings and exports."),
                                       variable=SAVED_VARIABLE))
    if _is_origin_export(db):
        return _origin_records(db, max_members)
    if "formatVersion" not in db:
        raise AddonFormatError(Message(gettext_noop(
            "%(variable)s has no formatVersion and is not an export of the origin addon either (%(origin)s). "
            "Install the GuildSync addon from guildsync/addon (see its README), type /guildsync in the game, then "
            "/reload, and upload WTF/Account/<ACCOUNT>/SavedVariables/GuildSync.lua."),
            variable=SAVED_VARIABLE, origin=ORIGIN_ADDON))
    version = _require(db, "formatVersion", int, SAVED_VARIABLE)
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise AddonFormatError(Message(gettext_noop(
            "GuildSync export format %(version)s is not supported by this server (supported: %(supported)s)."),
            version=version, supported=", ".join(map(str, sorted(SUPPORTED_FORMAT_VERSIONS)))))
    guilds = db.get("guilds")
    if not isinstance(guilds, dict) or not guilds:
        raise AddonFormatError(Message(gettext_noop(
            "The file holds no guild export yet: log in with an officer, open the game, type /guildsync and then "
            "/reload (or log out) so the game writes the file.")))
    if guild is not None:
        wanted = guild.casefold()
        matches = [k for k, v in guilds.items()
                   if str(k).casefold() == wanted or isinstance(v, dict) and str(v.get("guildName", "")).casefold() == wanted]
        if not matches:
            raise AddonFormatError(Message(gettext_noop("The file has no export for the guild '%(guild)s' (it has: "
                                                        "%(guilds)s)."),
                                           guild=guild, guilds=", ".join(sorted(map(str, guilds)))))
        key = matches[0]
    else:
        key = db.get("lastExport")
        if key not in guilds:
            key = max(guilds, key=lambda k: guilds[k].get("exportedAt", 0) if isinstance(guilds[k], dict) else 0)
    where = f"{SAVED_VARIABLE}.guilds[{key!r}]"
    export = guilds[key]
    if not isinstance(export, dict):
        raise AddonFormatError(Message(gettext_noop("%(where)s should be a table."), where=where))
    if export.get("canViewOfficerNotes") is False:
        raise AddonFormatError(Message(gettext_noop(
            "This export was made by a character who cannot read officer notes; syncing it would erase them. "
            "Export again with an officer's character.")))
    home_realm = export.get("guildRealm") if isinstance(export.get("guildRealm"), str) else ""
    home_realm_name = export.get("realmName") if isinstance(export.get("realmName"), str) else ""
    members = export.get("members", [])
    if isinstance(members, dict) and not members:
        members = []
    if not isinstance(members, list):
        raise AddonFormatError(Message(gettext_noop("%(where)s.members should be a list of members."), where=where))
    _check_member_count(len(members), max_members)
    records: list[dict[str, Any]] = []
    for n, member in enumerate(members, 1):
        mwhere = f"{where}.members[{n}]"
        record = _member_record(member, mwhere, rank_key="rankIndex", class_key="className")
        realm = record["realm"] or home_realm  # same-realm names may come without one
        record.update(realm=realm,
                      realm_name=home_realm_name if realm and _squash(realm) == _squash(home_realm) else "")
        records.append(record)
    return records
