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

M.routes = {
  { "waiting_time", "GET", "/analytics/requests/waiting", doc = "Average waiting time in ms ({last=seconds})",
    example = 'local stats = assert(client.analytics:waiting_time{ last = 3600 })' },
  { "tags", "GET", "/analytics/tags/{}", params = { "type" }, doc = "Tag usage of a type (requests or leads)",
    example = 'local stats = assert(client.analytics:tags("requests"))' },
}
-- every report is a route of its own in the table (coverage), reached through report(name, q)
for _, name in ipairs(REPORTS) do
  M.routes[#M.routes + 1] = { "report " .. name, "GET", "/analytics/" .. name, skip = true,
    call = 'client.analytics:report("' .. name .. '", query?)', doc = "Aggregation (lastdays, department_id, ...)" }
end

local known = {}
for _, r in ipairs(REPORTS) do known[r] = true end

M.methods = { REPORTS = REPORTS }
-- report(name, q): any aggregation of REPORTS, e.g. report("requests/aggregate/day", {lastdays=7})
function M.methods:report(name, q)
  if type(name) ~= "string" or not known[name] then
    error("analytics:report(): bad argument #1 'name' (one of analytics REPORTS expected, got " .. tostring(name) .. ")", 2)
  end
  if q ~= nil and type(q) ~= "table" then error("analytics:report(): bad argument #2 'query' (table expected)", 2) end
  return self.client:call("analytics:report()", { method = "GET", path = "/analytics/" .. name, query = q })
end
-- README entry of report() (tools/readme_api.lua).
M.docs = {
  report = {
    syntax = "stats, msg, err = client.analytics:report(name, query?)",
    doc = "One of the aggregations in `client.analytics.REPORTS` (query: lastdays, department_id, ...): `"
      .. table.concat(REPORTS, "`, `") .. "`",
    endpoint = "GET /{pid}/analytics/{name}",
    example = 'local stats = assert(client.analytics:report("requests/aggregate/day", { lastdays = 7 }))' },
}
return M
