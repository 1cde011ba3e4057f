-- Date filters read as the server reads them.
--
-- Conversations (GET /:pid/requests, /requests/csv): utils/datesUtil.js of tiledesk-server.
-- The text is tried against ten formats (DD/MM/YYYY and YYYY/MM/DD, each alone or with
-- " HH:mm", " HH:mm:ss", ", HH:mm", ", HH:mm:ss") with moment's forgiving parser, as wall time
-- in the `timezone` query parameter (an IANA name, any case; Europe/Rome when absent). A date
-- without a time of day ("HH:mm" nowhere in the text) means its whole day: the start from
-- 00:00 that day (>=), the end until 00:00 the next day (<); a date with a time is taken as
-- that instant, the end inclusive (<=). An unparseable date or an unknown zone is a 500
-- {success:false, error:<the server's message>}.
--
-- Activities (GET /:pid/activities, /activities/csv): pubmodules/activities/routes/activity.js
-- reads DD/MM/YYYY with the same forgiving parser in the server process's own zone (UTC in the
-- official image) and no `timezone`: see activities_range.
local tz = require("sbx.tz")

local _M = {}

_M.DEFAULT_ZONE = "Europe/Rome"

local FORMATS = {
  "DD/MM/YYYY HH:mm:ss", "DD/MM/YYYY, HH:mm:ss", "DD/MM/YYYY HH:mm", "DD/MM/YYYY, HH:mm", "DD/MM/YYYY",
  "YYYY/MM/DD HH:mm:ss", "YYYY/MM/DD, HH:mm:ss", "YYYY/MM/DD HH:mm", "YYYY/MM/DD, HH:mm", "YYYY/MM/DD",
}

-- moment's non-strict token patterns: one or two digits, a year one to four
local TOKEN = { DD = "%d%d?", MM = "%d%d?", HH = "%d%d?", mm = "%d%d?", ss = "%d%d?", YYYY = "%d%d?%d?%d?" }

