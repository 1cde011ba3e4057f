-- IANA time zones from the machine's zoneinfo database (Debian's tzdata: /usr/share/zoneinfo),
-- read from the TZif files themselves: real rules and daylight saving, no dependence on the
-- process's own zone. What moment-timezone (the server's library) does with a zone:
--   zone(name)            the zone, its name looked up in any case (moment.tz.zone), or nil
--   offset(z, utc_s)      seconds east of UTC in force at an instant
--   to_utc(z, civil_s)    the instant of a wall-clock time (seconds since the epoch as if UTC)
--                         as moment-timezone reads it (Zone.parse, below): a time in a daylight-
--                         saving gap moves on by the gap, a time that happens twice is the earlier
--                         one
local _M = {}

_M.DIR = "/usr/share/zoneinfo"

local cache = {}
local names -- lower-case name -> canonical name, from tzdata.zi (zones and links)

local function u32(s, i)
  local a, b, c, d = s:byte(i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function s32(s, i)
  local v = u32(s, i)
  if v >= 2147483648 then v = v - 4294967296 end
  return v
end

local function s64(s, i)
  local hi, lo = s32(s, i), u32(s, i + 4)
  return hi * 4294967296 + lo
end

-- the counts of a TZif header at i: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
local function counts(s, i)
  local c = {}
  for k = 0, 5 do c[k + 1] = u32(s, i + 20 + k * 4) end
  return c
end

---------------------------------------------------------------------------------------------
-- POSIX TZ footer ("CET-1CEST,M3.5.0,M10.5.0/3"): the rule after the last transition

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
_M.days_from_civil = days_from_civil

local function year_of(t)
  local z = math.floor(t / 86400) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0)
end

-- "[+-]hh[:mm[:ss]]" at position i; returns seconds, next position
local function hms(s, i)
  local sign, h, rest = s:match("^([+-]?)(%d+)()", i)
  if not h then return nil end
  local v, j = tonumber(h) * 3600, rest
  local m, j2 = s:match("^:(%d+)()", j)
  if m then
    v, j = v + tonumber(m) * 60, j2
    local sec, j3 = s:match("^:(%d+)()", j)
    if sec then v, j = v + tonumber(sec), j3 end
  end
  return sign == "-" and -v or v, j
end

local function zone_name(s, i)
  local q = s:match("^<[^>]*>()", i)
  if q then return q end
  return s:match("^%a+()", i)
end

-- a transition day "Mm.w.d" (also Jn, n) of year y, in days since the epoch
local function rule_day(rule, y)
  local m, w, d = rule.m, rule.w, rule.d
  if m then
    local first = days_from_civil(y, m, 1)
    local wd_first = (first + 4) % 7 -- 0 = Sunday
    local day = first + (d - wd_first) % 7 + (w - 1) * 7
    local next_month = m == 12 and days_from_civil(y + 1, 1, 1) or days_from_civil(y, m + 1, 1)
    while day >= next_month do day = day - 7 end
    return day
  end
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  if rule.julian then
    local n = rule.n
    if leap and n >= 60 then n = n + 1 end
    return days_from_civil(y, 1, 1) + n - 1
  end
  return days_from_civil(y, 1, 1) + rule.n
end

local function parse_rule(s, i)
  local rule = { time = 7200 }
  local m, w, d, j = s:match("^M(%d+)%.(%d+)%.(%d+)()", i)
  if m then
    rule.m, rule.w, rule.d = tonumber(m), tonumber(w), tonumber(d)
  else
    local n
    n, j = s:match("^J(%d+)()", i)
    if n then rule.julian, rule.n = true, tonumber(n)
    else
      n, j = s:match("^(%d+)()", i)
      if not n then return nil end
      rule.n = tonumber(n)
    end
  end
  if s:sub(j, j) == "/" then rule.time, j = hms(s, j + 1) end
  return rule, j
end

local function parse_footer(s)
  if not s or s == "" then return nil end
  local j = zone_name(s, 1)
  if not j then return nil end
  local std
  std, j = hms(s, j)
  if not std then return nil end
  local f = { std = -std }
  local j2 = zone_name(s, j)
  if not j2 then return f end
  f.dst = f.std + 3600
  local dst, j3 = hms(s, j2)
  if dst then f.dst, j2 = -dst, j3 end
  if s:sub(j2, j2) ~= "," then return f end
  local r1, k = parse_rule(s, j2 + 1)
  if not r1 or s:sub(k, k) ~= "," then return nil end
  local r2 = parse_rule(s, k + 1)
  if not r2 then return nil end
  f.start, f.stop = r1, r2
  return f
end

local function footer_offset(f, t)
  if not f.start then return f.std end
  local y = year_of(t + f.std)
  -- the rule times are local: start in standard time, end in daylight time
  local on = rule_day(f.start, y) * 86400 + f.start.time - f.std
  local off = rule_day(f.stop, y) * 86400 + f.stop.time - f.dst
  if on < off then
    return (t >= on and t < off) and f.dst or f.std
  end
  return (t >= off and t < on) and f.std or f.dst -- southern hemisphere
end

---------------------------------------------------------------------------------------------
-- TZif

