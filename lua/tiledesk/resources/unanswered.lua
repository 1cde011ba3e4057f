-- Questions the knowledge base could not answer (kb:ask() records them; the server keeps them
-- 7 days by default). routes/unanswered.js; admin, or a bot or subscription token.
local M = {}
local ROLE = "admin (or a bot or subscription token)"
M.routes = {
  { "list", "GET", "/kb/unanswered/{}", params = { "namespace" }, page = { items = "questions", size = 20 }, role = ROLE,
    filters = { search = "words of the question", sortField = "field to sort by (default createdAt)",
      direction = "1 or -1 (the default)" },
    doc = "Unanswered questions of a namespace, newest first (search, sortField, direction = 1|-1)",
    example = 'local page = assert(client.unanswered:list(ns_id, { limit = 50 }))' },
  { "count", "GET", "/kb/unanswered/count/{}", params = { "namespace" }, role = ROLE, filters = {}, doc = "Their number ({ count })" },
  { "export", "GET", "/kb/unanswered/{}/export", params = { "namespace" }, raw = true, role = ROLE, filters = { mode = "csv (the default) or json" },
    doc = "Export as CSV (id, namespace, question, request_id, createdAt), or as JSON text with mode = \"json\"",
    example = 'local csv = assert(client.unanswered:export(ns_id))' },
  { "add", "POST", "/kb/unanswered", fields = { "namespace", "question" }, body = "object", role = ROLE,
    doc = "Record one (request_id, sender)",
    example = 'local q = assert(client.unanswered:add(ns_id, "Do you price match?", { request_id = rid }))' },
  { "update", "PUT", "/kb/unanswered/{}", params = { "question_id" }, fields = { "question" }, role = ROLE,
    doc = "Change the question's text",
    example = 'client.unanswered:update(q._id, "Do you match competitors\' prices?")' },
  { "delete", "DELETE", "/kb/unanswered/{}", params = { "question_id" }, role = ROLE, doc = "Delete one" },
  { "delete_all", "DELETE", "/kb/unanswered/namespace/{}", params = { "namespace" }, role = ROLE,
    doc = "Delete all those of a namespace ({ success, count })" },
}
return M
