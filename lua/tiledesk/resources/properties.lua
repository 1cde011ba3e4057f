-- Custom contact properties.
local M = {}
M.routes = {
  { "list", "GET", "/properties", page = { size = 100 },
    filters = { name = "property name", status = "status (default 100: active)",
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" },
    doc = "Properties" },
  { "get", "GET", "/properties/{}", params = { "property_id" }, doc = "One property" },
  { "create", "POST", "/properties", body = "required", doc = "Create (label, name, type)",
    example = 'local property = assert(client.properties:create{ label = "Company", name = "company", type = "text" })' },
  { "update", "PUT", "/properties/{}", params = { "property_id" }, body = "required",
    doc = "Update label, name, type, status; JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert) and answered 200",
    example = 'client.properties:update(property_id, { label = "Company name" })' },
  { "delete", "DELETE", "/properties/{}", params = { "property_id" }, doc = "Soft delete; an unknown id is created (upsert) and answered 200" },
  { "delete_physical", "DELETE", "/properties/{}/physical", params = { "property_id" }, doc = "Hard delete" },
}
return M
