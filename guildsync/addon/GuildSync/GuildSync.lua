--[[
GuildSync: exports the guild roster into the GuildSyncDB SavedVariable so that the Guild Ops
companion can upload it (guildsync/addon/FORMAT.md describes the format, the server parses it
with guildsync.services.addon_processor).

The game writes SavedVariables only on logout or /reload: after an export, /reload (or log out)
and the companion picks up the new file.

Exports happen
  * a few seconds after the roster changes (GUILD_ROSTER_UPDATE), when auto-export is on;
  * on /guildsync (asks the server for a fresh roster first).
An empty roster (not loaded yet) never replaces an earlier export.
]]

local ADDON_NAME, ns = ...
ns = ns or {}

local FORMAT_VERSION = 1
local DEBOUNCE_SECONDS = 3
local PREFIX = "|cff33ff99GuildSync|r: "

-- English class names by the class file name GetGuildRosterInfo returns (11th value); the 5th
-- value is the class name in the client's language, which the server cannot map.
local CLASS_NAMES = {
    WARRIOR = "Warrior", PALADIN = "Paladin", HUNTER = "Hunter", ROGUE = "Rogue",
    PRIEST = "Priest", DEATHKNIGHT = "Death Knight", SHAMAN = "Shaman", MAGE = "Mage",
    WARLOCK = "Warlock", MONK = "Monk", DRUID = "Druid", DEMONHUNTER = "Demon Hunter",
    EVOKER = "Evoker",
}
ns.CLASS_NAMES = CLASS_NAMES

local exportPending = false

local function say(message)
    print(PREFIX .. message)
end

local function addonVersion()
    local getMetadata = (C_AddOns and C_AddOns.GetAddOnMetadata) or GetAddOnMetadata
    return (getMetadata and getMetadata(ADDON_NAME, "Version")) or "unknown"
end

local function initDB()
    if type(GuildSyncDB) ~= "table" then
        GuildSyncDB = {}
    end
    local db = GuildSyncDB
    db.formatVersion = FORMAT_VERSION
    db.addonVersion = addonVersion()
    if type(db.settings) ~= "table" then
        db.settings = {}
    end
    if db.settings.autoExport == nil then
        db.settings.autoExport = true
    end
    if type(db.guilds) ~= "table" then
        db.guilds = {}
    end
    return db
end

-- "Name-Realm" -> "Name", "Realm"; same-realm names may come without the realm.
local function splitName(fullName, homeRealm)
    local name, realm = string.match(fullName, "^([^-]+)-(.+)$")
    if not name then
        return fullName, homeRealm
    end
    return name, realm
end

local function rankNames()
    local ranks = {}
    local count = (GuildControlGetNumRanks and GuildControlGetNumRanks()) or 0
    for i = 1, count do
        ranks[i] = GuildControlGetRankName(i) or ""
    end
    return ranks
end

-- Approximate unix time of the last login from the (years, months, days, hours) offsets the
-- game gives; good enough for "inactive for N days" checks.
local function lastOnlineAt(now, years, months, days, hours)
    local totalDays = ((years or 0) * 365) + ((months or 0) * 30) + (days or 0)
    return now - ((totalDays * 24) + (hours or 0)) * 3600
end

