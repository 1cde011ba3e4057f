-- /:pid/analytics/*: the server's aggregation reports (the server's pubmodules/analytics), computed
-- from the store on every call. Shapes follow MongoDB $group output: arrays of { _id, <value> }
-- where _id is the project id for totals, or an object of the grouping keys.
local store = require("sbx.store")
local util = require("sbx.util")
local tz = require("sbx.tz")

local DAY_MS = 86400000

local days_from_civil = store.days_from_civil

-- ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" -> parts table (nil when malformed)
local function parts(iso)
  local y, mo, d, h, mi, s, ms = tostring(iso):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.?(%d*)Z$")
  if not y then return nil end
  y, mo, d, h = tonumber(y), tonumber(mo), tonumber(d), tonumber(h)
  local days = days_from_civil(y, mo, d)
  local wday0 = (days + 4) % 7 -- 1970-01-01 was a Thursday; Sunday = 0
  local yday0 = days - days_from_civil(y, 1, 1)
  return {
    year = y, month = mo, day = d, hour = h,
    dayOfWeek = wday0 + 1, -- MongoDB $dayOfWeek: 1 (Sunday) .. 7
    week = math.floor((yday0 + 7 - wday0) / 7), -- MongoDB $week: Sunday-based, 0 .. 53
    ms = ((days * 24 + h) * 60 + tonumber(mi)) * 60000 + tonumber(s) * 1000 + (tonumber(ms) or 0),
  }
end

-- grouping key builders: doc, parts -> _id table (or nil to skip the doc)
local KEYS = {
  day = function(_, p) return { day = p.day, month = p.month, year = p.year } end,
  month = function(_, p) return { month = p.month, year = p.year } end,
  week = function(_, p) return { week = p.week, year = p.year } end,
  -- the hour in ?timezone= (p.zone_hour), the weekday in UTC, as the server's $project reads them
  hours = function(_, p) return { hour = p.zone_hour } end,
  ["dayoftheweek/hours"] = function(_, p) return { hour = p.zone_hour, weekday = p.dayOfWeek } end,
  status = function(d) return { status = d.status } end,
  ["status/day"] = function(d, p) return { status = d.status, day = p.day, month = p.month, year = p.year } end,
  ["hasBot/day"] = function(d, p) return { hasBot = d.hasBot == true, day = p.day, month = p.month, year = p.year } end,
  sourcePage = function(d) return { sourcePage = d.sourcePage or util.null } end,
  ["attributes/_answerid"] = function(d)
    local a = type(d.attributes) == "table" and d.attributes._answerid
    if a == nil then return nil end
    return { answerid = a }
  end,
  sender = function(d) return { sender = d.sender } end,
  hasBot = function(d) return { hasBot = d.hasBot == true } end,
}

local KEY_ORDER = { "year", "month", "week", "day", "hour", "weekday", "status", "hasBot", "sourcePage", "answerid",
  "sender" }

local function key_string(id)
  local out = {}
  for _, k in ipairs(KEY_ORDER) do
    local v = id[k]
    if v ~= nil then out[#out + 1] = k .. "=" .. (type(v) == "number" and string.format("%010d", v) or tostring(v)) end
  end
  return table.concat(out, "|")
end

-- value reducers: name of the output field, and how a doc contributes to it
local VALUES = {
  count = { field = "count", of = function() return 1 end, avg = false },
  total = { field = "totalCount", of = function() return 1 end, avg = false },
  waiting = { field = "waiting_time_avg", of = function(d) return tonumber(d.waiting_time) end, avg = true },
  duration = { field = "duration_avg", of = function(d) return tonumber(d.duration) end, avg = true },
  satisfaction = { field = "satisfaction_avg", of = function(d) return tonumber(d.rating) end, avg = true },
}

local function filtered(ctx, coll, since_ms)
  local q = ctx.query
  local dept = util.str(q.department_id)
  local participant = util.str(q.participant)
  local channel = util.str(q.channel)
  local sender = util.str(q.sender)
  local recipient = util.str(q.recipient)
  local out = {}
  for _, d in ipairs(store.coll(coll):all()) do
    local p = d.id_project == ctx.pid and parts(d.createdAt)
    local keep = p and (not since_ms or p.ms >= since_ms)
    if keep and dept then keep = d.department == dept end
    if keep and participant then keep = util.contains(d.participants, participant) end
    if keep and channel then keep = type(d.channel) == "table" and d.channel.name == channel end
    if keep and sender then keep = d.sender == sender end
    if keep and recipient then keep = d.recipient == recipient end
    if keep then out[#out + 1] = { doc = d, parts = p } end
  end
  return out
end

-- One report: rows of coll since `days` ago (nil: all), grouped by key (nil: one total row
-- with _id = project id), reduced by value.
-- MongoDB's `timezone` of $hour: an Olson name or a "+hh:mm" offset; returns a function of
-- epoch ms giving seconds east of UTC, or nil for a zone MongoDB refuses.
local function zone_offset(name)
  if type(name) ~= "string" then return nil end
  local sign, h, m = name:match("^([+-])(%d%d):?(%d%d)$")
  if not sign then sign, h = name:match("^([+-])(%d%d)$") m = "00" end
  if sign then
    local off = (tonumber(h) * 3600 + tonumber(m) * 60) * (sign == "-" and -1 or 1)
    return function() return off end
  end
  local z = tz.zone(name)
  if not z then return nil end
  return function(ms) return tz.offset(z, math.floor(ms / 1000)) end
end

local function report(ctx, coll, key, value, days, opts)
  opts = opts or {}
  -- the hour reports read a fixed 30-day window and ignore lastdays
  local lastdays = opts.fixed and days or util.int(ctx.query.lastdays, days)
  local since = lastdays and (store.now_ms() - lastdays * DAY_MS) or nil
  local v = VALUES[value]
  local groups, order = {}, {}
  local offset_of
  if opts.zone then
    local zname = ctx.query.timezone
    if zname == nil or zname == "" then zname = "+00:00" end
    offset_of = zone_offset(zname)
    if not offset_of then return nil end
  end
  for _, row in ipairs(filtered(ctx, coll, since)) do
    if offset_of then
      local local_s = math.floor(row.parts.ms / 1000) + offset_of(row.parts.ms)
      row.parts.zone_hour = math.floor(local_s % 86400 / 3600)
    end
    local id = ctx.pid
    if key then id = KEYS[key](row.doc, row.parts) end
    local x = v.of(row.doc)
    if id ~= nil and x ~= nil then
      local ks = type(id) == "table" and key_string(id) or id
      local g = groups[ks]
      if not g then
        g = { id = id, sum = 0, n = 0 }
        groups[ks] = g
        order[#order + 1] = ks
      end
      g.sum, g.n = g.sum + x, g.n + 1
    end
  end
  table.sort(order)
  if opts.descending then
    local n = #order
    for i = 1, math.floor(n / 2) do order[i], order[n + 1 - i] = order[n + 1 - i], order[i] end
  end
  local out = util.arr()
  for _, ks in ipairs(order) do
    local g = groups[ks]
    local row = { _id = g.id }
    if v.avg then row[v.field] = g.n > 0 and g.sum / g.n or 0 else row[v.field] = g.sum end
    out[#out + 1] = row
  end
  return out
end

local api = {}

-- GET /:pid/analytics/<report>: the route's `report` entry says which collection, grouping
-- key, value and default day window
function api.report(ctx)
  local rep = ctx.route.data
  local rows = report(ctx, rep[1], rep[2], rep[3], rep[4], rep.opts)
  if not rows then return 500, { success = false, msg = "Error getting analytics." } end
  return 200, rows
end

-- waiting time: `last` is in seconds (default 30 days)
function api.waiting(ctx)
  local last = util.int(ctx.query.last, 30 * 86400)
  local since = store.now_ms() - last * 1000
  local sum, n = 0, 0
  for _, row in ipairs(filtered(ctx, "requests", since)) do
    local w = tonumber(row.doc.waiting_time)
    if w then sum, n = sum + w, n + 1 end
  end
  return 200, util.arr{ { _id = ctx.pid, waiting_time_avg = n > 0 and sum / n or 0 } }
end

-- Daily tag counters (the server's models/analytics.js: { id_project, type, date, keys }):
-- on the server a job queue fed by PUT /requests/:rid/tag writes them (type
-- "conversation-tag", one document a day, date = the day's first millisecond as a string,
-- keys = { tag = count }); here the tag route calls this.
local stats = store.coll("analytics")
function api.record_tag(pid, type_name, tag, ms)
  local day = tostring(math.floor(ms / DAY_MS) * DAY_MS)
  local doc = stats:find_one(function(x) return x.id_project == pid and x.type == type_name and x.date == day end)
    or stats:insert{ id_project = pid, type = type_name, date = day, keys = {} }
  doc.keys[tag] = (doc.keys[tag] or 0) + 1
  stats:touch(doc)
end

-- JavaScript's new Date(text) for the forms it reads without doubt (ISO 8601 dates and
-- date-times, MM/DD/YYYY and YYYY/MM/DD with an optional time); epoch ms, or nil (NaN) for
-- anything else. A date-only ISO text is UTC; the others are local time, UTC on the server.
local function js_date(text)
  if type(text) ~= "string" then return nil end
  local y, mo, d = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  local h, mi, sec, frac, zone = 0, 0, 0, nil, nil
  if not y then
    y, mo, d, h, mi, sec, frac, zone = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):?(%d*)%.?(%d*)(.*)$")
  end
  if not y then
    local a, b, c, rest = text:match("^(%d+)/(%d+)/(%d+)(.*)$")
    if not a then return nil end
    if #a == 4 then y, mo, d = a, b, c else mo, d, y = a, b, c end
    h, mi, sec = rest:match("^%s+(%d%d?):(%d%d):?(%d*)$")
    if rest ~= "" and not h then return nil end
    h, mi, sec = h or 0, mi or 0, sec or 0
  end
  y, mo, d, h, mi = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi)
  sec = tonumber(sec) or 0
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 24 or mi > 59 or sec > 59 then return nil end
  local ms = store.civil_ms(y, mo, d, h, mi, sec, tonumber(((frac or "") .. "000"):sub(1, 3)) or 0)
  if zone and zone ~= "" and zone ~= "Z" then
    local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    local off = (tonumber(zh) * 60 + tonumber(zm)) * 60000
    ms = sign == "+" and ms - off or ms + off
  end
  return ms
end

local function two(n) return string.format("%02d", n) end

-- pubmodules/analytics/analytics.js GET /tags/:type: the documents of that type between
-- start_date (default six days ago) and end_date (default today), each read by new Date() and
-- cut to its day; answered as { dates = ["DD/MM/YYYY"...] (sorted as text), series = [{ name,
-- values }] } with a 0 where a tag has no count that day. Dates compare as the text of their
-- milliseconds (the model's date is a String): an unreadable date (NaN) matches nothing as a
-- start and everything as an end.
function api.tags(ctx)
  local q = ctx.query
  local now = store.now_ms()
  local start = q.start_date and q.start_date ~= "" and js_date(q.start_date) or nil
  if not (q.start_date and q.start_date ~= "") then start = now - 6 * DAY_MS end
  local stop = q.end_date and q.end_date ~= "" and js_date(q.end_date) or nil
  if not (q.end_date and q.end_date ~= "") then stop = now end
  start = start and math.floor(start / DAY_MS) * DAY_MS
  stop = stop and math.floor(stop / DAY_MS) * DAY_MS
  if start and stop and start > stop then
    return 400, { success = false, error = "Invalid dates: start_date can't be greater of end_date" }
  end
  local from, to = start and string.format("%d", start) or "NaN", stop and string.format("%d", stop) or "NaN"
  local docs = stats:find(function(x)
    return x.id_project == ctx.pid and x.type == ctx.params.type and x.date >= from and x.date <= to
  end)
  table.sort(docs, function(a, b) return tonumber(a.date) < tonumber(b.date) end)
  local seen, dates, by_date, keys, known = {}, util.arr(), {}, util.arr(), {}
  for _, doc in ipairs(docs) do
    local t = os.date("!*t", math.floor(tonumber(doc.date) / 1000))
    local f = two(t.day) .. "/" .. two(t.month) .. "/" .. t.year
    if not seen[f] then seen[f] = true dates[#dates + 1] = f end
    by_date[f] = doc.keys
    local names = {}
    for k in pairs(doc.keys) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      if not known[k] then known[k] = true keys[#keys + 1] = k end
    end
  end
  table.sort(dates)
  local series = util.arr()
  for i, k in ipairs(keys) do
    local values = util.arr()
    for j, f in ipairs(dates) do values[j] = by_date[f][k] or 0 end
    series[i] = { name = k, values = values }
  end
  return 200, { dates = dates, series = series }
end

local ADMIN = { role = "admin" }

-- the hour reports: in ?timezone= ("+00:00" when absent), the last 30 days, sorted by _id
-- descending
local HOURLY = { zone = true, fixed = true, descending = true }

-- report path -> { collection, grouping key (nil: one total row), value, default window in days }
local REPORTS = {
  { "requests/count", { "requests", nil, "total", nil } },
  { "messages/count", { "messages", nil, "total", nil } },
  { "project_users/count", { "project_users", nil, "total", nil } },
  { "requests/hasBot/count", { "requests", "hasBot", "count", nil } },
  { "requests/waiting/day/last", { "requests", nil, "waiting", 1 } },
  { "requests/waiting/day", { "requests", "day", "waiting", 7 } },
  { "requests/waiting/month", { "requests", "month", "waiting", 365 } },
  { "requests/duration", { "requests", nil, "duration", nil } },
  { "requests/duration/day", { "requests", "day", "duration", 7 } },
  { "requests/duration/month", { "requests", "month", "duration", 365 } },
  { "requests/satisfaction", { "requests", nil, "satisfaction", nil } },
  { "requests/satisfaction/day", { "requests", "day", "satisfaction", 7 } },
  { "requests/satisfaction/month", { "requests", "month", "satisfaction", 365 } },
  { "requests/aggregate/status", { "requests", "status", "count", nil } },
  { "requests/aggregate/day", { "requests", "day", "count", 7 } },
  { "requests/aggregate/status/day", { "requests", "status/day", "count", 7 } },
  { "requests/aggregate/month", { "requests", "month", "count", 365 } },
  { "requests/aggregate/week", { "requests", "week", "count", 28 } },
  { "requests/aggregate/hours", { "requests", "hours", "count", 30, opts = HOURLY } },
  { "requests/aggregate/dayoftheweek/hours", { "requests", "dayoftheweek/hours", "count", 30, opts = HOURLY } },
  { "requests/aggregate/hasBot/day", { "requests", "hasBot/day", "count", 7 } },
  { "requests/aggregate/sourcePage", { "requests", "sourcePage", "count", nil } },
  { "requests/aggregate/attributes/_answerid", { "requests", "attributes/_answerid", "count", nil } },
  { "project_users/aggregate/day", { "project_users", "day", "count", 7 } },
  { "project_users/aggregate/month", { "project_users", "month", "count", 365 } },
  { "project_users/aggregate/week", { "project_users", "week", "count", 28 } },
  { "messages/aggregate/day", { "messages", "day", "count", 7 } },
  { "messages/aggregate/month", { "messages", "month", "count", 365 } },
  { "messages/aggregate/week", { "messages", "week", "count", 28 } },
  { "messages/aggregate/sender", { "messages", "sender", "count", nil } },
  { "events/aggregate/day", { "events", "day", "count", 7 } },
}

api.routes = {
  { "GET", "/:pid/analytics/requests/waiting", "waiting", ADMIN },
  { "GET", "/:pid/analytics/tags/:type", "tags", ADMIN },
}
for _, rep in ipairs(REPORTS) do
  api.routes[#api.routes + 1] = { "GET", "/:pid/analytics/" .. rep[1], "report", ADMIN, data = rep[2] }
end

return api
