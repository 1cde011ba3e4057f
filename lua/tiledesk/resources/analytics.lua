-- Analytics (admin): aggregations computed by the server.
local M = {}

local REPORTS = {
  "requests/count", "requests/waiting", "requests/waiting/day/last", "requests/waiting/day",
  "requests/waiting/month", "requests/aggregate/status", "requests/aggregate/day", "requests/aggregate/status/day",
  "requests/aggregate/month", "requests/aggregate/week", "requests/aggregate/hours",
  "requests/aggregate/dayoftheweek/hours", "requests/aggregate/hasBot/day", "requests/aggregate/sourcePage",
  "requests/aggregate/attributes/_answerid", "requests/duration", "requests/duration/day",
  "requests/duration/month", "requests/satisfaction", "requests/satisfaction/day", "requests/satisfaction/month",
  "requests/hasBot/count", "project_users/count", "project_users/aggregate/day", "project_users/aggregate/month",
  "project_users/aggregate/week", "messages/count", "messages/aggregate/day", "messages/aggregate/month",
  "messages/aggregate/week", "messages/aggregate/sender", "events/aggregate/day",
}
M.REPORTS = REPORTS

-- The filters each report reads (pubmodules/analytics/analytics.js); the others read none.
local LASTDAYS = { "days back from now (default 7; a fraction counts hours)", number = "days" }
local DEPT = "department _id (24 hex digits; anything else answers 500)"
local PART = "participant user id, or bot_<id>"
local CHANNEL = "channel name"
local SENDER, RECIPIENT = "sender id", "recipient (request_id)"
local TZ = "IANA zone the hours are counted in (default: the client's timezone option)"
local REPORT_FILTERS = {
  ["requests/aggregate/day"] = { lastdays = LASTDAYS, department_id = DEPT, participant = PART, channel = CHANNEL },
  ["requests/aggregate/status/day"] = { lastdays = LASTDAYS, department_id = DEPT, participant = PART },
  ["requests/aggregate/month"] = { department_id = DEPT },
  ["requests/aggregate/hours"] = { timezone = TZ },
  ["requests/aggregate/dayoftheweek/hours"] = { timezone = TZ },
  ["requests/waiting"] = { last = { "seconds back from now (default 30 days)", number = "seconds" } },
  ["requests/waiting/day"] = { lastdays = LASTDAYS, department_id = DEPT, participant = PART, channel = CHANNEL },
  ["requests/duration/day"] = { lastdays = LASTDAYS, department_id = DEPT, participant = PART, channel = CHANNEL },
  ["requests/satisfaction/day"] = { lastdays = LASTDAYS, department_id = DEPT, participant = PART, channel = CHANNEL },
  ["requests/aggregate/hasBot/day"] = { lastdays = LASTDAYS, department_id = DEPT, channel = CHANNEL },
  ["requests/aggregate/sourcePage"] = { lastdays = { "days back from now (default 30)", number = "days" },
    department_id = DEPT },
  ["project_users/aggregate/day"] = { lastdays = LASTDAYS },
  -- `attributes` is read too, as `{ attributes: text }`: a text never equals the object, so
  -- the SDK refuses it (raw_query passes it) rather than answer [] without a word
  ["messages/count"] = { sender = SENDER, recipient = RECIPIENT, attributes_answerid = "attributes._answerid" },
  ["messages/aggregate/day"] = { lastdays = LASTDAYS, sender = SENDER, recipient = RECIPIENT, channel = CHANNEL },
  ["messages/aggregate/month"] = { sender = SENDER, recipient = RECIPIENT },
  ["messages/aggregate/week"] = { sender = SENDER, recipient = RECIPIENT },
  ["messages/aggregate/sender"] = { lastdays = LASTDAYS, sender = SENDER, recipient = RECIPIENT },
  ["requests/aggregate/attributes/_answerid"] = { lastdays = LASTDAYS, sender = SENDER, recipient = RECIPIENT },
  ["events/aggregate/day"] = { lastdays = LASTDAYS, name = "event name (default: every name but typing.start)" },
}
M.REPORT_FILTERS = REPORT_FILTERS

