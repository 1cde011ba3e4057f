-- Projects. Methods taking a project id default to the client's project_id.
local M = {}
M.routes = {
  { "list", "GET", "/projects", scope = "global", page = { all = true },
    filters = { sort = "project field to sort by (default updatedAt)", direction = "1 or -1 (default)" },
    doc = "Projects where the caller is an agent" },
  { "create", "POST", "/projects", scope = "global", fields = { "name" }, body = "object", doc = "Create a project",
    example = 'local project = assert(client.projects:create("Acme Support EU"))' },
  { "get", "GET", "/projects/{}", params = { "project_id" }, default_project = true, scope = "global", doc = "One project" },
  { "update", "PUT", "/projects/{}", params = { "project_id" }, default_project = true, scope = "global",
    body = "required",
    doc = "Update name, activeOperatingHours, operatingHours, timeSlots, settings, widget, versions, channels, ipFilter*, "
      .. "bannedUsers (profile: superadmin only, 403); JSON null is ignored",
    example = [[client.projects:update(nil, { name = "Acme Support" }) -- nil: the client's project]] },
  { "merge_attributes", "PATCH", "/projects/{}/attributes", params = { "project_id" }, default_project = true,
    scope = "global", body = "required", doc = "Merge attributes",
    example = 'client.projects:merge_attributes(nil, { crm = "hubspot" })' },
  { "delete", "DELETE", "/projects/{}", params = { "project_id" }, scope = "global", doc = "Soft delete (owner)",
    example = 'client.projects:delete(old_project_id)' },
  { "is_open", "GET", "/projects/{}/isopen", params = { "project_id" }, default_project = true, scope = "global",
    auth = "none", doc = "Operating-hours check" },
  { "available_agents", "GET", "/projects/{}/users/availables", params = { "project_id" }, default_project = true,
    scope = "global", auth = "none", page = { all = true }, doc = "Agents available now" },
  { "ban", "POST", "/projects/{}/ban", params = { "project_id" }, default_project = true, scope = "global",
    body = "required", doc = "Ban a visitor ({id=, ip=})",
    example = 'client.projects:ban(nil, { id = visitor_id, ip = "203.0.113.7" })' },
  { "unban", "DELETE", "/projects/{}/ban/{}", params = { "project_id", "ban_id" }, default_project = true,
    scope = "global", doc = "Lift a ban",
    example = 'client.projects:unban(nil, ban_id)' },
}
return M
