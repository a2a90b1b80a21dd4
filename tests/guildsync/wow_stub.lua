--[[
A small stand-in for the World of Warcraft client, enough to run the GuildSync addon under a
plain Lua 5.4 interpreter (tests/guildsync/test_addon_lua.py):

  * the roster functions (GetGuildRosterInfo and friends) read WowStub.roster / WowStub.guild;
  * CreateFrame/RegisterEvent/SetScript + WowStub.fire(event, ...) deliver events;
  * C_Timer.After queues callbacks that WowStub.run_timers() runs;
  * slash commands go through SlashCmdList like in the game (WowStub.slash("/guildsync"));
  * WowStub.load_addon(dir) reads the .toc, runs its files with (addonName, namespace) and
    fires ADDON_LOADED; WowStub.write_saved_variables(style) writes the .toc's SavedVariables
    the way the client does: style "legacy" (before patch 10.2.7: tab indentation, "-- [n]"
    after array items) or "current" (no indentation, no comments).
]]

WowStub = {
    roster = {},          -- GetGuildRosterInfo rows: tables with the fields named below
    guild = { name = "Pull All The Things", realm = "Sen'jin", realmName = "Sen'jin",
              ranks = { "Guild Master", "Officer", "Veteran", "Member", "Initiate" },
              canViewOfficerNotes = true, inGuild = true },
    player = "Trogmoon",
    now = 1763780000,
    printed = {},
    timers = {},
    rosterRequests = 0,
    frames = {},
    savedVariables = {},
}