local function parse_tzif(data)
  if #data < 44 or data:sub(1, 4) ~= "TZif" then return nil end
  local version = data:sub(5, 5)
  local c = counts(data, 1)
  local isut, isstd, leap, timecnt, typecnt, charcnt = c[1], c[2], c[3], c[4], c[5], c[6]
  local tsize, base = 4, 45
  if version >= "2" then
    -- skip the 32-bit block and read the 64-bit one
    local v1 = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut
    c = counts(data, v1 + 1)
    isut, isstd, leap, timecnt, typecnt, charcnt = c[1], c[2], c[3], c[4], c[5], c[6]
    tsize, base = 8, v1 + 45
  end
  local z = { times = {}, idx = {}, offsets = {} }
  local p = base
  for k = 1, timecnt do
    z.times[k] = tsize == 8 and s64(data, p) or s32(data, p)
    p = p + tsize
  end
  for k = 1, timecnt do
    z.idx[k] = data:byte(p) + 1
    p = p + 1
  end
  for k = 1, typecnt do
    z.offsets[k] = s32(data, p)
    p = p + 6
  end
  p = p + charcnt + leap * (tsize + 4) + isstd + isut
  if tsize == 8 then
    z.footer = parse_footer(data:match("^\n([^\n]*)\n", p))
  end
  -- before the first transition: the first standard type, as RFC 8536 says (type 0 here)
  z.first = z.offsets[1] or 0
  return z
end

local function load_names()
  names = {}
  local f = io.open(_M.DIR .. "/tzdata.zi", "rb")
  if not f then return end
  for line in f:lines() do
    local zone = line:match("^Z (%S+)")
    if zone then names[zone:lower()] = zone end
    local link = line:match("^L %S+ (%S+)")
    if link then names[link:lower()] = link end
  end
  f:close()
  names["utc"] = names["utc"] or "UTC"
end

-- The zone of an IANA name (any case, links too), or nil when there is no such zone.
function _M.zone(name)
  if type(name) ~= "string" or name == "" or name:find("%.%.") or name:find("^/") then return nil end
  if not names then load_names() end
  local canonical = names[name:lower()]
  if not canonical then return nil end
  local z = cache[canonical]
  if z == nil then
    local f = io.open(_M.DIR .. "/" .. canonical, "rb")
    local data = f and f:read("*a")
    if f then f:close() end
    z = data and parse_tzif(data) or false
    if z then z.name = canonical end
    cache[canonical] = z
  end
  return z or nil
end

function _M.offset(z, t)
  local times = z.times
  local n = #times
  if n == 0 or t < times[1] then
    if n == 0 and z.footer then return footer_offset(z.footer, t) end
    return z.first
  end
  if t >= times[n] and z.footer then return footer_offset(z.footer, t) end
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if times[mid] <= t then lo = mid else hi = mid - 1 end
  end
  return z.offsets[z.idx[lo]]
end

-- The transitions of the footer's rule in years y0..y1: { { t, offset after }, ... } ascending.
local function footer_transitions(f, y0, y1)
  local out = {}
  if not (f and f.start) then return out end
  for y = y0, y1 do
    out[#out + 1] = { rule_day(f.start, y) * 86400 + f.start.time - f.std, f.dst }
    out[#out + 1] = { rule_day(f.stop, y) * 86400 + f.stop.time - f.dst, f.std }
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

-- Every transition in (from, to]: the table's, then the footer rule's after the table's last.
local function transitions(z, from, to)
  local times, n, out = z.times, #z.times, {}
  local lo, hi = 1, n + 1 -- the first index with times[k] > from
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if times[mid] > from then hi = mid else lo = mid + 1 end
  end
  for k = lo, n do
    if times[k] > to then return out end
    out[#out + 1] = { times[k], z.offsets[z.idx[k]] }
  end
  local last = n > 0 and times[n] or -math.huge
  for _, tr in ipairs(footer_transitions(z.footer, year_of(math.max(from, last)) - 1, year_of(to) + 1)) do
    if tr[1] > from and tr[1] <= to and tr[1] > last then out[#out + 1] = tr end
  end
  return out
end

-- moment-timezone 0.5.43's Zone.parse (the zone's periods in order; for each, its end in wall
-- time is `until + offset`, where a period entered by turning the clocks back uses the
-- offset of the period before; the first period whose end is after the wall time gives the
-- offset): a time skipped by a gap is read with the offset before it when the period before
-- was itself entered by turning the clocks back (every daylight-saving gap), else with the
-- offset after it (Kiritimati's 31/12/1994, Apia's 30/12/2011); a time that happens twice is
-- the earlier one.
-- The last transition at or before t (nil: none).
local function last_transition(z, t)
  local times, n = z.times, #z.times
  local last = n > 0 and times[n] or nil
  if last and t >= last or n == 0 then
    local found = last
    for _, tr in ipairs(footer_transitions(z.footer, year_of(t) - 1, year_of(t))) do
      if tr[1] <= t and (not last or tr[1] > last) then found = tr[1] end
    end
    return found
  end
  if t < times[1] then return nil end
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if times[mid] <= t then lo = mid else hi = mid - 1 end
  end
  return times[lo]
end

function _M.to_utc(z, local_s)
  local from = local_s - 4 * 86400
  local ts = transitions(z, from, local_s + 4 * 86400)
  local o = _M.offset(z, from)
  local began = last_transition(z, from)
  local prev = began and _M.offset(z, began - 1) or o
  for j = 1, #ts + 1 do
    local tr = ts[j]
    if not tr then return local_s - o end
    local eff = o < prev and prev or o
    if local_s < tr[1] + eff then return local_s - o end
    prev, o = o, tr[2]
  end
end

return _M
