-- tiledesk.time: the server's timestamps as epoch seconds, and back, in any IANA time zone.
--
--   local time = require("tiledesk.time")    -- also tiledesk.time
--   local t = time.parse("2026-11-30T09:15:02.250Z")   -- 1795943702.25
--   time.format(t)                                       -- "2026-11-30T09:15:02.250Z"
--   time.format(t, "Europe/Rome")                        -- "2026-11-30T10:15:02.250+01:00"
--   time.duration(conv.createdAt, conv.closed_at)        -- seconds between two timestamps
--
-- Nothing here reads the machine's local zone (no os.date/os.time conversions): UTC arithmetic
-- is done by hand, and other zones come from the tz database files (TZif, RFC 8536) under
-- $TZDIR or /usr/share/zoneinfo, with the POSIX rule at their end for the years past the table.
-- Wrong argument types raise; a string that is no timestamp gives nil, msg.
local _M = {}

local floor = math.floor

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end
_M.days_from_civil = days_from_civil
_M.civil_from_days = civil_from_days

local function is_leap(y) return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) end
local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function days_in_month(y, m)
  if m == 2 and is_leap(y) then return 29 end
  return MDAYS[m]
end
_M.days_in_month = days_in_month

---------------------------------------------------------------------------------------------
-- Time zones

-- POSIX TZ rule strings (the footer of a TZif file): "CET-1CEST,M3.5.0,M10.5.0/3".
local function posix_name(s, i)
  if s:sub(i, i) == "<" then
    local j = s:find(">", i, true)
    if not j then return nil end
    return s:sub(i + 1, j - 1), j + 1
  end
  local j = i
  while s:sub(j, j):match("%a") do j = j + 1 end
  if j - i < 3 then return nil end
  return s:sub(i, j - 1), j
end

-- [+-]hh[:mm[:ss]] -> seconds, next index
local function posix_hms(s, i)
  local sign = 1
  local c = s:sub(i, i)
  if c == "+" then i = i + 1 elseif c == "-" then sign = -1 i = i + 1 end
  local h, j = s:match("^(%d+)()", i)
  if not h then return nil end
  local v = tonumber(h) * 3600
  local mm, j2 = s:match("^:(%d+)()", j)
  if mm then
    v = v + tonumber(mm) * 60
    j = j2
    local ss, j3 = s:match("^:(%d+)()", j)
    if ss then v = v + tonumber(ss) j = j3 end
  end
  return sign * v, j
end

local function posix_date(s, i)
  local r = {}
  local m, w, d, j = s:match("^M(%d+)%.(%d+)%.(%d+)()", i)
  if m then
    r.kind, r.m, r.w, r.d = "M", tonumber(m), tonumber(w), tonumber(d)
  else
    local n
    n, j = s:match("^J(%d+)()", i)
    if n then r.kind, r.n = "J", tonumber(n)
    else
      n, j = s:match("^(%d+)()", i)
      if not n then return nil end
      r.kind, r.n = "N", tonumber(n)
    end
  end
  r.time = 7200
  if s:sub(j, j) == "/" then
    local t, j2 = posix_hms(s, j + 1)
    if not t then return nil end
    r.time, j = t, j2
  end
  return r, j
end

local function parse_posix(s)
  local z = {}
  local std, i = posix_name(s, 1)
  if not std then return nil end
  local off
  off, i = posix_hms(s, i)
  if not off then return nil end
  z.std = -off
  if i > #s then return z end
  local dst
  dst, i = posix_name(s, i)
  if not dst then return nil end
  z.dst = z.std + 3600
  if s:sub(i, i) ~= "," and i <= #s then
    off, i = posix_hms(s, i)
    if not off then return nil end
    z.dst = -off
  end
  if s:sub(i, i) ~= "," then
    -- no rule: POSIX leaves it to the implementation; the US rules are the usual default
    z.start = { kind = "M", m = 3, w = 2, d = 0, time = 7200 }
    z["end"] = { kind = "M", m = 11, w = 1, d = 0, time = 7200 }
    return z
  end
  z.start, i = posix_date(s, i + 1)
  if not z.start or s:sub(i, i) ~= "," then return nil end
  z["end"] = posix_date(s, i + 1)
  if not z["end"] then return nil end
  return z
end

