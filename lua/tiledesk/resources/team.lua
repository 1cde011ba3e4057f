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
    doc = "Role, user_available, profileStatus, max_assigned_chat, number_assigned_requests, attributes, status, tags"
      .. "; JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert) and answered 200",
    example = 'client.team:update(puid, { max_assigned_chat = 5, user_available = true })' },
  { "update_me", "PUT", "/project_users", body = "required",
    doc = "The caller's own user_available, profileStatus, max_assigned_chat, number_assigned_requests, attributes, tags "
      .. "(JSON null is ignored)",
    example = 'client.team:update_me{ user_available = false }' },
  { "disable", "DELETE", "/project_users/{}", params = { "project_user_id" }, doc = "Disable a teammate" },
  { "trash", "DELETE", "/project_users/{}", params = { "project_user_id" }, with = { soft = true },
    doc = "Move a teammate to the trash (trashed, and status disabled: out of the project; user_available kept)" },
  { "remove", "DELETE", "/project_users/{}", params = { "project_user_id" }, with = { hard = true },
    doc = "Remove a teammate for good" },
  { "restore", "PUT", "/project_users/{}/restore", params = { "project_user_id" },
    doc = "Restore a trashed teammate (status active again); 400 when not trashed" },
  { "create_guest", "POST", "/project_users", body = "object", doc = "A guest membership for a visitor",
    example = 'local member = assert(client.team:create_guest{ attributes = { source = "widget" } })' },
  { "invitations", "GET", "/pendinginvitations", page = { all = true }, filters = {}, doc = "Pending invitations" },
  { "get_invitation", "GET", "/pendinginvitations/{}", params = { "invitation_id" }, doc = "One pending invitation" },
  { "update_invitation", "PUT", "/pendinginvitations/{}", params = { "invitation_id" }, body = "required",
    doc = "Change a pending invitation's email and role: the server writes both (a missing one is erased), "
      .. "so the SDK reads the invitation first and sends its current value along",
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
-- update_invitation(id, { email =, role = }): the server sets email and role from the body
-- whatever it holds (routes/pending-invitation.js PUT: an absent one becomes null) and upserts an
-- unknown id, so the invitation is read first: the value not given is sent as it is, and an
-- unknown id answers the GET's 404 instead of creating an orphan invitation.
function M.methods:update_invitation(id, body)
  local op = "team:update_invitation()"
  if type(id) ~= "string" or id == "" then
    error(op .. ": bad argument #1 'invitation_id' (string expected, got " .. (id == "" and "an empty string" or type(id)) .. ")", 2)
  end
  if type(body) ~= "table" then error(op .. ": bad argument #2 'body' (table expected, got " .. type(body) .. ")", 2) end
  for k, v in pairs(body) do
    if k ~= "email" and k ~= "role" then
      error(op .. ": unknown field '" .. tostring(k) .. "' (the server writes email and role only)", 2)
    end
    if type(v) ~= "string" or v == "" then error(op .. ": '" .. k .. "' must be a non-empty string", 2) end
  end
  if body.email == nil and body.role == nil then error(op .. ": give email, role or both", 2) end
  local out = { email = body.email, role = body.role }
  if out.email == nil or out.role == nil then
    local cur, m, e = self:get_invitation(id)
    if not cur then return nil, op .. ": " .. tostring(m), e end
    out.email = out.email or cur.email
    out.role = out.role or cur.role
  end
  return self:_call("update_invitation", id, out)
end

-- README entries of the hand-written methods (tools/readme_api.lua; `after` places them there).
M.docs = {
  update_invitation = {
    syntax = "inv, msg, err = client.team:update_invitation(invitation_id, { email =, role = })",
    doc = "Changes a pending invitation's email and/or role (`PUT /{pid}/pendinginvitations/{invitation_id}`). The "
      .. "server writes both and erases the one left out, and creates an unknown id: the SDK reads the invitation "
      .. "first (an unknown id fails there) and sends its current value along",
    via = { "update_invitation", "get_invitation" },
    example = 'client.team:update_invitation(invitation_id, { role = "admin" })' },
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
      id_user = "the user (populated in reads: _id, email, firstname, lastname; its id in write answers)",
      uuid_user = "a visitor's uuid", isAuthenticated = "false for a guest, else true",
      role = "owner, admin, supervisor, agent, user, guest (or a custom role)", roleType = "1 agents, 2 users",
      user_available = "available for new conversations", profileStatus = "free-form status",
      presence = "{ status = online|offline, changedAt }", max_assigned_chat = "conversations at most (absent: the project setting applies)",
      number_assigned_requests = "open conversations assigned now", isBusy = "(lists) at the limit",
      attributes = "free-form table", tags = "tags", permissions = "custom-role permissions",
      status = "active or disabled", trashed = "in the trash", last_login_at = "ISO 8601",
      last_ip = "last IP", settings = "settings", id_project = "project id", createdBy = "user id" } },
}
return M
