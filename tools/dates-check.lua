-- The differential date check (tools/dates-check.sh runs it): a corpus of date filters goes
-- through the sandbox's parser (sandbox/lua/sbx/dates.lua) and through tools/dates-check.js,
-- which calls moment / moment-timezone (the versions tiledesk-server pins) the way the server
-- does; every answer must be identical: the instants (epoch ms), the end's operator, the error
-- message. Prints the differences and "N cases, all identical"; exits 1 on any difference.
--   lua5.4 tools/dates-check.lua NODE_MODULES_DIR
local ROOT = arg[0]:match("^(.*)/tools/[^/]*$") or "."
package.path = ROOT .. "/sandbox/lua/?.lua;" .. ROOT .. "/?.lua;" .. package.path
local cjson = require("cjson")
local common = require("tools.common")
local dates = require("sbx.dates")

local modules = assert(arg[1], "usage: lua5.4 tools/dates-check.lua NODE_MODULES_DIR")

-- epoch ms of a UTC civil time
local function utc(y, mo, d, h, mi)
  return ((require("sbx.tz").days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000
end

local NOW = utc(2026, 11, 30, 12, 0)       -- the server's "today" (UTC) fills missing fields
local LATE = utc(2026, 12, 31, 23, 30)     -- a day that ends a year
local cases = {}
local function add(c)
  c.now = c.now or NOW
  cases[#cases + 1] = c
end

-- as the start and as the end of a conversation filter, in a zone
local function both(text, zone, now)
  add{ kind = "range", start = text, zone = zone, now = now }
  add{ kind = "range", ["end"] = text, zone = zone, now = now }
end

-- 1. the formats the server lists, and what moment's forgiving parser makes of other texts
local TEXTS = {
  "20/01/2026", "20/01/2026 14:30", "20/01/2026 14:30:15", "20/01/2026, 14:30", "20/01/2026, 14:30:15",
  "2026/01/20", "2026/01/20 14:30", "2026/01/20 14:30:15", "2026/01/20, 14:30", "2026/01/20, 14:30:15",
  "2026-01-20", "20-01-2026", "20.01.2026", "1/2/2026", "01/02/26", "01/02/69", "01/02/68", "20/1/2026 9:05",
  "20/01/2026T10:00", " 20/01/2026 ", "20/01/2026 14", "20/01/2026 14:30:15.250", "20/01/2026 2:30 PM",
  "Monday 20/01/2026", "20 01 2026", "20012026", "2026", "01/2026", "20/01", "5", "2026/1/2", "99/99/9999",
  "20/13/2026", "31/04/2026", "29/02/2025", "29/02/2024", "20/01/2026 24:00", "20/01/2026 24:00:01",
  "20/01/2026 23:60", "20/01/2026 25:00", "20/01/2026 23:59:60", "00/01/2026", "abc", "", "20/01/0099",
  "20/01/1", "1/1/1", "20/01/12345", "20 / 01 / 2026", "2026/20/01", "31/12/2026 23:59:59", "01/01/1900",
  "20/01/2026 14:30:15 +05:00", "2026-01-20T14:30:00Z", "20/01/2026,14:30", "20/01/2026  14:30",
  "20/01/2026 14:30:15:10", "2026/01/20 7:5", "1/1/2026 0:00", "31/12/2025, 23:59", "12:30", "20/01/2026 12:3",
  "x20/01/2026", "20/01/2026x", "200/01/2026", "20/001/2026", "2026/01/2026", "0/0/0", "31/12/9999 23:59:59",
  "20/Jan/2026", "January 20 2026", "-20/01/2026", "20/01/-2026", "+20/01/2026", "20/01/2026 1:2:3",
  "20/01/2026 01:02:03 PM", "٢٠/٠١/٢٠٢٦", "２０/０１/２０２６", "20\t01\t2026", "20/01/2026\n14:30", "2026/02/30",
  "2026/13/01", "2026/1/1 24:00", "2026/12/31, 24:00:00", "1/1", "1", "0", "00/00/0000", "20/01/26 14:30",
  "20/01/2026 14:30:15:99", "20/01/2026 14:3:15", "20/01/2026 14::30", "2026/01/20 14:30 +0100",
  "31/12/1969 23:59:59", "01/01/1970", "29/02/2000", "29/02/1900", "29/02/2100", "15/10/1582", "04/10/1582",
  "20/01/2026, 14:30:15", "20/01/2026 ,14:30", "  2026/01/20   ", "2026//01/20", "20//01/2026", "20/01//2026",
  string.rep("1", 40), "20/01/2026 " .. string.rep("9", 30),
}
for _, t in ipairs(TEXTS) do both(t, "Europe/Rome") end

-- 2. the fields the text lacks come from the server's today (UTC), also on the year's last day
for _, t in ipairs({ "20/01", "20", "14:30", "31/12", "01/01", "5 14:30", "2026" }) do
  both(t, "Europe/Rome", LATE)
  both(t, "UTC", LATE)
  both(t, "Pacific/Kiritimati", LATE) -- already 2027 there: moment still fills from the UTC date
end

-- 3. daylight saving: spring gaps, autumn repeats, days of 23 and 25 hours, midnights that do
--    not exist (Santiago, Havana), a 30-minute shift (Lord Howe), a day that was skipped
--    (Kiritimati, 31/12/1994), a far-off negative zone (St John's, -3:30)
local EDGES = {
  ["Europe/Rome"] = { "29/03/2026 02:30", "29/03/2026 02:00", "29/03/2026 03:00", "29/03/2026 01:59:59",
    "25/10/2026 02:30", "25/10/2026 03:00", "25/10/2026 01:59", "25/10/2026 02:00", "29/03/2026", "25/10/2026",
    "28/03/2026", "24/10/2026", "31/03/2024 02:30", "27/10/2024 02:30", "01/07/1980 12:00", "01/01/1890",
    "01/07/2040 12:00", "27/03/2050 02:30", "31/10/2100 02:30", "01/07/0099 12:00" },
  ["America/St_Johns"] = { "08/03/2026 02:30", "08/03/2026 02:00", "08/03/2026", "01/11/2026 01:30",
    "01/11/2026 00:30", "01/11/2026", "31/10/2026", "07/03/2026" },
  ["Australia/Lord_Howe"] = { "04/10/2026 02:15", "04/10/2026 02:30", "05/04/2026 01:45", "05/04/2026 01:15",
    "04/10/2026", "05/04/2026", "03/10/2026" },
  ["America/Santiago"] = { "06/09/2026", "05/09/2026", "06/09/2026 00:30", "06/09/2026 01:00",
    "04/04/2026 23:30", "04/04/2026", "05/04/2026", "05/04/2026 00:00" },
  ["America/Havana"] = { "08/03/2026", "07/03/2026", "08/03/2026 00:30", "01/11/2026 00:30", "31/10/2026",
    "01/11/2026" },
  ["Pacific/Kiritimati"] = { "30/12/1994", "31/12/1994", "01/01/1995", "31/12/1994 12:00", "30/11/2026 23:59" },
  ["Pacific/Apia"] = { "29/12/2011", "30/12/2011", "30/12/2011 12:00", "31/12/2011", "24/09/2011 03:30" },
  ["Asia/Pyongyang"] = { "04/05/2018 23:45", "05/05/2018", "15/08/2015 00:15" },
  ["America/Caracas"] = { "01/05/2016 02:40", "09/12/2007 02:45" },
  ["Europe/Moscow"] = { "27/03/2011 02:30", "26/10/2014 01:30", "30/10/2011 02:30" },
  ["Europe/Dublin"] = { "29/03/2026 01:30", "25/10/2026 01:30", "01/07/2026 12:00" },
  ["Asia/Kolkata"] = { "20/01/2026", "20/01/2026 05:29", "20/01/2026 05:30" },
}
local zones = {}
for z in pairs(EDGES) do zones[#zones + 1] = z end
table.sort(zones)
for _, z in ipairs(zones) do
  for _, t in ipairs(EDGES[z]) do both(t, z) end
end

-- 4. zone names: any case, links, fixed offsets, unknown ones, and Europe/Rome when absent
for _, z in ipairs({ "UTC", "europe/rome", "EUROPE/ROME", "US/Eastern", "Etc/GMT+5", "Etc/GMT-14", "EST5EDT",
  "Nowhere/Else", "Europe/Rom", "+02:00", "Z", "GMT", "Asia/Calcutta", "America/Argentina/Buenos_Aires" }) do
  both("20/01/2026", z)
  both("20/01/2026 14:30", z)
end
add{ kind = "range", start = "20/01/2026" }

-- 5. both ends, and two values for one key (an array: the server's `${value}` message)
for _, p in ipairs({ { "20/01/2026", "21/01/2026" }, { "20/01/2026 10:00", "20/01/2026 10:00" },
  { "29/03/2026", "29/03/2026" }, { "25/10/2026 00:00", "25/10/2026 23:59:59" }, { "20/01/2026", "abc" },
  { "abc", "20/01/2026" }, { "2026/01/20", "2026/01/21 08:00" } }) do
  add{ kind = "range", start = p[1], ["end"] = p[2], zone = "Europe/Rome" }
  add{ kind = "range", start = p[1], ["end"] = p[2], zone = "America/St_Johns" }
end
add{ kind = "range", start = { "20/01/2026", "21/01/2026" }, zone = "Europe/Rome" }
add{ kind = "range", ["end"] = { "20/01/2026" }, zone = "Europe/Rome" }

-- 6. the activities list: moment(text, 'DD/MM/YYYY') in the server process's zone (UTC)
for _, t in ipairs(TEXTS) do
  if t ~= "" then
    add{ kind = "activities", start = t }
    add{ kind = "activities", start = "01/01/2026", ["end"] = t }
  end
end
add{ kind = "activities", ["end"] = "20/01/2026" }
add{ kind = "activities", start = "20/01", now = LATE }

-- the sandbox's answers, in the reference's shape
local null = cjson.null
local function ours(c)
  local s, e = c.start, c["end"]
  if c.kind == "activities" then
    local r = dates.activities_range(s, e, false, c.now)
    if not r then return { invalid = true } end
    return { from = r.from_ms or null, to = r.to_ms or null }
  end
  local zone = dates.zone_param({ timezone = c.zone })
  local r, err = dates.range(s, e, zone, c.now)
  if not r then return { error = err } end
  return { from = r.from_ms or null, to = r.to_ms or null,
    to_op = r.to_ms and (r.to_inclusive and "$lte" or "$lt") or null }
end

local function iso(v)
  if v == nil or v == null then return "none" end
  if type(v) ~= "number" then return tostring(v) end
  local s = math.floor(v / 1000)
  if s < -62135596800 or s > 253402300799 then return string.format("%.0f", v) end
  return string.format("%.0f (%s.%03dZ)", v, os.date("!%Y-%m-%dT%H:%M:%S", s), math.floor(v % 1000))
end

local function show(a)
  if a.error then return "error: " .. a.error end
  if a.invalid then return "invalid (500)" end
  return "from " .. iso(a.from) .. ", to " .. iso(a.to) .. (a.to_op and a.to_op ~= null and (" " .. a.to_op) or "")
end

local corpus = os.tmpname()
common.write(corpus, cjson.encode(cases))
local q = common.quote
local p = assert(io.popen("TZ=UTC NODE_PATH=" .. q(modules) .. " node " .. q(ROOT .. "/tools/dates-check.js") .. " "
  .. q(corpus) .. " 2>&1"))
local out = p:read("*a")
local ok = p:close()
os.remove(corpus)
local ref = ok and cjson.decode(out) or nil
if type(ref) ~= "table" or type(ref.answers) ~= "table" or #ref.answers ~= #cases then
  io.stderr:write("dates check: the Node side failed: ", out, "\n")
  os.exit(1)
end

local diffs = 0
for i, c in ipairs(cases) do
  local want, got = show(ref.answers[i]), show(ours(c))
  if want ~= got then
    diffs = diffs + 1
    if diffs <= 40 then
      print(string.format("DIFF %s start=%s end=%s zone=%s now=%s\n  moment-timezone: %s\n  sandbox:         %s",
        c.kind, cjson.encode(c.start or null), cjson.encode(c["end"] or null), tostring(c.zone), iso(c.now), want, got))
    end
  end
end
print(string.format("dates check: %d cases (moment %s, moment-timezone %s, its tzdata %s): %s", #cases,
  ref.moment, ref.moment_timezone, ref.tzdata, diffs == 0 and "all identical" or (diffs .. " differ")))
os.exit(diffs == 0 and 0 or 1)
