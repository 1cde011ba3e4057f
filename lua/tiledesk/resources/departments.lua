-- Departments (routing). Reads need no authentication on the server.
local M = {}
M.routes = {
  { "list", "GET", "/departments", page = { all = true },
    filters = { sort = "any value: sorted by name" }, doc = "Visible departments" },
  { "list_all", "GET", "/departments/allstatus", page = { all = true },
    filters = { sort = "any value: sorted by name" }, doc = "All departments, any status but hidden" },
  { "get", "GET", "/departments/{}", params = { "department_id" }, doc = "One department ('default' works)",
    example = 'local dept = assert(client.departments:get("default"))' },
  { "operators", "GET", "/departments/{}/operators", params = { "department_id" }, doc = "Who routing would pick" },
  { "create", "POST", "/departments", body = "required", doc = "Create (name, routing, id_bot, id_group, ...)",
    example = 'local dept = assert(client.departments:create{ name = "Returns", routing = "assigned", id_bot = bot_id })' },
  { "replace", "PUT", "/departments/{}", params = { "department_id" }, body = "required",
    doc = "Replace: id_bot and id_group are always written (cleared when omitted), the others only when given"
      .. "; JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert) and answered 200",
    example = 'client.departments:replace(dep_id, { name = "Returns", routing = "pooled" })' },
  { "update", "PATCH", "/departments/{}", params = { "department_id" }, body = "required",
    doc = "Update only the given keys (status, id_bot, bot_only, routing, name, description, id_group, groups)"
      .. "; JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert) and answered 200",
    example = 'client.departments:update(dep_id, { description = "Returns and exchanges" })' },
  { "delete", "DELETE", "/departments/{}", params = { "department_id" }, doc = "Delete (an unknown id answers 200 null)" },
}
return M
