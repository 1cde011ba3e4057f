-- The routes of answered.lua and unanswered.lua: the server's routes/answered.js and
-- routes/unanswered.js serve the same operations on two collections of the knowledge base's
-- questions (kb:ask() records them; kept 7 days by default). admin, or a bot or subscription token.
-- questions(name, d) -> the route list of client.<name>; d says what differs:
--   search (what the search filter reads), columns (of the CSV export), add = { fields, doc, example }
--   and extra routes, placed before delete.
local ROLE = "admin (or a bot or subscription token)"

return function(name, d)
  local base = "/kb/" .. name
  local routes = {
    { "list", "GET", base .. "/{}", params = { "namespace" }, page = { items = "questions", size = 20 }, role = ROLE,
      filters = { search = d.search, sortField = "field to sort by (default createdAt)", direction = "1 or -1 (the default)" },
      doc = d.title .. " questions of a namespace, newest first (search, sortField, direction = 1|-1)",
      example = "local page = assert(client." .. name .. ":list(ns_id, { limit = 50 }))" },
    { "count", "GET", base .. "/count/{}", params = { "namespace" }, role = ROLE, filters = {}, doc = "Their number ({ count })" },
    { "export", "GET", base .. "/{}/export", params = { "namespace" }, raw = true, role = ROLE,
      filters = { mode = "csv (the default) or json" },
      doc = "Export as CSV (" .. d.columns .. "), or as JSON text with mode = \"json\"",
      example = "local csv = assert(client." .. name .. ":export(ns_id))" },
    { "add", "POST", base, fields = d.add.fields, body = "object", role = ROLE, doc = d.add.doc, example = d.add.example },
  }
  for _, r in ipairs(d.extra or {}) do
    r.role = ROLE
    routes[#routes + 1] = r
  end
  routes[#routes + 1] = { "delete", "DELETE", base .. "/{}", params = { "question_id" }, role = ROLE, doc = "Delete one" }
  routes[#routes + 1] = { "delete_all", "DELETE", base .. "/namespace/{}", params = { "namespace" }, role = ROLE,
    doc = "Delete all those of a namespace ({ success, count })" }
  return routes
end
