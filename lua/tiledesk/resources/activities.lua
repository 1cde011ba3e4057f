-- Activity log of the project (admin).
local M = {}
M.routes = {
  { "list", "GET", "/activities", page = { items = "activities", size = 100, max = 100 },
    doc = "One page of activities (agent_id, activities, start_date/end_date DD/MM/YYYY)",
    example = 'local page = assert(client.activities:list{ start_date = "01/11/2026", end_date = "30/11/2026" })' },
  { "csv", "GET", "/activities/csv", raw = true, doc = "CSV export" },
}
return M
