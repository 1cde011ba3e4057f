-- /:pid/analytics/*: the server's aggregation reports (the server's pubmodules/analytics), computed
-- from the store on every call. Shapes follow MongoDB $group output: arrays of { _id, <value> }
-- where _id is the project id for totals, or an object of the grouping keys.
local store = require("sbx.store")
local util = require("sbx.util")

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
  hours = function(_, p) return { hour = p.hour } end,
  ["dayoftheweek/hours"] = function(_, p) return { weekday = p.dayOfWeek, hour = p.hour } end,
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

local KEY_ORDER = { "year", "month", "week", "day", "weekday", "hour", "status", "hasBot", "sourcePage", "answerid",
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
local function report(ctx, coll, key, value, days)
  local lastdays = util.int(ctx.query.lastdays, days)
  local since = lastdays and (store.now_ms() - lastdays * DAY_MS) or nil
  local v = VALUES[value]
  local groups, order = {}, {}
  for _, row in ipairs(filtered(ctx, coll, since)) do
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
  return 200, report(ctx, rep[1], rep[2], rep[3], rep[4])
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

-- tag usage: conversations' {tag, color} tags or leads' string tags
function api.tags(ctx)
  local kind = ctx.params.type
  local coll = ({ requests = "requests", conversations = "requests", leads = "leads" })[kind]
  if not coll then return 400, { success = false, error = "Unknown tag type " .. kind .. " (requests or leads)" } end
  local counts, order = {}, {}
  for _, d in ipairs(store.coll(coll):all()) do
    if d.id_project == ctx.pid then
      for _, t in ipairs(d.tags or {}) do
        local name = type(t) == "table" and t.tag or t
        if type(name) == "string" then
          if not counts[name] then counts[name] = 0 order[#order + 1] = name end
          counts[name] = counts[name] + 1
        end
      end
    end
  end
  table.sort(order, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  local out = util.arr()
  for _, name in ipairs(order) do out[#out + 1] = { _id = name, count = counts[name] } end
  return 200, out
end

local ADMIN = { role = "admin" }

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
  { "requests/aggregate/hours", { "requests", "hours", "count", 7 } },
  { "requests/aggregate/dayoftheweek/hours", { "requests", "dayoftheweek/hours", "count", 7 } },
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
