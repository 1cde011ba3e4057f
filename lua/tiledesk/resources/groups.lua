-- Groups of agents.
local M = {}
M.routes = {
  { "list", "GET", "/groups", page = { all = true }, doc = "Groups (member filter)" },
  { "get", "GET", "/groups/{}", params = { "group_id" }, doc = "One group" },
  { "create", "POST", "/groups", fields = { "name" }, body = "object", doc = "Create (members = user ids)" },
  { "update", "PUT", "/groups/{}", params = { "group_id" }, body = "required", doc = "Update name, members, attributes" },
  { "enable", "PUT", "/groups/enable/{}", params = { "group_id" }, doc = "Enable" },
  { "disable", "PUT", "/groups/disable/{}", params = { "group_id" }, doc = "Disable" },
  { "delete", "DELETE", "/groups/{}", params = { "group_id" }, doc = "Delete (soft; force=true removes)" },
}
return M
