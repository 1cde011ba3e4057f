-- /:pid/analytics/*: the server's aggregation reports (pubmodules/analytics/analytics.js), computed
-- from the store on every call, each as its MongoDB pipeline answers: the $match (collection,
-- time window, filters), the $group (_id an object of the grouping fields in the pipeline's
-- order, a field whose value is missing left out; or the project id), the value ($sum: 1 as
-- count, $avg as <x>_avg, null when no document has a number; or $count as [{ totalCount }],
-- [] when nothing matches) and the $sort on _id (MongoDB's order of documents: field by field,
-- in the _id's own field order), or no $sort at all (the sandbox keeps the order of creation).
-- $year, $month, $dayOfMonth, $week and $dayOfWeek read UTC; $hour reads ?timezone=.
local store = require("sbx.store")
local util = require("sbx.util")
local tz = require("sbx.tz")

local DAY_MS = 86400000

local days_from_civil = store.days_from_civil

-- the UTC civil fields of an ISO 8601 createdAt (nil when malformed)
local function parts(iso)
  local ms = store.ms_of(iso)
  if not ms then return nil end
  local days = math.floor(ms / DAY_MS)
  local t = os.date("!*t", math.floor(ms / 1000))
  local wday0 = (days + 4) % 7 -- 1970-01-01 was a Thursday; Sunday = 0
  local yday0 = days - days_from_civil(t.year, 1, 1)
  return {
    year = t.year, month = t.month, day = t.day, hour = t.hour,
    dayOfWeek = wday0 + 1, -- $dayOfWeek: 1 (Sunday) .. 7
    week = math.floor((yday0 + 7 - wday0) / 7), -- $week: weeks start on Sunday, 0 .. 53
    ms = ms,
  }
end

-- The grouping fields: doc, parts -> value (nil: missing, left out of the _id).
local FIELD = {
  year = function(_, p) return p.year end,
  month = function(_, p) return p.month end,
  day = function(_, p) return p.day end,
  week = function(_, p) return p.week end,
  hour = function(_, p) return p.zone_hour end, -- { $hour: { date, timezone } }
  weekday = function(_, p) return p.dayOfWeek end, -- $dayOfWeek without a zone: UTC
  status = function(d) return d.status end,
  hasBot = function(d) return d.hasBot end,
  sourcePage = function(d) return d.sourcePage end,
  name = function(d) return d.name end,
  sender = function(d) return d.sender end,
  _answerid = function(d) return type(d.attributes) == "table" and d.attributes._answerid or nil end,
}

-- MongoDB's canonical type order (null < numbers < strings < objects < arrays < booleans)
local function type_rank(v)
  if v == util.null then return 5 end
  local t = type(v)
  if t == "number" then return 10 end
  if t == "string" then return 15 end
  if t == "boolean" then return 40 end
  if t == "table" then return (getmetatable(v) == util.json.array_mt or v[1] ~= nil) and 25 or 20 end
  return 127
end

local function compare_values(a, b)
  local ra, rb = type_rank(a), type_rank(b)
  if ra ~= rb then return ra < rb and -1 or 1 end
  if ra == 5 or ra >= 20 and ra ~= 40 or a == b then return 0 end
  if ra == 40 then return a and 1 or -1 end -- false < true
  return a < b and -1 or 1
end

-- BSON document order of two _id's: element by element (type, then field name, then value);
-- the one that runs out first is the smaller.
local function compare_ids(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return compare_values(a, b) end
  for i = 1, math.max(#a, #b) do
    local x, y = a[i], b[i]
    if not x then return -1 end
    if not y then return 1 end
    local ra, rb = type_rank(x[2]), type_rank(y[2])
    if ra ~= rb then return ra < rb and -1 or 1 end
    if x[1] ~= y[1] then return x[1] < y[1] and -1 or 1 end
    local c = compare_values(x[2], y[2])
    if c ~= 0 then return c end
  end
  return 0
end

-- JavaScript's Number(text) * 86400000 for ?lastdays= (a number, or NaN)
local function js_number(v)
  if type(v) ~= "string" then return nil end
  local n = tonumber(v)
  if v:match("^%s*$") then n = 0 end
  return n
end

-- The start of the window: now - days; a window JavaScript cannot make (NaN, out of range)
-- is written by the driver as the date 0 (js-bson's Long.fromNumber(NaN)): every document.
local function since_of(days)
  local ms = days and store.now_ms() - days * DAY_MS
  if ms == nil then return nil end
  if ms ~= ms or ms < -8.64e15 or ms > 8.64e15 then return 0 end
  return ms
end

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
  if not z or z.name ~= name then return nil end -- MongoDB looks the name up as written
  return function(ms) return tz.offset(z, math.floor(ms / 1000)) end
end

-- an equality filter of the $match: a query value (a repeated key, an array, matches nothing)
local function equals(v, want)
  return type(want) ~= "table" and v == want
end

-- The filters a report reads from the query (each only when given, as the server's `if
-- (req.query.x)`): returns a predicate of a document, or nil, status, body.
local FILTER = {
  -- query.department = new ObjectId(x): anything but 24 hex digits throws (500 {err:"error"})
  department_id = function(v)
    if type(v) ~= "string" or not util.is_oid(v) then return nil end
    v = v:lower()
    return function(d) return type(d.department) == "string" and d.department:lower() == v end
  end,
  participant = function(v)
    return function(d) return type(v) ~= "table" and util.contains(d.participants, v) end
  end,
  channel = function(v)
    return function(d) return type(d.channel) == "table" and equals(d.channel.name, v) end
  end,
  sender = function(v) return function(d) return equals(d.sender, v) end end,
  recipient = function(v) return function(d) return equals(d.recipient, v) end end,
  -- query.attributes = x: an object field equal to a string: never
  attributes = function(v) return function(d) return equals(d.attributes, v) end end,
  attributes_answerid = function(v)
    return function(d) return type(d.attributes) == "table" and equals(d.attributes._answerid, v) end
  end,
  name = function(v) return function(d) return equals(d.name, v) end end,
}

local function given(v)
  return v ~= nil and v ~= "" and v ~= true
end

-- One report: rep = { coll, window = days | { lastdays = default } | { last = true }, filters = { names },
-- match = fn(doc), group = { fields } | "project", value = "count" | "total" | { avg =
-- out_field, of = fn(doc) }, sort = 1 | -1 | nil, zone = true }
local function report(ctx, rep)
  local q = ctx.query
  local days = rep.window
  if type(days) == "table" and days.last then -- seconds
    days = 30
    if given(q.last) then days = (js_number(q.last) or 0 / 0) / 86400 end
  elseif type(days) == "table" then
    days = days.lastdays
    if given(q.lastdays) then days = js_number(q.lastdays) or 0 / 0 end
  end
  local since = since_of(days)
  local preds = {}
  for _, f in ipairs(rep.filters or {}) do
    if given(q[f]) then
      local p = FILTER[f](q[f])
      if not p then return 500, { err = "error" } end
      preds[#preds + 1] = p
    end
  end
  local offset_of
  if rep.zone then
    local zname = q.timezone
    if not given(zname) then zname = "+00:00" end
    offset_of = zone_offset(zname)
    if not offset_of then return 500, { success = false, msg = "Error getting analytics." } end
  end
  local v = rep.value
  local groups, order, matched = {}, {}, 0
  for _, d in ipairs(store.coll(rep[1]):all()) do
    local p = d.id_project == ctx.pid and parts(d.createdAt)
    local keep = p and (not since or p.ms >= since) and (not rep.match or rep.match(d, q))
    for i = 1, #preds do
      if not keep then break end
      keep = preds[i](d)
    end
    if keep then
      matched = matched + 1
      if offset_of then p.zone_hour = math.floor((math.floor(p.ms / 1000) + offset_of(p.ms)) % 86400 / 3600) end
      local id, ks = ctx.pid, ctx.pid
      if rep.group ~= "project" and v ~= "total" then
        id, ks = {}, {}
        for _, f in ipairs(rep.group) do
          local x = FIELD[f](d, p)
          if x ~= nil then
            id[#id + 1] = { f, x }
            ks[#ks + 1] = f .. "=" .. type(x) .. ":" .. tostring(x)
          end
        end
        ks = table.concat(ks, "|")
      end
      local g = groups[ks]
      if not g then
        g = { id = id, sum = 0, n = 0 }
        groups[ks] = g
        order[#order + 1] = g
      end
      if v == "count" then
        g.sum, g.n = g.sum + 1, g.n + 1
      elseif type(v) == "table" then
        local x = v.of(d)
        if type(x) == "number" then g.sum, g.n = g.sum + x, g.n + 1 end
      end
    end
  end
  if v == "total" then
    return 200, matched > 0 and util.arr{ { totalCount = matched } } or util.arr()
  end
  if rep.sort then
    local dir = rep.sort
    table.sort(order, function(a, b) return compare_ids(a.id, b.id) * dir < 0 end)
  end
  local out = util.arr()
  for _, g in ipairs(order) do
    local id = g.id
    if type(id) == "table" then
      id = {}
      for _, kv in ipairs(g.id) do id[kv[1]] = kv[2] end
    end
    local row = { _id = id }
    if v == "count" then row.count = g.sum
    elseif g.n > 0 then row[v.avg] = g.sum / g.n
    else row[v.avg] = util.null end
    out[#out + 1] = row
  end
  return 200, out
end

local api = {}

-- GET /:pid/analytics/<report>: the route's data is the report's pipeline
function api.report(ctx)
  return report(ctx, ctx.route.data)
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

-- The pipelines of pubmodules/analytics/analytics.js, one per route (the handler's name there
-- is its path). window: a fixed number of days back from now, { lastdays = default } (read from
-- ?lastdays=), { last = true } (?last= seconds, default 30 days), nil: no window.
local function not_preflight(d) return d.preflight == false or d.preflight == nil end -- $or [false, $exists: false]
local function guest_or_user(d) -- role $in [guest, user], status "active"
  return (d.role == "guest" or d.role == "user") and d.status == "active"
end
local function with_bot(d) return not_preflight(d) and d.hasBot == true end
-- name: the one asked, else { $ne: "typing.start" }
local function event_name(d, q) return given(q.name) or d.name ~= "typing.start" end
local function duration(d) -- { $subtract: ["$closed_at", "$createdAt"] }
  local a, b = store.ms_of(d.closed_at), store.ms_of(d.createdAt)
  return a and b and a - b or nil
end
local function waiting(d) return d.waiting_time end
local function rating(d) return d.rating end

local R, PU, M, E = "requests", "project_users", "messages", "events"
local DAY, MONTH, WEEK = { "year", "month", "day" }, { "year", "month" }, { "year", "month", "week" }
local D7 = { lastdays = 7 }
local REQ_FILTERS = { "department_id", "participant", "channel" }
local MSG_FILTERS = { "sender", "recipient" }
local WAIT = { avg = "waiting_time_avg", of = waiting }
local DUR = { avg = "duration_avg", of = duration }
local SAT = { avg = "satisfaction_avg", of = rating }

local REPORTS = {
  { "requests/count", { R, window = 30, match = not_preflight, value = "total" } },
  -- marked "DA IMPLEMENTARE" (to be done) there: the same $count as requests/count
  { "requests/aggregate/status", { R, window = 30, match = not_preflight, value = "total" } },
  { "requests/aggregate/day", { R, window = D7, filters = REQ_FILTERS, match = not_preflight, group = DAY,
    value = "count", sort = 1 } },
  { "requests/aggregate/status/day", { R, window = D7, filters = { "department_id", "participant" },
    match = not_preflight, group = { "year", "month", "day", "status" }, value = "count", sort = 1 } },
  { "requests/aggregate/month", { R, filters = { "department_id" }, match = not_preflight, group = MONTH,
    value = "count", sort = 1 } },
  -- department_id is read there, but its use is commented out
  { "requests/aggregate/week", { R, match = not_preflight, group = WEEK, value = "count", sort = 1 } },
  { "requests/aggregate/hours", { R, window = 30, match = not_preflight, group = { "hour" }, value = "count",
    sort = -1, zone = true } },
  { "requests/aggregate/dayoftheweek/hours", { R, window = 30, match = not_preflight, group = { "hour", "weekday" },
    value = "count", sort = -1, zone = true } },
  { "requests/waiting", { R, window = { last = true }, match = not_preflight, group = "project", value = WAIT } },
  { "requests/waiting/day/last", { R, window = 1, match = not_preflight, group = "project", value = WAIT } },
  { "requests/waiting/day", { R, window = D7, filters = REQ_FILTERS, match = not_preflight,
    group = { "day", "month", "year" }, value = WAIT, sort = -1 } },
  { "requests/waiting/month", { R, match = not_preflight, group = { "month", "year" }, value = WAIT, sort = -1 } },
  { "requests/duration", { R, window = 30, match = not_preflight, group = "project", value = DUR } },
  { "requests/duration/day", { R, window = D7, filters = REQ_FILTERS, match = not_preflight,
    group = { "day", "month", "year" }, value = DUR, sort = -1 } },
  { "requests/duration/month", { R, window = 30, match = not_preflight, group = { "month", "year" }, value = DUR,
    sort = -1 } },
  { "requests/satisfaction", { R, match = not_preflight, group = "project", value = SAT } },
  { "requests/satisfaction/day", { R, window = D7, filters = REQ_FILTERS, match = not_preflight,
    group = { "day", "month", "year" }, value = SAT, sort = -1 } },
  { "requests/satisfaction/month", { R, match = not_preflight, group = { "month", "year" }, value = SAT } },
  { "requests/hasBot/count", { R, window = 30, match = with_bot, value = "total" } },
  { "requests/aggregate/hasBot/day", { R, window = D7, filters = { "department_id", "channel" }, match = not_preflight,
    group = { "year", "month", "day", "hasBot" }, value = "count", sort = 1 } },
  { "requests/aggregate/sourcePage", { R, window = { lastdays = 30 }, filters = { "department_id" },
    match = not_preflight, group = { "sourcePage" }, value = "count", sort = 1 } },
  { "project_users/count", { PU, window = 30, match = guest_or_user, value = "total" } },
  { "project_users/aggregate/day", { PU, window = D7, match = guest_or_user, group = DAY, value = "count", sort = 1 } },
  { "project_users/aggregate/month", { PU, match = guest_or_user, group = MONTH, value = "count", sort = 1 } },
  { "project_users/aggregate/week", { PU, match = guest_or_user, group = WEEK, value = "count", sort = 1 } },
  { "messages/count", { M, window = 30, filters = { "sender", "recipient", "attributes", "attributes_answerid" },
    value = "total" } },
  { "messages/aggregate/day", { M, window = D7, filters = { "sender", "recipient", "channel" }, group = DAY,
    value = "count", sort = 1 } },
  { "messages/aggregate/month", { M, filters = MSG_FILTERS, group = MONTH, value = "count", sort = 1 } },
  { "messages/aggregate/week", { M, filters = MSG_FILTERS, group = WEEK, value = "count", sort = 1 } },
  { "messages/aggregate/sender", { M, window = D7, filters = MSG_FILTERS, group = { "sender" }, value = "count",
    sort = 1 } },
  -- the messages' attributes._answerid, despite the path
  { "requests/aggregate/attributes/_answerid", { M, window = D7, filters = MSG_FILTERS, group = { "_answerid" },
    value = "count", sort = 1 } },
  { "events/aggregate/day", { E, window = D7, filters = { "name" }, match = event_name,
    group = { "year", "month", "day", "name" }, value = "count", sort = 1 } },
}

api.routes = {
  { "GET", "/:pid/analytics/tags/:type", "tags", ADMIN },
}
for _, rep in ipairs(REPORTS) do
  api.routes[#api.routes + 1] = { "GET", "/:pid/analytics/" .. rep[1], "report", ADMIN, data = rep[2] }
end

return api
