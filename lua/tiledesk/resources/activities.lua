-- Activity log of the project (admin).
local M = {}
-- The filters the server reads (pubmodules/activities/routes/activity.js).
local filters = {
  agent_id = "activities involving this user id (actor, member, assignee, or agent of the conversation)",
  activities = { "verbs (an array is comma-joined): PROJECT_USER_INVITE, REQUEST_CREATE, ...", list = "comma" },
  start_date = { "from this day (inclusive)", date = "start" }, end_date = { "to this day (inclusive)", date = "end" },
  sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)",
  chart = "true (or 1): the chart view, up to 1000 a page (the answer has chart = true, and limitWarning past 1000)",
}
local csv_filters = {}
for k, v in pairs(filters) do csv_filters[k] = v end
csv_filters.chart = nil
csv_filters.lang = "language of the message column: it (Italian for the team changes), else English"
csv_filters.page = "page of 100000 rows (from 0)"
M.routes = {
  { "list", "GET", "/activities", page = { items = "activities", size = 100, max = 100 },
    filters = filters, dates = "utc_days",
    doc = "One page of activities, each with the server's English `message` where its verb has one (dates: whole UTC days)",
    example = 'local page = assert(client.activities:list{ start_date = { 2026, 11, 1 }, end_date = "2026-11-30" })' },
  { "csv", "GET", "/activities/csv", raw = true, filters = csv_filters, dates = "utc_days",
    doc = "CSV export, with a `message` column (dates: whole UTC days)" },
}
return M