local function tokens_of(format)
  local out, i = {}, 1
  while i <= #format do
    local two, four = format:sub(i, i + 1), format:sub(i, i + 3)
    if four == "YYYY" then out[#out + 1] = four i = i + 4
    elseif TOKEN[two] then out[#out + 1] = two i = i + 2
    else out[#out + 1] = format:sub(i, i) i = i + 1 end
  end
  return out
end

local FORMAT_TOKENS = {}
for k, f in ipairs(FORMATS) do FORMAT_TOKENS[k] = tokens_of(f) end

local function days_in_month(y, m)
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  return ({ 31, leap and 29 or 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[m]
end

-- moment(text, format) in forgiving mode: each token is looked for anywhere in what is left
-- of the text (what it skips is ignored), a token not found is left unused. Returns the civil
-- fields, or nil when no field was read or one overflows (month 13, 31 April, minute 60).
-- `now_year` fills a missing year, as moment fills the leading fields from today.
local function forgiving(text, tokens, now)
  local rest, got, any = text, {}, false
  for _, t in ipairs(tokens) do
    local pattern = TOKEN[t]
    local s, e
    if pattern then s, e = rest:find(pattern) else s, e = rest:find(t, 1, true) end
    if s then
      if pattern then
        got[t] = rest:sub(s, e)
        any = true
      end
      rest = rest:sub(e + 1)
    end
  end
  if not any then return nil end
  local y = got.YYYY and tonumber(got.YYYY)
  if got.YYYY and #got.YYYY == 2 then y = y + (y > 68 and 1900 or 2000) end
  local m = got.MM and tonumber(got.MM)
  local d = got.DD and tonumber(got.DD)
  -- the leading missing fields (year, then month, then day) come from today
  if not y then
    y = now.year
    if not m then
      m = now.month
      if not d then d = now.day end
    end
  end
  m, d = m or 1, d or 1
  local h, mi, sec = tonumber(got.HH) or 0, tonumber(got.mm) or 0, tonumber(got.ss) or 0
  if m < 1 or m > 12 or d < 1 or d > days_in_month(y, m) then return nil end
  if h > 24 or mi > 59 or sec > 59 or (h == 24 and (mi > 0 or sec > 0)) then return nil end
  return { year = y, month = m, day = d, hour = h, min = mi, sec = sec }
end

local function today(now_ms)
  local t = os.date("!*t", math.floor(now_ms / 1000))
  return { year = t.year, month = t.month, day = t.day }
end

-- JavaScript's `${value}` of a query value (an array joins with commas)
local function js_text(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return table.concat(parts, ",")
  end
  return tostring(v)
end

local function has_time(text)
  return text:find("%d:%d%d") ~= nil
end

local function civil_seconds(f)
  return tz.days_from_civil(f.year, f.month, f.day) * 86400 + f.hour * 3600 + f.min * 60 + f.sec
end

-- moment.tz(text, format, zone) then .tz(zone): the instant of the civil fields (tz.to_utc,
-- moment-timezone's Zone.parse) and the zone's offset at it.
local function instant(z, f)
  local t = tz.to_utc(z, civil_seconds(f))
  return t, tz.offset(z, t)
end

-- A change of the wall clock of a moment in a zone (add(1, 'day'), startOf('day')): moment
-- keeps the wall time w and takes the zone's offset at the instant the moment's offset o
-- gives (moment-timezone's updateOffset(mom, keepTime), once: its utcOffset() drops the zone
-- for the nested call); returns the instant and the moment's new offset, which need not be
-- the zone's offset at that instant next to a gap.
local function keep_wall(z, w, o)
  local o2 = tz.offset(z, w - o)
  return w - o2, o2
end

-- startOf('day'): 00:00 of the moment's wall date
local function start_of_day(z, t, o)
  local w = t + o
  return (keep_wall(z, w - w % 86400, o))
end

-- datesUtil.parseDate: the civil fields of the first format that reads the text.
local function parse(text, zone_name, now_ms)
  if type(text) ~= "string" then return nil, "The date must be a string: " .. js_text(text) end
  local trimmed = text:match("^%s*(.-)%s*$")
  local now = today(now_ms)
  for _, tokens in ipairs(FORMAT_TOKENS) do
    local f = forgiving(trimmed, tokens, now)
    if f then return f end
  end
  return nil, "Unable to parse the date: " .. text .. " with timezone: " .. zone_name
end

local function zone_or_error(name)
  if type(name) ~= "string" then return nil, "The timezone must be a string: " .. js_text(name) end
  local z = tz.zone(name)
  if not z then
    return nil, "Invalid timezone: " .. name .. '. Please use a valid IANA timezone (e.g., "Europe/Rome", "America/New_York")'
  end
  return z
end

-- The zone a request names (?timezone=, Europe/Rome when absent or empty).
function _M.zone_param(q)
  local v = q.timezone
  if v == nil or v == "" or v == true then return _M.DEFAULT_ZONE end
  return v
end

-- datesUtil.createDateRangeQuery. Returns { from_ms?, to_ms?, to_inclusive } (fields absent
-- when that end was not given), or nil, message (the 500's error text).
function _M.range(start_text, end_text, zone_name, now_ms)
  local z, err = zone_or_error(zone_name)
  if not z then return nil, err end
  local out = {}
  if start_text and start_text ~= "" then
    local f, perr = parse(start_text, zone_name, now_ms)
    if not f then return nil, perr end
    local t, o = instant(z, f)
    if not has_time(js_text(start_text)) then t = start_of_day(z, t, o) end
    out.from_ms = t * 1000
  end
  if end_text and end_text ~= "" then
    local f, perr = parse(end_text, zone_name, now_ms)
    if not f then return nil, perr end
    local t, o = instant(z, f)
    if has_time(js_text(end_text)) then
      out.to_ms, out.to_inclusive = t * 1000, true
    else
      -- clone().add(1, 'day').startOf('day'): 00:00 of the next day in the zone, excluded
      t, o = keep_wall(z, t + o + 86400, o)
      out.to_ms, out.to_inclusive = start_of_day(z, t, o) * 1000, false
    end
  end
  return out
end

-- Whether epoch ms t is inside a range made by range() or activities_range().
function _M.inside(r, t)
  if r.from_ms and t < r.from_ms then return false end
  if r.to_ms then
    if r.to_inclusive then return t <= r.to_ms end
    return t < r.to_ms
  end
  return true
end

-- The activity routes: moment(text, "DD/MM/YYYY") (forgiving) in UTC. The list reads
-- start..end of day inclusive (23:59:59.999) and ignores end_date without start_date; the CSV
-- export reads start 00:00 to the end's next day 00:00 inclusive. An unreadable date: nil
-- (the list answers 500 "Error getting activities.", the CSV export fails).
local DMY = tokens_of("DD/MM/YYYY")

function _M.activities_range(start_text, end_text, csv, now_ms)
  if not start_text or start_text == "" then return {} end
  local now = today(now_ms)
  local s = type(start_text) == "string" and forgiving(start_text, DMY, now)
  if not s then return nil end
  local out = { from_ms = tz.days_from_civil(s.year, s.month, s.day) * 86400000 }
  if end_text and end_text ~= "" then
    local e = type(end_text) == "string" and forgiving(end_text, DMY, now)
    if not e then return nil end
    local next_day = (tz.days_from_civil(e.year, e.month, e.day) + 1) * 86400000
    out.to_ms, out.to_inclusive = csv and next_day or next_day - 1, true
  end
  return out
end

return _M