function print(...)
    local parts = {}
    for i = 1, select("#", ...) do
        parts[#parts + 1] = tostring((select(i, ...)))
    end
    WowStub.printed[#WowStub.printed + 1] = table.concat(parts, " ")
end

-- Frames and events ---------------------------------------------------------------------------
local Frame = {}
Frame.__index = Frame
function Frame:RegisterEvent(event) self.events[event] = true end
function Frame:UnregisterEvent(event) self.events[event] = nil end
function Frame:SetScript(kind, fn) self.scripts[kind] = fn end

function CreateFrame()
    local frame = setmetatable({ events = {}, scripts = {} }, Frame)
    WowStub.frames[#WowStub.frames + 1] = frame
    return frame
end

function WowStub.fire(event, ...)
    for _, frame in ipairs(WowStub.frames) do
        if frame.events[event] and frame.scripts.OnEvent then
            frame.scripts.OnEvent(frame, event, ...)
        end
    end
end

C_Timer = {}
function C_Timer.After(_, callback) WowStub.timers[#WowStub.timers + 1] = callback end
function WowStub.run_timers()
    local pending = WowStub.timers
    WowStub.timers = {}
    for _, callback in ipairs(pending) do callback() end
    return #pending
end

SlashCmdList = {}
function WowStub.slash(line)
    local command, rest = string.match(line, "^(%S+)%s*(.*)$")
    for key, handler in pairs(SlashCmdList) do
        local i = 1
        while _G["SLASH_" .. key .. i] do
            if _G["SLASH_" .. key .. i] == command then
                return handler(rest)
            end
            i = i + 1
        end
    end
    error("unknown slash command " .. command)
end

-- Game API ------------------------------------------------------------------------------------
function time() return WowStub.now end
function GetServerTime() return WowStub.now end
function date(fmt, t) return os.date("!" .. fmt, t) end
function UnitName() return WowStub.player end
function GetRealmName() return WowStub.guild.realmName end
function GetNormalizedRealmName() return (string.gsub(WowStub.guild.realmName, "[%s%-]", "")) end
function IsInGuild() return WowStub.guild.inGuild end
function GetGuildInfo()
    if not WowStub.guild.inGuild then return nil end
    return WowStub.guild.name, "Guild Master", 0, nil
end
function GetNumGuildMembers()
    local online = 0
    for _, m in ipairs(WowStub.roster) do if m.online then online = online + 1 end end
    return #WowStub.roster, online, online
end
function GetGuildRosterInfo(i)
    local m = WowStub.roster[i]
    if not m then return nil end
    -- name, rankName, rankIndex, level, classDisplayName, zone, publicNote, officerNote,
    -- isOnline, status, classFileName, achievementPoints, achievementRank, isMobile,
    -- canSoR, repStanding, guid
    local officerNote = WowStub.guild.canViewOfficerNotes and m.officernote or ""
    return m.name, WowStub.guild.ranks[m.rankIndex + 1], m.rankIndex, m.level, m.class, m.zone,
        m.note, officerNote, m.online, m.status or 0, m.classFileName, m.achievementPoints or 0,
        0, m.isMobile or false, false, 4, m.guid
end
function GetGuildRosterLastOnline(i)
    local m = WowStub.roster[i]
    if not m or m.online then return nil end
    local off = m.offline or { 0, 0, 0, 0 }
    return off[1], off[2], off[3], off[4]
end
function GuildControlGetNumRanks() return #WowStub.guild.ranks end
function GuildControlGetRankName(i) return WowStub.guild.ranks[i] end
C_GuildInfo = {
    GuildRoster = function()
        WowStub.rosterRequests = WowStub.rosterRequests + 1
    end,
    CanViewOfficerNote = function() return WowStub.guild.canViewOfficerNotes end,
}
C_AddOns = { GetAddOnMetadata = function(_, field) return WowStub.toc and WowStub.toc[field] end }

-- Loading the addon ---------------------------------------------------------------------------
function WowStub.load_addon(dir)
    local name = string.match(dir, "([^/]+)/*$")
    local toc = { files = {} }
    for line in io.lines(dir .. "/" .. name .. ".toc") do
        local field, value = string.match(line, "^##%s*([%w]+):%s*(.-)%s*$")
        if field then
            toc[field] = value
        elseif string.match(line, "%S") and not string.match(line, "^#") then
            toc.files[#toc.files + 1] = string.match(line, "^%s*(.-)%s*$")
        end
    end
    WowStub.toc = toc
    local namespace = {}
    for _, file in ipairs(toc.files) do
        local chunk = assert(loadfile(dir .. "/" .. file:gsub("\\", "/")))
        chunk(name, namespace)
    end
    -- The client restores the SavedVariables before ADDON_LOADED.
    for variable in string.gmatch(toc.SavedVariables or "", "[^,%s]+") do
        WowStub.savedVariables[#WowStub.savedVariables + 1] = variable
    end
    WowStub.fire("ADDON_LOADED", name)
    return namespace
end

-- Writing SavedVariables like the client -----------------------------------------------------
local ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r" }

local function quote(s, style)
    if style == "legacy" then
        return string.format("%q", s)   -- old clients: %q (a newline becomes backslash-newline)
    end
    return '"' .. string.gsub(s, '[\\"\n\r%c]', function(c)
        return ESCAPES[c] or string.format("\\%03d", string.byte(c))
    end) .. '"'
end

local function scalar(v, style)
    local t = type(v)
    if t == "string" then return quote(v, style) end
    if t == "boolean" then return tostring(v) end
    if t == "number" then
        if math.type(v) == "integer" then return string.format("%d", v) end
        return string.format("%.17g", v)
    end
    error("cannot save a " .. t)
end

local function sortedKeys(t, arrayLength)
    local keys = {}
    for k in pairs(t) do
        if not (math.type(k) == "integer" and k >= 1 and k <= arrayLength) then
            keys[#keys + 1] = k
        end
    end
    table.sort(keys, function(a, b)
        if type(a) == type(b) and type(a) ~= "boolean" then return a < b end
        return type(a) < type(b)
    end)
    return keys
end

local function write(out, v, indent, style)
    if type(v) ~= "table" then
        out[#out + 1] = scalar(v, style)
        return
    end
    local inner = style == "legacy" and (indent .. "\t") or ""
    out[#out + 1] = "{\n"
    local n = 0  -- the array part: 1..n without holes; the rest is written with explicit keys
    while v[n + 1] ~= nil do n = n + 1 end
    for i = 1, n do
        out[#out + 1] = inner
        write(out, v[i], inner, style)
        out[#out + 1] = style == "legacy" and (", -- [" .. i .. "]\n") or ",\n"
    end
    for _, k in ipairs(sortedKeys(v, n)) do
        out[#out + 1] = inner .. "[" .. scalar(k, style) .. "] = "
        write(out, v[k], inner, style)
        out[#out + 1] = ",\n"
    end
    out[#out + 1] = indent .. "}"
end

function WowStub.write_saved_variables(style)
    local out = {}
    for _, variable in ipairs(WowStub.savedVariables) do
        local value = _G[variable]
        if value ~= nil then
            out[#out + 1] = variable .. " = "
            write(out, value, "", style)
            out[#out + 1] = "\n"
        end
    end
    return table.concat(out)
end