-- The local-time second (seconds since 1970 on the local wall clock) a rule date falls on.
local function rule_local(r, y)
  local day
  if r.kind == "M" then
    local first = days_from_civil(y, r.m, 1)
    local wday = (first + 4) % 7 -- 1970-01-01 was a Thursday
    local d = first + (r.d - wday) % 7 + (r.w - 1) * 7
    if r.w == 5 then
      local last = first + days_in_month(y, r.m) - 1
      while d > last do d = d - 7 end
    end
    day = d
  elseif r.kind == "J" then -- 1..365, February 29 never counted
    local n = r.n
    if is_leap(y) and n >= 60 then n = n + 1 end
    day = days_from_civil(y, 1, 1) + n - 1
  else -- 0..365, February 29 counted
    day = days_from_civil(y, 1, 1) + r.n
  end
  return day * 86400 + r.time
end

local function posix_offset(z, t)
  if not z.start then return z.std, false end
  local y = civil_from_days(floor((t + z.std) / 86400))
  local s = rule_local(z.start, y) - z.std       -- DST starts at this UTC second
  local e = rule_local(z["end"], y) - z.dst      -- and ends at this one
  local dst
  if s < e then dst = t >= s and t < e else dst = t < e or t >= s end
  if dst then return z.dst, true end
  return z.std, false
end

-- Big-endian integers out of a string (works on Lua 5.1 without string.unpack).
local function be(s, i, n, signed)
  local v = 0
  for k = i, i + n - 1 do v = v * 256 + s:byte(k) end
  if signed and s:byte(i) >= 128 then v = v - 2 ^ (8 * n) end
  return v
end

local function parse_tzif(data)
  if data:sub(1, 4) ~= "TZif" then return nil, "not a TZif file" end
  local version = data:sub(5, 5)
  local function counts(at)
    if #data < at + 43 then return nil end
    local c = {}
    for k = 1, 6 do c[k] = be(data, at + 20 + (k - 1) * 4, 4) end
    return { isut = c[1], isstd = c[2], leap = c[3], time = c[4], type = c[5], char = c[6] }
  end
  local c = counts(1)
  if not c then return nil, "truncated" end
  local tsize, at = 4, 45
  if version >= "2" then
    -- skip the version 1 block; read the 64-bit one
    at = at + c.time * 4 + c.time + c.type * 6 + c.char + c.leap * 8 + c.isstd + c.isut
    c = counts(at)
    if not c then return nil, "truncated" end
    tsize, at = 8, at + 44
  end
  local need = at + c.time * tsize + c.time + c.type * 6 + c.char + c.leap * (tsize + 4) + c.isstd + c.isut
  if #data < need - 1 then return nil, "truncated" end
  local z = { times = {}, idx = {}, types = {} }
  for k = 1, c.time do z.times[k] = be(data, at + (k - 1) * tsize, tsize, true) end
  at = at + c.time * tsize
  for k = 1, c.time do z.idx[k] = data:byte(at + k - 1) + 1 end
  at = at + c.time
  for k = 1, c.type do
    local p = at + (k - 1) * 6
    z.types[k] = { off = be(data, p, 4, true), dst = data:byte(p + 4) ~= 0 }
  end
  if c.type == 0 then return nil, "no local time type" end
  if tsize == 8 then
    local footer = data:match("^\n([^\n]*)\n", need)
    if footer and footer ~= "" then z.posix = parse_posix(footer) end
  end
  return z
end

local UTC = { times = {}, idx = {}, types = { { off = 0, dst = false } }, name = "UTC" }
local zones = { UTC = UTC, ["Etc/UTC"] = UTC, ["Etc/GMT"] = UTC, GMT = UTC, ["Etc/Zulu"] = UTC, Zulu = UTC,
  ["Etc/Universal"] = UTC, Universal = UTC, UCT = UTC, ["Etc/UCT"] = UTC }

