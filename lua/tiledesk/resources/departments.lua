-- Departments (routing). The list and get need no authentication on the server.
local M = {}
M.routes = {
  { "list", "GET", "/departments", page = { all = true },
    filters = { sort = { "true: sorted by name (read by presence: false sends nothing)", presence = true } }, doc = "Visible departments" },
  { "list_all", "GET", "/departments/allstatus", page = { all = true },
    filters = { sort = { "true: sorted by name (read by presence: false sends nothing)", presence = true } }, doc = "All departments, any status but hidden" },
  { "get", "GET", "/departments/{}", params = { "department_id" }, doc = "One department ('default' works)",
    example = 'local dept = assert(client.departments:get("default"))' },
  { "operators", "GET", "/departments/{}/operators", params = { "department_id" },
    doc = "Who routing would pick (query: nobot, any non-empty value, 'false' too, skips the department's bot;"
      .. " disableWebHookCall, true or false: whether the operator.select resthook may change the pick)" },
  { "create", "POST", "/departments", body = "required",
    doc = "Create (name required; routing, description, default, status, id_group, groups; id_bot, and bot_only"
      .. " with it; other keys are not read)",
    example = 'local dept = assert(client.departments:create{ name = "Returns", routing = "assigned", id_bot = bot_id })' },
  { "replace", "PUT", "/departments/{}", params = { "department_id" }, body = "required",
    doc = "Replace: id_bot and id_group are always written (null when omitted); bot_only, routing, name, description,"
      .. " online_msg, status, groups only when given (default, tags, offline_msg are not read)"
      .. "; for those, JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert)"
      .. " and answered 200",
    example = 'client.departments:replace(dep_id, { name = "Returns", routing = "pooled" })' },
  { "update", "PATCH", "/departments/{}", params = { "department_id" }, body = "required",
    doc = "Update only the given keys (status, id_bot, bot_only, routing, name, description, id_group, groups)"
      .. "; JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert) and answered 200",
    example = 'client.departments:update(dep_id, { description = "Returns and exchanges" })' },
  { "delete", "DELETE", "/departments/{}", params = { "department_id" }, doc = "Delete (an unknown id answers 200 null)" },
}
return M
