-- Custom roles (permission sets).
local M = {}
M.routes = {
  { "list", "GET", "/roles", page = { size = 100 }, filters = {
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" },
    doc = "Custom roles" },
  { "get", "GET", "/roles/{}", params = { "role_id" }, doc = "One role" },
  { "create", "POST", "/roles", body = "required", doc = "Create (name, permissions)",
    example = 'local role = assert(client.roles:create{ name = "billing", permissions = { "request_read", "lead_read" } })' },
  { "update", "PUT", "/roles/{}", params = { "role_id" }, body = "required",
    doc = "Update name, permissions; JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert) and answered 200",
    example = 'client.roles:update(role_id, { permissions = { "request_read" } })' },
  { "delete", "DELETE", "/roles/{}", params = { "role_id" }, doc = "Delete (an unknown id answers 200 null)" },
}
return M