-- Builds one export table from the current roster, or returns nil and a reason.
function ns.BuildExport()
    if not IsInGuild() then
        return nil, "you are not in a guild"
    end
    local guildName = GetGuildInfo("player")
    if not guildName then
        return nil, "the guild information has not loaded yet"
    end
    local numTotal = GetNumGuildMembers()
    if not numTotal or numTotal == 0 then
        return nil, "the guild roster has not loaded yet"
    end
    local homeRealm = GetNormalizedRealmName() or ""
    local now = GetServerTime and GetServerTime() or time()
    local playerName = UnitName("player") or "?"
    local members = {}
    for i = 1, numTotal do
        local fullName, rankName, rankIndex, level, _, zone, note, officerNote, online, status,
              classFile, achievementPoints, _, isMobile, _, _, guid = GetGuildRosterInfo(i)
        if fullName then
            local name, realm = splitName(fullName, homeRealm)
            local member = {
                name = name,
                realm = realm,
                rankIndex = rankIndex,
                rankName = rankName,
                level = level,
                classFile = classFile,
                className = CLASS_NAMES[classFile] or classFile,
                note = note or "",
                officerNote = officerNote or "",
                online = online and true or false,
                status = status,
                zone = zone,
                achievementPoints = achievementPoints,
                isMobile = isMobile and true or false,
                guid = guid,
            }
            if not online then
                local years, months, days, hours = GetGuildRosterLastOnline(i)
                if years then
                    member.lastOnline = { years = years, months = months, days = days, hours = hours }
                    member.lastOnlineAt = lastOnlineAt(now, years, months, days, hours)
                end
            end
            members[#members + 1] = member
        end
    end
    local canViewOfficerNote = (C_GuildInfo and C_GuildInfo.CanViewOfficerNote) or CanViewOfficerNote
    local canViewOfficerNotes = true
    if canViewOfficerNote then
        canViewOfficerNotes = canViewOfficerNote() and true or false
    end
    return {
        guildName = guildName,
        guildRealm = homeRealm,
        realmName = GetRealmName and GetRealmName() or homeRealm,
        exportedAt = now,
        exportedBy = playerName .. "-" .. homeRealm,
        canViewOfficerNotes = canViewOfficerNotes,
        memberCount = #members,
        ranks = rankNames(),
        members = members,
    }
end

-- Stores the export under "Guild Name-Realm" so alts in other guilds do not overwrite it.
function ns.Export(verbose)
    exportPending = false
    local db = initDB()
    local export, reason = ns.BuildExport()
    if not export then
        if verbose then
            say("nothing exported: " .. reason .. ".")
        end
        return false
    end
    local key = export.guildName .. "-" .. export.guildRealm
    db.guilds[key] = export
    db.lastExport = key
    if verbose then
        local notes = export.canViewOfficerNotes and "with officer notes"
            or "WITHOUT officer notes (this character cannot read them; the site will refuse it)"
        say(string.format("exported %d members of <%s> %s. /reload or log out to save the file.",
            export.memberCount, export.guildName, notes))
    end
    return true
end

local function scheduleExport()
    if exportPending or not GuildSyncDB or not GuildSyncDB.settings.autoExport then
        return
    end
    exportPending = true
    C_Timer.After(DEBOUNCE_SECONDS, function() ns.Export(false) end)
end

local function requestRoster()
    if C_GuildInfo and C_GuildInfo.GuildRoster then
        C_GuildInfo.GuildRoster()
    elseif GuildRoster then
        GuildRoster()
    end
end

local frame = CreateFrame("Frame")
ns.frame = frame
frame:RegisterEvent("ADDON_LOADED")
frame:RegisterEvent("PLAYER_LOGIN")
frame:RegisterEvent("GUILD_ROSTER_UPDATE")
frame:SetScript("OnEvent", function(_, event, arg1)
    if event == "ADDON_LOADED" and arg1 == ADDON_NAME then
        initDB()
    elseif event == "PLAYER_LOGIN" then
        if IsInGuild() then
            requestRoster()
        end
    elseif event == "GUILD_ROSTER_UPDATE" then
        scheduleExport()
    end
end)

SLASH_GUILDSYNC1 = "/guildsync"
SLASH_GUILDSYNC2 = "/gsync"
SlashCmdList.GUILDSYNC = function(message)
    local db = initDB()
    local command, arg = string.match(string.lower(message or ""), "^%s*(%S*)%s*(%S*)")
    if command == "auto" then
        if arg == "on" or arg == "off" then
            db.settings.autoExport = (arg == "on")
        end
        say("automatic export is " .. (db.settings.autoExport and "on" or "off") .. ".")
    elseif command == "status" then
        local last = db.lastExport and db.guilds[db.lastExport]
        if last then
            say(string.format("last export: %d members of <%s> at %s.", last.memberCount, last.guildName,
                date("%Y-%m-%d %H:%M", last.exportedAt)))
        else
            say("no export yet; type /guildsync.")
        end
    elseif command == "" or command == "export" then
        requestRoster()
        ns.Export(true)
    else
        say("/guildsync — export the roster now; /guildsync status; /guildsync auto on|off.")
    end
end
