-- Canned responses.
local M = {}
M.routes = {
  { "list", "GET", "/canned", page = { size = 1000, fixed = true },
    filters = { full_text = "full-text search",
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" },
    doc = "Shared and own canned responses" },
  { "get", "GET", "/canned/{}", params = { "canned_id" }, doc = "One (only its creator may read it)" },
  { "create", "POST", "/canned", fields = { "title", "text" }, body = "object", doc = "Create (shared optional)",
    example = 'local canned = assert(client.canned:create("Refund", "Your refund is on its way.", { shared = true }))' },
  { "update", "PUT", "/canned/{}", params = { "canned_id" }, body = "required",
    doc = "Update title, text, attributes (other keys are ignored; 404 for another project's or an unknown id)",
    example = 'client.canned:update(canned_id, { text = "Your refund was sent today." })' },
  { "delete", "DELETE", "/canned/{}", params = { "canned_id" }, doc = "Soft delete" },
  { "delete_physical", "DELETE", "/canned/{}/physical", params = { "canned_id" }, doc = "Hard delete" },
}
return M
