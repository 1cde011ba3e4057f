-- Custom contact properties.
local M = {}
M.routes = {
  { "list", "GET", "/properties", page = { size = 100 }, doc = "Properties" },
  { "get", "GET", "/properties/{}", params = { "property_id" }, doc = "One property" },
  { "create", "POST", "/properties", body = "required", doc = "Create (label, name, type)" },
  { "update", "PUT", "/properties/{}", params = { "property_id" }, body = "required", doc = "Update" },
  { "delete", "DELETE", "/properties/{}", params = { "property_id" }, doc = "Soft delete" },
  { "delete_physical", "DELETE", "/properties/{}/physical", params = { "property_id" }, doc = "Hard delete" },
}
return M
