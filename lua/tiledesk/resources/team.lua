-- Teammates (project users) and invitations.
local M = {}
M.routes = {
  { "list", "GET", "/project_users", page = { all = true }, returns = "project_user",
    filters = { role = { "roles (an array: any of them); default: every agent-type role", list = "repeat" },
      trashed = "true: include trashed teammates", presencestatus = "online, offline, ...",
      status = "active or disabled" },
    doc = "Teammates" },
  { "me", "GET", "/project_users/me", doc = "The caller's own membership (one-element array)" },
  { "get", "GET", "/project_users/{}", params = { "project_user_id" }, doc = "One teammate" },
  { "get_by_user", "GET", "/project_users/users/{}", params = { "user_id" }, doc = "Membership of a user (one-element array)" },
  { "find_by_email", "GET", "/project_users/users/search", fields = { "email" }, doc = "User id of a teammate by email",
    example = 'local res = assert(client.team:find_by_email("joe@example.com"))' },
  { "invite", "POST", "/project_users/invite", fields = { "email", "role" }, body = "object",
    doc = "Invite by email with a role (user_available optional)",
    example = 'client.team:invite("joe@example.com", "agent")' },
  { "update", "PUT", "/project_users/{}", params = { "project_user_id" }, body = "required",
    doc = "Role, availability, max_assigned_chat, attributes, status, tags",
    example = 'client.team:update(puid, { max_assigned_chat = 5, user_available = true })' },
  { "update_me", "PUT", "/project_users", body = "required", doc = "The caller's own availability and settings",
    example = 'client.team:update_me{ user_available = false }' },
  { "disable", "DELETE", "/project_users/{}", params = { "project_user_id" }, doc = "Disable a teammate" },
  { "trash", "DELETE", "/project_users/{}", params = { "project_user_id" }, with = { soft = true },
    doc = "Move a teammate to the trash" },
  { "remove", "DELETE", "/project_users/{}", params = { "project_user_id" }, with = { hard = true },
    doc = "Remove a teammate for good" },
  { "restore", "PUT", "/project_users/{}/restore", params = { "project_user_id" }, doc = "Restore a trashed teammate" },
  { "create_guest", "POST", "/project_users", body = "object", doc = "A guest membership for a visitor",
    example = 'local member = assert(client.team:create_guest{ attributes = { source = "widget" } })' },
  { "invitations", "GET", "/pendinginvitations", page = { all = true }, filters = {}, doc = "Pending invitations" },
  { "get_invitation", "GET", "/pendinginvitations/{}", params = { "invitation_id" }, doc = "One pending invitation" },
  { "update_invitation", "PUT", "/pendinginvitations/{}", params = { "invitation_id" }, body = "required",
    doc = "Change a pending invitation (role)",
    example = 'client.team:update_invitation(invitation_id, { role = "admin" })' },
  { "cancel_invitation", "DELETE", "/pendinginvitations/{}", params = { "invitation_id" },
    doc = "Withdraw a pending invitation" },
  { "resend_invitation", "GET", "/pendinginvitations/resendinvite/{}", params = { "invitation_id" },
    doc = "Send the invitation email again" },
}
M.methods = {}
-- set_availability(available [, project_user_id]): own availability, or a teammate's (admin)
function M.methods:set_availability(available, puid)
  if type(available) ~= "boolean" then
    error("team:set_availability(): bad argument #1 'available' (boolean expected, got " .. type(available) .. ")", 2)
  end
  if puid == nil then return self:update_me{ user_available = available } end
  return self:update(puid, { user_available = available })
end
-- set_role(project_user_id, role)
function M.methods:set_role(puid, role)
  if type(role) ~= "string" then error("team:set_role(): bad argument #2 'role' (string expected, got " .. type(role) .. ")", 2) end
  return self:update(puid, { role = role })
end
-- README entries of the hand-written methods (tools/readme_api.lua; `after` places them there).
M.docs = {
  set_availability = { after = "update_me",
    syntax = "member, msg, err = client.team:set_availability(available, project_user_id?)",
    doc = "Sets `user_available`: the caller's own, or a teammate's (admin) when project_user_id is given",
    via = { "update_me", "update" },
    example = "client.team:set_availability(false) -- going offline" },
  set_role = { after = "update_me",
    syntax = "member, msg, err = client.team:set_role(project_user_id, role)",
    doc = "Changes a teammate's role (`agent`, `supervisor`, `admin`, ...)",
    via = "update",
    example = 'client.team:set_role(puid, "admin")' },
}
-- The objects users read most (models/project_user.js), for the reference.
M.objects = {
  project_user = { doc = "A membership of a project (teammate or visitor); also _id, createdAt and updatedAt "
    .. "(ISO 8601 UTC with ms) and __v; addressed by this _id, not the user's",
    fields = {
      id_user = "the user (populated in lists: _id, email, firstname, lastname)", uuid_user = "a visitor's uuid",
      role = "owner, admin, supervisor, agent, user, guest (or a custom role)", roleType = "1 agents, 2 users",
      user_available = "available for new conversations", profileStatus = "free-form status",
      presence = "{ status = online|offline, changedAt }", max_assigned_chat = "conversations at most (absent: the project setting applies)",
      number_assigned_requests = "open conversations assigned now", isBusy = "(lists) at the limit",
      attributes = "free-form table", tags = "tags", permissions = "custom-role permissions",
      status = "active or disabled", trashed = "in the trash", last_login_at = "ISO 8601",
      last_ip = "last IP", settings = "settings", id_project = "project id", createdBy = "user id" } },
}
return M