-- What each report answers (pubmodules/analytics/analytics.js, one handler per path; audit in
-- docs/server-notes.md). Conversations are those not in preflight; project users are guests
-- and users (visitors) whose status is active. Days, months, weeks ($week: 0-53, weeks start
-- on Sunday) and weekdays ($dayOfWeek: 1 = Sunday) are UTC; `_id` fields are numbers.
local ASC, DESC = "sorted by _id ascending", "sorted by _id descending"
local TOTAL = "`{ { totalCount = n } }`, `{}` when nothing matches"
local REPORT_DOCS = {
  ["requests/waiting"] = "`{ { _id = project id, waiting_time_avg = ms } }` (null when none has one), `{}` when "
    .. "no conversation is in the window (as waiting_time)",
  ["requests/count"] = TOTAL .. ": conversations created in the last 30 days",
  ["requests/aggregate/status"] = TOTAL .. ": the same count as requests/count (the server does not group by status)",
  ["requests/aggregate/day"] = "`{ { _id = { year, month, day }, count } }` " .. ASC .. ": conversations per day",
  ["requests/aggregate/status/day"] = "`{ { _id = { year, month, day, status }, count } }` " .. ASC,
  ["requests/aggregate/month"] = "`{ { _id = { year, month }, count } }` " .. ASC .. ", all time",
  ["requests/aggregate/week"] = "`{ { _id = { year, month, week }, count } }` " .. ASC
    .. ", all time (a week across two months gives two rows)",
  ["requests/aggregate/hours"] = "`{ { _id = { hour }, count } }` " .. DESC
    .. ": conversations of the last 30 days by hour of the day in `timezone`",
  ["requests/aggregate/dayoftheweek/hours"] = "`{ { _id = { hour, weekday }, count } }` " .. DESC
    .. " (hour first): the last 30 days; the hour in `timezone`, the weekday in UTC",
  ["requests/waiting/day/last"] = "`{ { _id = project id, waiting_time_avg = ms } }`: the last 24 hours",
  ["requests/waiting/day"] = "`{ { _id = { day, month, year }, waiting_time_avg } }` " .. DESC
    .. " in that field order (day first: not by date)",
  ["requests/waiting/month"] = "`{ { _id = { month, year }, waiting_time_avg } }` " .. DESC
    .. " (month first), all time",
  ["requests/duration"] = "`{ { _id = project id, duration_avg = ms } }`: closed_at - createdAt of the last 30 days",
  ["requests/duration/day"] = "`{ { _id = { day, month, year }, duration_avg } }` " .. DESC .. " (day first)",
  ["requests/duration/month"] = "`{ { _id = { month, year }, duration_avg } }` " .. DESC
    .. " (month first): the last 30 days only",
  ["requests/satisfaction"] = "`{ { _id = project id, satisfaction_avg } }`: average rating, all time",
  ["requests/satisfaction/day"] = "`{ { _id = { day, month, year }, satisfaction_avg } }` " .. DESC .. " (day first)",
  ["requests/satisfaction/month"] = "`{ { _id = { month, year }, satisfaction_avg } }`, all time, in no set order",
  ["requests/hasBot/count"] = TOTAL .. ": conversations with a bot created in the last 30 days",
  ["requests/aggregate/hasBot/day"] = "`{ { _id = { year, month, day, hasBot }, count } }` " .. ASC,
  ["requests/aggregate/sourcePage"] = "`{ { _id = { sourcePage }, count } }` " .. ASC
    .. " (`_id = {}` for conversations without one)",
  ["requests/aggregate/attributes/_answerid"] = "`{ { _id = { _answerid }, count } }` " .. ASC
    .. ": MESSAGES by attributes._answerid (`_id = {}` for messages without one)",
  ["project_users/count"] = TOTAL .. ": visitors who joined in the last 30 days",
  ["project_users/aggregate/day"] = "`{ { _id = { year, month, day }, count } }` " .. ASC .. ": visitors per day",
  ["project_users/aggregate/month"] = "`{ { _id = { year, month }, count } }` " .. ASC .. ", all time",
  ["project_users/aggregate/week"] = "`{ { _id = { year, month, week }, count } }` " .. ASC .. ", all time",
  ["messages/count"] = TOTAL .. ": messages of the last 30 days",
  ["messages/aggregate/day"] = "`{ { _id = { year, month, day }, count } }` " .. ASC,
  ["messages/aggregate/month"] = "`{ { _id = { year, month }, count } }` " .. ASC .. ", all time",
  ["messages/aggregate/week"] = "`{ { _id = { year, month, week }, count } }` " .. ASC .. ", all time",
  ["messages/aggregate/sender"] = "`{ { _id = { sender }, count } }` " .. ASC,
  ["events/aggregate/day"] = "`{ { _id = { year, month, day, name }, count } }` " .. ASC,
}
M.REPORT_DOCS = REPORT_DOCS

