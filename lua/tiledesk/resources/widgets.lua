-- What the chat widget reads when it starts (routes/widget.js, routes/public-analytics.js):
-- no authentication.
local M = {}
M.routes = {
  { "get", "GET", "/widgets", auth = "none", filters = {},
    doc = "Widget boot data: { project (widget settings), user_available, departments, ip, botsRules }" },
  { "waiting_time", "GET", "/publicanalytics/waiting/current", auth = "none", filters = {},
    doc = "Average wait of the last 4 hours: { { _id, waiting_time_avg } } (ms), empty without conversations" },
}
return M
