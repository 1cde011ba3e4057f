-- Knowledge base namespaces: the separate knowledge bases of a project, each with its
-- contents and its answer settings (routes/kb.js; admin, or a bot or subscription token).
local M = {}
local ROLE = "admin (or a bot or subscription token)"
M.routes = {
  { "list", "GET", "/kb/namespace/all", page = { all = true }, role = ROLE,
    filters = { count = { "true: each one's number of contents (read by presence: false sends nothing)", presence = true } },
    doc = "Namespaces (count = true adds each one's number of contents); the first call makes the Default one",
    example = 'local list = assert(client.namespaces:list{ count = true })' },
  { "create", "POST", "/kb/namespace", fields = { "name" }, body = "object", role = ROLE,
    doc = "Create (hybrid = true where the plan allows it); the project's first is the default",
    example = 'local ns = assert(client.namespaces:create("Returns policy"))' },
  { "update", "PUT", "/kb/namespace/{}", params = { "namespace_id" }, body = "required", role = ROLE,
    doc = "Rename or change preview_settings (model, max_tokens, temperature, top_k, context)",
    example = 'client.namespaces:update(ns.id, { name = "Returns", preview_settings = { top_k = 6 } })' },
  { "delete", "DELETE", "/kb/namespace/{}", params = { "namespace_id" }, role = ROLE,
    filters = { contents_only = "true: delete the contents, keep the namespace" },
    doc = "Delete with its contents (not the default one); contents_only = true empties it",
    example = 'client.namespaces:delete(ns.id, { contents_only = true })' },
  { "export", "GET", "/kb/namespace/export/{}", params = { "namespace_id" }, role = ROLE,
    filters = { status = "only the contents of this indexing status" },
    doc = "Export { name, preview_settings, contents } (url, text and faq contents; status = n filters)",
    example = 'local dump = assert(client.namespaces:export(ns.id))' },
  { "import", "POST", "/kb/namespace/import/{}", params = { "namespace_id" }, body = "required", role = ROLE,
    doc = "Replace the url, text and faq contents with those of an export ({ contents = {...} }) and index them again",
    example = 'client.namespaces:import(ns.id, dump)' },
  { "chatbots", "GET", "/kb/namespace/{}/chatbots", params = { "namespace_id" }, role = ROLE,
    doc = "The bots whose flows use the namespace ({ _id, name } each)" },
  { "chunks", "GET", "/kb/namespace/{}/chunks/{}", params = { "namespace_id", "content_id" }, role = ROLE,
    doc = "The indexed chunks of one content (from the AI service)" },
}
return M