M.routes = {
  { "waiting_time", "GET", "/analytics/requests/waiting", filters = REPORT_FILTERS["requests/waiting"],
    doc = "Average waiting time (ms) of the conversations created in the window: `{ { _id = project id, "
      .. "waiting_time_avg = ms } }` (null when none has one yet), `{}` when there is none",
    example = 'local stats = assert(client.analytics:waiting_time{ last = 3600 })' },
  { "tags", "GET", "/analytics/tags/{}", params = { "type" }, dates = "iso_days",
    filters = { start_date = { "from this day (inclusive; default 6 days ago)", date = "start" },
      end_date = { "to this day (inclusive; default today)", date = "end" } },
    doc = "Daily tag counts of a counter type (\"conversation-tag\" for conversation tags; any other "
      .. "type answers empty): { dates = { \"DD/MM/YYYY\", ... } (sorted as strings, not by date), "
      .. "series = { { name = tag, values = { count per date } } } }; dates are whole UTC days",
    example = 'local stats = assert(client.analytics:tags("conversation-tag", { start_date = { 2026, 11, 1 } }))' },
}
-- every report is a route of its own in the table (coverage), reached through report(name, q)
for _, name in ipairs(REPORTS) do
  local names = {}
  for k in pairs(REPORT_FILTERS[name] or {}) do names[#names + 1] = k end
  table.sort(names)
  M.routes[#M.routes + 1] = { "report " .. name, "GET", "/analytics/" .. name, skip = true,
    call = 'client.analytics:report("' .. name .. '", query?)',
    doc = REPORT_DOCS[name] .. (#names > 0 and ("; filters: " .. table.concat(names, ", ")) or "; no filters") }
end

local known = {}
for _, r in ipairs(REPORTS) do known[r] = true end

M.methods = { REPORTS = REPORTS, REPORT_FILTERS = REPORT_FILTERS }
-- report(name, q): any aggregation of REPORTS, e.g. report("requests/aggregate/day", {lastdays=7})
function M.methods:report(name, q)
  if type(name) ~= "string" or not known[name] then
    error("analytics:report(): bad argument #1 'name' (one of analytics REPORTS expected, got " .. tostring(name) .. ")", 2)
  end
  if q ~= nil and type(q) ~= "table" then error("analytics:report(): bad argument #2 'query' (table expected)", 2) end
  local filters = REPORT_FILTERS[name] or {}
  local query = require("tiledesk.filters").apply({ op = "analytics:report()", filters = filters,
    dates = filters.timezone and "zone" or nil }, self.client, q or {}, 2)
  return self.client:call("analytics:report()", { method = "GET", path = "/analytics/" .. name, query = query })
end
-- tag_counts(type?, q?): analytics:tags() turned into days in date order (the server sorts its
-- DD/MM/YYYY strings as strings): { { date = "2026-11-30", counts = { vip = 2, ... } }, ... }.
function M.methods:tag_counts(kind, q)
  if kind ~= nil and type(kind) ~= "string" then
    error("analytics:tag_counts(): bad argument #1 'type' (string expected, got " .. type(kind) .. ")", 2)
  end
  if q ~= nil and type(q) ~= "table" then
    error("analytics:tag_counts(): bad argument #2 'query' (table expected, got " .. type(q) .. ")", 2)
  end
  local res, msg, err = self:_call("tags", kind or "conversation-tag", q)
  if not res then return nil, "analytics:tag_counts(): " .. tostring(msg), err end
  local rows = {}
  for i, d in ipairs(type(res.dates) == "table" and res.dates or {}) do
    local dd, mm, yyyy = tostring(d):match("^(%d%d)/(%d%d)/(%d%d%d%d)$")
    local counts = {}
    for _, s in ipairs(type(res.series) == "table" and res.series or {}) do
      local v = type(s.values) == "table" and s.values[i] or nil
      if type(s.name) == "string" and type(v) == "number" and v ~= 0 then counts[s.name] = v end
    end
    rows[#rows + 1] = { date = dd and (yyyy .. "-" .. mm .. "-" .. dd) or tostring(d), counts = counts }
  end
  table.sort(rows, function(a, b) return a.date < b.date end)
  return rows
end

-- README entries of the hand-written methods (tools/readme_api.lua).
M.docs = {
  tag_counts = { after = "tags",
    syntax = "days, msg, err = client.analytics:tag_counts(type?, query?)",
    doc = "analytics:tags() as days in date order: `{ { date = \"2026-11-30\", counts = { vip = 2 } }, ... }` "
      .. "(type defaults to `conversation-tag`; query: start_date, end_date as for tags)",
    via = "tags",
    example = 'for _, day in ipairs(assert(client.analytics:tag_counts(nil, { start_date = { 2026, 11, 1 } }))) do print(day.date, day.counts.vip) end' },
  report = {
    syntax = "stats, msg, err = client.analytics:report(name, query?)",
    doc = "One of the aggregations in `client.analytics.REPORTS`, with the filters it reads "
      .. "(`client.analytics.REPORT_FILTERS[name]`; others raise, `raw_query` passes them): `"
      .. table.concat(REPORTS, "`, `") .. "`",
    endpoint = "GET /{pid}/analytics/{name}",
    example = 'local stats = assert(client.analytics:report("requests/aggregate/day", { lastdays = 7 }))' },
}
return M
