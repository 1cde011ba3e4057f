-- Custom roles (permission sets).
local M = {}
M.routes = {
  { "list", "GET", "/roles", page = { size = 100 }, doc = "Custom roles" },
  { "get", "GET", "/roles/{}", params = { "role_id" }, doc = "One role" },
  { "create", "POST", "/roles", body = "required", doc = "Create (name, permissions)" },
  { "update", "PUT", "/roles/{}", params = { "role_id" }, body = "required", doc = "Update" },
  { "delete", "DELETE", "/roles/{}", params = { "role_id" }, doc = "Delete" },
}
return M
