-- Questions the knowledge base answered (kb:ask() records them with the answer and the tokens
-- used; kept 7 days by default). routes/answered.js; admin, or a bot or subscription token.
local M = {}
local ROLE = "admin (or a bot or subscription token)"
M.routes = {
  { "list", "GET", "/kb/answered/{}", params = { "namespace" }, page = { items = "questions", size = 20 }, role = ROLE,
    filters = { search = "words of the question or the answer", sortField = "field to sort by (default createdAt)",
      direction = "1 or -1 (the default)" },
    doc = "Answered questions of a namespace, newest first (search, sortField, direction = 1|-1)",
    example = 'local page = assert(client.answered:list(ns_id, { limit = 50 }))' },
  { "count", "GET", "/kb/answered/count/{}", params = { "namespace" }, role = ROLE, filters = {}, doc = "Their number ({ count })" },
  { "export", "GET", "/kb/answered/{}/export", params = { "namespace" }, raw = true, role = ROLE, filters = { mode = "csv (the default) or json" },
    doc = "Export as CSV (id, namespace, question, answer, tokens, request_id, createdAt), or JSON text with mode = \"json\"",
    example = 'local csv = assert(client.answered:export(ns_id))' },
  { "add", "POST", "/kb/answered", fields = { "namespace", "question", "answer" }, body = "object", role = ROLE,
    doc = "Record one (tokens, request_id)",
    example = 'local q = assert(client.answered:add(ns_id, "Do you ship abroad?", "Yes, to the EU."))' },
  { "delete", "DELETE", "/kb/answered/{}", params = { "question_id" }, role = ROLE, doc = "Delete one" },
  { "delete_all", "DELETE", "/kb/answered/namespace/{}", params = { "namespace" }, role = ROLE,
    doc = "Delete all those of a namespace ({ success, count })" },
}
return M