local function zone_dirs()
  local dirs = {}
  local env = os.getenv("TZDIR")
  if env and env ~= "" then dirs[#dirs + 1] = env end
  dirs[#dirs + 1] = "/usr/share/zoneinfo"
  return dirs
end

-- The zone object of an IANA name, or nil, msg.
function _M.zone(name)
  if type(name) == "table" and name.types then return name end
  if type(name) ~= "string" then return nil, "time zone name expected, got " .. type(name) end
  local z = zones[name]
  if z then return z end
  if name == "" or name:find("%.%.") or not name:match("^[%w_+%-]+[%w_+%-/]*$") or name:sub(-1) == "/" then
    return nil, "unknown time zone '" .. name .. "' (an IANA name such as \"Europe/Rome\" expected)"
  end
  for _, dir in ipairs(zone_dirs()) do
    local f = io.open(dir .. "/" .. name, "rb")
    if f then
      local data = f:read("*a")
      f:close()
      local zz, why = parse_tzif(data or "")
      if not zz then return nil, "time zone '" .. name .. "': " .. dir .. "/" .. name .. " " .. why end
      zz.name = name
      zones[name] = zz
      return zz
    end
  end
  return nil, "unknown time zone '" .. name .. "' (no such file in " .. table.concat(zone_dirs(), " or ")
    .. "; an IANA name such as \"Europe/Rome\" expected)"
end

local function zone_or_raise(tz, op, level)
  if tz == nil then return UTC end
  local z, msg = _M.zone(tz)
  if not z then error(op .. ": " .. msg, level + 1) end
  return z
end

-- UTC offset (seconds east) and daylight-saving flag of a zone at epoch second t.
local function offset_at(z, t)
  local times = z.times
  local n = #times
  if n == 0 or t < times[1] then
    if n == 0 and z.posix then return posix_offset(z.posix, t) end
    local ty = z.types[1]
    return ty.off, ty.dst
  end
  if t >= times[n] and z.posix then return posix_offset(z.posix, t) end
  local lo, hi = 1, n
  while lo < hi do
    local mid = floor((lo + hi + 1) / 2)
    if times[mid] <= t then lo = mid else hi = mid - 1 end
  end
  local ty = z.types[z.idx[lo]] or z.types[1]
  return ty.off, ty.dst
end

local function check_number(t, op, n)
  if type(t) ~= "number" or t ~= t or t == math.huge or t == -math.huge then
    error(string.format("%s: bad argument #%d (finite number expected, got %s)", op, n,
      type(t) == "number" and tostring(t) or type(t)), 3)
  end
end

-- offset(t, tz) -> seconds east of UTC in that zone at epoch second t, is_dst
function _M.offset(t, tz)
  check_number(t, "time.offset()", 1)
  return offset_at(zone_or_raise(tz, "time.offset()", 2), t)
end

-- civil(t, tz?) -> { year, month, day, hour, min, sec (with the fraction), wday (1 = Sunday),
-- yday, isdst, offset } on the wall clock of tz (default UTC)
function _M.civil(t, tz)
  check_number(t, "time.civil()", 1)
  local z = zone_or_raise(tz, "time.civil()", 2)
  local off, dst = offset_at(z, floor(t))
  local lt = t + off
  local days = floor(lt / 86400)
  local rem = lt - days * 86400
  local y, m, d = civil_from_days(days)
  local hour = floor(rem / 3600)
  local min = floor((rem - hour * 3600) / 60)
  return { year = y, month = m, day = d, hour = hour, min = min, sec = rem - hour * 3600 - min * 60,
    wday = (days + 4) % 7 + 1, yday = days - days_from_civil(y, 1, 1) + 1, isdst = dst, offset = off }
end

-- from_civil(c, tz?) -> epoch seconds of a wall-clock time in tz (default UTC), how
-- how: "exact", "ambiguous" (the clock showed it twice: the earlier instant is returned, as the
-- server's moment-timezone does) or "gap" (the clock skipped it: moved forward by the gap).
local function from_civil(z, y, mo, d, h, mi, s)
  local L = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
  if #z.times == 0 and not z.posix then return L - z.types[1].off, "exact" end
  local before = offset_at(z, floor(L) - 86400)
  local after = offset_at(z, floor(L) + 86400)
  local found = {}
  for _, o in ipairs(before == after and { before } or { before, after }) do
    local t = L - o
    if offset_at(z, floor(t)) == o then found[#found + 1] = t end
  end
  if #found == 1 then return found[1], "exact" end
  if #found == 2 then return math.min(found[1], found[2]), "ambiguous" end
  return L - before, "gap"
end

local CIVIL_KEYS = { year = true, month = true, day = true, hour = true, min = true, sec = true,
  wday = true, yday = true, isdst = true, offset = true }

-- Reads a { year, month, day [, hour, min, sec] } table (named keys, as os.date("*t") gives, or
-- 3 to 6 positional numbers). Returns the fields and whether a time of day was given, or nil, msg.
local function civil_fields(c)
  local f = {}
  if c[1] ~= nil then
    for k in pairs(c) do
      if type(k) ~= "number" or k < 1 or k > 6 or k ~= floor(k) then
        return nil, "a date table is either positional {year, month, day [, hour, min, sec]} or named, not both"
      end
    end
    f.year, f.month, f.day, f.hour, f.min, f.sec = c[1], c[2], c[3], c[4], c[5], c[6]
  else
    for k in pairs(c) do
      if not CIVIL_KEYS[k] then return nil, "unknown key '" .. tostring(k) .. "' in a date table" end
    end
    f.year, f.month, f.day, f.hour, f.min, f.sec = c.year, c.month, c.day, c.hour, c.min, c.sec
  end
  for _, k in ipairs({ "year", "month", "day" }) do
    if type(f[k]) ~= "number" then return nil, "a date table needs a numeric " .. k end
  end
  local has_time = f.hour ~= nil or f.min ~= nil or f.sec ~= nil
  for _, k in ipairs({ "hour", "min", "sec" }) do
    if f[k] ~= nil and type(f[k]) ~= "number" then return nil, "'" .. k .. "' must be a number" end
  end
  f.hour, f.min, f.sec = f.hour or 0, f.min or 0, f.sec or 0
  for _, k in ipairs({ "year", "month", "day", "hour", "min" }) do
    if f[k] ~= floor(f[k]) then return nil, "'" .. k .. "' must be a whole number" end
  end
  if f.month < 1 or f.month > 12 then return nil, "month " .. f.month .. " is not 1..12" end
  if f.day < 1 or f.day > days_in_month(f.year, f.month) then
    return nil, string.format("%04d-%02d has no day %d", f.year, f.month, f.day)
  end
  if f.hour < 0 or f.hour > 23 then return nil, "hour " .. f.hour .. " is not 0..23" end
  if f.min < 0 or f.min > 59 then return nil, "minute " .. f.min .. " is not 0..59" end
  if f.sec < 0 or f.sec >= 61 then return nil, "second " .. f.sec .. " is not 0..60" end
  return f, has_time
end

function _M.from_civil(c, tz)
  if type(c) ~= "table" then error("time.from_civil(): bad argument #1 (table expected, got " .. type(c) .. ")", 2) end
  local z = zone_or_raise(tz, "time.from_civil()", 2)
  local f, why = civil_fields(c)
  if not f then error("time.from_civil(): " .. why, 2) end
  return from_civil(z, f.year, f.month, f.day, f.hour, f.min, f.sec)
end

---------------------------------------------------------------------------------------------
-- Reading timestamps

-- Reads a string into a description: { y, mo, d, h, mi, s, has_time, off (seconds east, when
-- the string names its offset) } or nil, msg. Forms: ISO 8601 (2026-11-30, 2026-11-30T09:15,
-- ...:02, ...:02.250, then Z or +01:00 / +0100 / +01; a space may replace the T), the server's
-- query forms DD/MM/YYYY[, HH:mm[:ss]] and YYYY/MM/DD[, HH:mm[:ss]].
local function read(s)
  local str = s:match("^%s*(.-)%s*$")
  local y, mo, d, rest = str:match("^([%+%-]?%d%d%d%d+)%-(%d%d)%-(%d%d)(.*)$")
  local iso = y ~= nil
  if not y then
    d, mo, y, rest = str:match("^(%d%d?)/(%d%d?)/(%d%d%d%d)(.*)$")
    if not d then y, mo, d, rest = str:match("^(%d%d%d%d)/(%d%d?)/(%d%d?)(.*)$") end
    if not y then return nil, "not a date" end
  end
  local r = { y = tonumber(y), mo = tonumber(mo), d = tonumber(d), h = 0, mi = 0, s = 0 }
  if rest ~= "" then
    local h, mi, tail
    if iso then h, mi, tail = rest:match("^[Tt ](%d%d):(%d%d)(.*)$")
    else h, mi, tail = rest:match("^,? +(%d%d?):(%d%d)(.*)$") end
    if not h then return nil, "unreadable time of day" end
    r.h, r.mi, r.has_time = tonumber(h), tonumber(mi), true
    local sec, tail2 = tail:match("^:(%d%d)(.*)$")
    if sec then
      r.s, tail = tonumber(sec), tail2
      local frac, tail3 = tail:match("^[%.,](%d+)(.*)$")
      if frac then r.s, tail = r.s + tonumber("0." .. frac), tail3 end
    end
    if tail ~= "" then
      if not iso then return nil, "unreadable time of day" end
      if tail == "Z" or tail == "z" then r.off = 0
      else
        local sign, oh, om = tail:match("^([%+%-])(%d%d):?(%d?%d?)$")
        if not sign or (#om == 1) then return nil, "unreadable offset '" .. tail .. "'" end
        local o = tonumber(oh) * 3600 + (tonumber(om) or 0) * 60
        if tonumber(oh) > 23 or (tonumber(om) or 0) > 59 then return nil, "offset '" .. tail .. "' out of range" end
        r.off = sign == "-" and -o or o
      end
    end
  end
  local f, why = civil_fields({ year = r.y, month = r.mo, day = r.d, hour = r.h, min = r.mi, sec = r.s })
  if not f then return nil, why end
  return r
end
_M._read = read

local function describe(s)
  local shown = #s > 60 and (s:sub(1, 60) .. "...") or s
  return "'" .. shown .. "'"
end

-- parse(v, tz?) -> epoch seconds (a number with the fraction of the second), or nil, msg.
-- v: a timestamp string (ISO 8601 with Z or an offset as the server writes them; without an
-- offset, or in the server's DD/MM/YYYY[ HH:mm[:ss]] form, it is a wall-clock time in tz,
-- default UTC), a { year, month, day [, hour, min, sec] } table (in tz), or a number (returned).
function _M.parse(v, tz)
  local z = zone_or_raise(tz, "time.parse()", 2)
  local tv = type(v)
  if tv == "number" then
    check_number(v, "time.parse()", 1)
    return v
  elseif tv == "table" then
    local f, why = civil_fields(v)
    if not f then return nil, "time.parse(): " .. why end
    return (from_civil(z, f.year, f.month, f.day, f.hour, f.min, f.sec))
  elseif tv ~= "string" then
    error("time.parse(): bad argument #1 (string, table or number expected, got " .. tv .. ")", 2)
  end
  local r, why = read(v)
  if not r then return nil, "time.parse(): " .. describe(v) .. " is not a timestamp (" .. why .. ")" end
  if r.off then
    return days_from_civil(r.y, r.mo, r.d) * 86400 + r.h * 3600 + r.mi * 60 + r.s - r.off
  end
  return (from_civil(z, r.y, r.mo, r.d, r.h, r.mi, r.s))
end

-- duration(a, b) -> seconds from a to b (negative when b is earlier), each read by parse();
-- nil, msg when either is no timestamp
function _M.duration(a, b)
  if a == nil or b == nil then
    error("time.duration(): bad argument #" .. (a == nil and 1 or 2) .. " (timestamp expected, got nil)", 2)
  end
  local ta, m1 = _M.parse(a)
  if not ta then return nil, m1 end
  local tb, m2 = _M.parse(b)
  if not tb then return nil, m2 end
  return tb - ta
end

---------------------------------------------------------------------------------------------
-- Writing timestamps

-- The whole milliseconds of t, rounded to the nearest.
local function whole_ms(t) return floor(t * 1000 + 0.5) end

-- format(t, tz?) -> "2026-11-30T09:15:02.250Z" (ISO 8601 with milliseconds); in another zone,
-- its wall-clock time and offset: "2026-11-30T10:15:02.250+01:00"
function _M.format(t, tz)
  check_number(t, "time.format()", 1)
  local z = zone_or_raise(tz, "time.format()", 2)
  local ms = whole_ms(t)
  local secs = floor(ms / 1000)
  local off = offset_at(z, secs)
  local lt = secs + off
  local days = floor(lt / 86400)
  local rem = lt - days * 86400
  local y, m, d = civil_from_days(days)
  local out = string.format("%04d-%02d-%02dT%02d:%02d:%02d.%03d", y, m, d, floor(rem / 3600),
    floor(rem % 3600 / 60), rem % 60, ms - secs * 1000)
  if z == UTC or (off == 0 and tz == nil) then return out .. "Z" end
  local a = off < 0 and -off or off
  return out .. string.format("%s%02d:%02d", off < 0 and "-" or "+", floor(a / 3600), floor(a % 3600 / 60))
end

-- now() -> the current epoch second (os.time() with no argument is UTC-based everywhere)
function _M.now() return os.time() end

return _M
