-- Groups of agents.
local M = {}
M.routes = {
  { "list", "GET", "/groups", page = { all = true },
    filters = { member = { "groups with this user id (an array: any of them)", list = "repeat" } },
    doc = "Groups, without the trashed ones" },
  { "get", "GET", "/groups/{}", params = { "group_id" }, doc = "One group" },
  { "create", "POST", "/groups", fields = { "name" }, body = "object",
    doc = "Create (members = user ids; attributes are not read at creation: set them with update)",
    example = 'local group = assert(client.groups:create("Night shift", { members = { user_id } }))' },
  { "update", "PUT", "/groups/{}", params = { "group_id" }, body = "required",
    doc = "Update name, members, trashed, attributes; JSON null is ignored (the server skips undefined and null); "
      .. "an unknown id is created (upsert) and answered 200",
    example = 'client.groups:update(group_id, { members = { user_id, other_user_id } })' },
  { "enable", "PUT", "/groups/enable/{}", params = { "group_id" }, doc = "Enable; an unknown id is created (upsert) and answered 200" },
  { "disable", "PUT", "/groups/disable/{}", params = { "group_id" },
    doc = "Disable (403 while a department uses it); an unknown id is created (upsert) and answered 200" },
  { "delete", "DELETE", "/groups/{}", params = { "group_id" }, doc = "Delete (soft; query force=\"true\" removes it; 403 while a department uses it)" },
}
return M
