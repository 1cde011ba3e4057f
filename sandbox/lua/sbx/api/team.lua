-- /:pid/project_users (team) and /:pid/pendinginvitations.
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local E = require("sbx.errors")
local events = require("sbx.events")
local archiver = require("sbx.archiver")

local AGENT_ROLES = { agent = true, supervisor = true, admin = true, owner = true }
local UPDATABLE = { "user_available", "profileStatus", "max_assigned_chat", "number_assigned_requests",
  "attributes", "tags", "settings" }
local ROLES = { owner = true, admin = true, supervisor = true, agent = true, user = true, guest = true, teammate = true }

local function busy(pu)
  return pu.max_assigned_chat and pu.max_assigned_chat > 0
    and (pu.number_assigned_requests or 0) >= pu.max_assigned_chat or false
end

local api = {}

local app = require("sbx.app")
local owned = require("sbx.crud").owned
local or_404 = require("sbx.crud").or_404
local pus = store.coll("project_users")
local function list_view(pu) return view.pu(pu, { isBusy = busy(pu) }) end
-- The membership as the route hands it to the archiver: toJSON of the document with id_user
-- populated with the given user fields only (_id, firstname, lastname, and email for invites
-- and removals), isBusy added where the route adds it.
local function pu_object(pu, with_email, with_busy)
  local out = util.copy(view.pu(pu, with_busy and { isBusy = busy(pu) } or nil))
  local u = pu.id_user and store.coll("users"):get(pu.id_user)
  if u then
    out.id_user = { _id = u._id, firstname = u.firstname, lastname = u.lastname, email = with_email and u.email or nil }
  end
  return out
end
local function pu_target(pu, with_email, with_busy)
  return { type = "project_user", id = pu._id, object = pu_object(pu, with_email, with_busy) }
end
local function body_of(ctx) return type(ctx.body) == "table" and ctx.body or {} end

-- PROJECT_USER_INVITE (activityArchiver.buildProjectUserInviteActivity)
local function record_invite(ctx, target, pending)
  local b = body_of(ctx)
  archiver.record(ctx.pid, archiver.actor(ctx.principal), "PROJECT_USER_INVITE",
    { email = b.email, role = b.role, user_available = b.user_available,
      inviteType = pending and "pending" or "registered" }, target)
end

-- PROJECT_USER_DELETE (buildProjectUserDeleteActivity): the membership as it came back
local function record_delete(ctx, pu, delete_type)
  local target = pu_target(pu, true, false)
  archiver.record(ctx.pid, archiver.actor(ctx.principal), "PROJECT_USER_DELETE",
    { deleteType = delete_type, role = pu.role, email = target.object.id_user and target.object.id_user.email },
    target)
end

-- utils/projectUserUpdateContextUtil.buildProjectUserUpdateContext: a subscription's token or
-- availabilityInitiator 'system' is a system update; the route PUT /project_users (no
-- :project_userid) is the member's own; else own when the caller is the member's user.
local function update_context(ctx, self_route, target_user)
  local p, b = ctx.principal, body_of(ctx)
  if p.kind == "subscription" or b.availabilityInitiator == "system" then
    return { updateType = "system", source = p.kind == "subscription" and "subscription" or "api" }
  end
  if self_route or (p.id and target_user and p.id == target_user) then
    return { updateType = "self", source = "api" }
  end
  return { updateType = "admin", source = "api" }
end

-- availabilityStatusLabel: the profileStatus when set, else available / unavailable / unknown
local function status_label(pu)
  local ps = pu.profileStatus
  if ps ~= nil and ps ~= util.null and ps ~= "" then return type(ps) == "string" and ps or util.json.encode(ps) end
  if pu.user_available == true then return "available" end
  if pu.user_available == false then return "unavailable" end
  return "unknown"
end

-- The archiver's project_user.update: the verb (an availability change, user_available or
-- profileStatus in the body, is PROJECT_USER_AVAILABILITY_SYSTEM for a system update,
-- PROJECT_USER_AVAILABILITY_SELF for the member's own, else PROJECT_USER_UPDATE), the actor
-- (the system, or the caller named by its display name, else by the member's when it is the
-- member), the body with newStatus, updateType and source as action, the populated membership
-- (isBusy added) as target.
local function record_update(ctx, pu, context)
  local p, b = ctx.principal, body_of(ctx)
  local availability = b.user_available ~= nil or b.profileStatus ~= nil
  local verb = "PROJECT_USER_UPDATE"
  if availability and context.updateType == "system" then verb = "PROJECT_USER_AVAILABILITY_SYSTEM"
  elseif availability and context.updateType == "self" then verb = "PROJECT_USER_AVAILABILITY_SELF" end
  local target = pu_target(pu, false, true)
  local member = target.object.id_user
  local member_id = type(member) == "table" and member._id or nil
  local actor
  -- reconcileAvailabilityVerb
  if availability and (p.kind == "subscription" or b.availabilityInitiator == "system") then
    context.updateType = "system"
    verb, actor = "PROJECT_USER_AVAILABILITY_SYSTEM", archiver.system_actor()
  elseif verb == "PROJECT_USER_AVAILABILITY_SELF" and member_id and p.id and p.id ~= member_id then
    context.updateType = "admin"
    verb = "PROJECT_USER_UPDATE"
  end
  if not actor then
    -- actorFromProjectUserUpdate
    if context.updateType == "system" or p.kind == "subscription" or b.availabilityInitiator == "system" then
      actor = archiver.system_actor()
    else
      actor = { type = "user", id = p.id, name = archiver.display_name(p.user) }
      if not actor.name and (verb == "PROJECT_USER_AVAILABILITY_SELF" or member_id == actor.id) then
        actor.name = archiver.display_name(member)
      end
    end
  end
  local action = util.copy(b)
  action.newStatus, action.updateType, action.source = status_label(pu), context.updateType, context.source
  archiver.record(pu.id_project, actor, verb, action, target)
end
local function find(ctx) return owned("project_users", ctx, ctx.params.puid) end

-- routes/project_user.js GET /: role is matched with $in (a repeated key gives a list; one
-- value, commas included, is one role name); without role, the members of the agent kind
-- (roleType 1: custom roles too, guests and users not); trashed members are left out unless
-- trashed is given and is not "false" (then trashed or not, all come)
function api.list(ctx)
  local q = ctx.query
  local roles
  if q.role and q.role ~= "" then
    roles = {}
    for _, x in ipairs(type(q.role) == "table" and q.role or { q.role }) do roles[x] = true end
  end
  local all = q.trashed and q.trashed ~= "" and q.trashed ~= "false"
  local out = util.arr()
  for _, pu in ipairs(pus:all()) do
    if pu.id_project == ctx.pid and (all or pu.trashed ~= true)
      and (roles and roles[pu.role] or (not roles and (pu.roleType or 1) == 1))
      and (not q.status or pu.status == util.str(q.status))
      and (not q.presencestatus or (pu.presence and pu.presence.status == util.str(q.presencestatus))) then
      out[#out + 1] = list_view(pu)
    end
  end
  return 200, out
end

function api.me(ctx)
  local pu = ctx.principal.pu
  return 200, util.arr{ pu and pu._id and list_view(pu) or nil }
end

function api.search_users(ctx)
  local email = util.str(ctx.query.email)
  local u = email and require("sbx.app").find_user_by_email(email)
  if not u then return E.not_found() end
  local pu = pus:find_one(function(x) return x.id_project == ctx.pid and x.id_user == u._id end)
  -- routes/project_user.js GET /users/search: 403, a body without success
  if not pu then return 403, { msg = "Unauthorized. This is not a your teammate." } end
  return 200, { _id = u._id }
end

-- routes/project_user.js GET /users/:user_id: findOne by id_user when the id is a valid ObjectId
-- (mongoose's isValid: 24 hex digits, or any 12 characters), else by uuid_user; the one found,
-- with isBusy, in an array of one.
function api.by_user(ctx)
  local id = ctx.params.user_id
  local by_id = (#id == 24 and id:match("^%x+$") ~= nil) or #id == 12
  local pu = pus:find_one(function(x)
    if x.id_project ~= ctx.pid then return false end
    if by_id then return x.id_user == id end
    return x.uuid_user == id
  end)
  if not pu then return E.not_found() end
  return 200, util.arr{ list_view(pu) }
end

api.get = or_404(find, function(_, pu)
  return 200, list_view(pu)
end)

function api.invite(ctx)
  local b = ctx.body or {}
  if type(b.email) ~= "string" or not b.email:find("@") then
    return 422, { errors = util.arr{ util.invalid("email", b.email) } }
  end
  if type(b.role) ~= "string" or not ROLES[b.role] or b.role == "owner" then
    return 422, { errors = util.arr{ util.invalid("role", b.role) } }
  end
  -- routes/project_user.js POST /invite: the user by e-mail, else a pending invitation; not the
  -- caller; not an active member of the agents' role type unless trashed (a trashed or disabled
  -- one gets a new membership)
  local email = b.email:lower()
  local u = require("sbx.app").find_user_by_email(email)
  if not u then
    local inv = store.coll("pendinginvitations"):insert{ id_project = ctx.pid, email = email, role = b.role,
      createdBy = ctx.principal.id }
    record_invite(ctx, { type = "pendinginvitation", id = inv._id, object = util.copy(inv) }, true)
    return 200, { msg = "User not found, save invite in pending ", pendingInvitation = inv }
  end
  if u._id == ctx.principal.id then
    return 403, { success = false, msg = "Forbidden. It is not allowed to invite oneself", code = 4000 }
  end
  local existing = pus:find_one(function(x)
    return x.id_project == ctx.pid and x.id_user == u._id and x.roleType == 1 and x.status == "active"
  end)
  if existing and existing.trashed ~= true then
    return 403, { success = false, msg = "Forbidden. User is already a member", code = 4001 }
  end
  local pu = pus:insert{ id_project = ctx.pid, id_user = u._id, role = b.role, roleType = 1,
    user_available = b.user_available ~= false, status = "active", trashed = false, attributes = {},
    tags = util.arr(), max_assigned_chat = -1, number_assigned_requests = 0, createdBy = ctx.principal.id }
  events.emit(ctx.pid, "project_user.invite", view.pu(pu))
  record_invite(ctx, pu_target(pu, true, true), false)
  return 200, view.pu_doc(pu)
end

local function apply(ctx, pu, b, allow_role)
  local set = {}
  for _, k in ipairs(UPDATABLE) do if b[k] ~= nil then set[k] = b[k] end end
  local permissions
  if allow_role then
    if b.role ~= nil then
      -- a built-in role, or a custom one of the project (POST /:pid/roles) by name, whose
      -- permission names the membership then carries
      local custom = not ROLES[b.role] and app.custom_role(ctx.pid, b.role)
      if not ROLES[b.role] and not custom then return false end
      set.role = b.role
      permissions = custom and util.arr(util.shallow(type(custom.permissions) == "table" and custom.permissions or {}))
        or false
    end
    if b.status ~= nil then
      if b.status ~= "active" and b.status ~= "disabled" then return false end
      set.status = b.status
    end
  end
  if set.user_available ~= nil then
    set.presence = { status = set.user_available and "online" or "offline" }
  end
  pus:update(pu._id, set)
  if permissions then pu.permissions = permissions elseif permissions == false then pu.permissions = nil end
  return true
end
api.update = or_404(find, function(ctx, pu)
  -- the route reads the member's user first only for an availability change
  local b = ctx.body or {}
  local context = update_context(ctx, false,
    (util.given(b.user_available) or util.given(b.profileStatus)) and pu.id_user or nil)
  if not apply(ctx, pu, ctx.body or {}, true) then
    return 422, { errors = util.arr{ util.invalid("role", (ctx.body or {}).role) } }
  end
  events.emit(ctx.pid, "project_user.update", view.pu(pu))
  if AGENT_ROLES[pu.role] then events.emit(ctx.pid, "project_user.update.agent", view.pu(pu)) end
  record_update(ctx, pu, context)
  return 200, view.pu_doc(pu)
end)

function api.update_mine(ctx)
  local pu = ctx.principal.pu
  if not pu or not pu._id then return E.not_found() end
  local context = update_context(ctx, true, pu.id_user)
  apply(ctx, pu, ctx.body or {}, false)
  events.emit(ctx.pid, "project_user.update", view.pu(pu))
  record_update(ctx, pu, context)
  return 200, view.pu_doc(pu)
end

function api.create(ctx)
  local b = ctx.body or {}
  local pu = pus:insert{ id_project = ctx.pid, uuid_user = store.uuid(), role = "guest", roleType = 2,
    user_available = false, status = "active", trashed = false, attributes = {}, tags = b.tags or util.arr() }
  return 200, view.pu_doc(pu)
end

-- routes/project_user.js DELETE /:project_userid and PUT /:project_userid/restore answer a
-- missing member so
local function pu_not_found(ctx)
  return 404, { success = false, error = "Project user not found with id " .. tostring(ctx.params.puid) }
end

-- DELETE /:project_userid: hard=true removes; soft=true sets trashed (findByIdAndUpdate
-- { trashed: true }), to which the model's pre('findOneAndUpdate') hook adds status "disabled"
-- (user_available stays); else disables (status "disabled", user_available false). The answer
-- is the document, id_user not populated.
-- event/projectUserEvent.js on project_user.deleted (soft and hard): the user is pulled from
-- the members of every group of the project (a guest has no id_user: its toString throws and
-- the listener's catch ends it)
local function leave_groups(pu)
  if not pu.id_user then return end
  local groups = store.coll("groups")
  for _, g in ipairs(groups:find(function(g) return g.id_project == pu.id_project end)) do
    if util.contains(g.members, pu.id_user) then
      local keep = util.arr()
      for _, m in ipairs(g.members) do if m ~= pu.id_user then keep[#keep + 1] = m end end
      groups:set(g, { members = keep }) -- Group.updateMany: no new __v
    end
  end
end
-- then emitProjectUserDeleteActivity: project_user.delete (the resthook and the archiver) with
-- the membership's toJSON, id_user populated with firstname, lastname and email
local function deleted(ctx, pu, how)
  leave_groups(pu)
  events.emit(ctx.pid, "project_user.delete", pu_object(pu, true))
  record_delete(ctx, pu, how)
end

function api.delete(ctx)
  local pu = find(ctx)
  if not pu then return pu_not_found(ctx) end
  if ctx.query.soft == "true" then
    pus:update(pu._id, { trashed = true, status = "disabled" })
    deleted(ctx, pu, "soft")
  elseif ctx.query.hard == "true" then
    pus:remove(pu._id)
    deleted(ctx, pu, "hard")
  else
    pus:update(pu._id, { status = "disabled", user_available = false })
  end
  return 200, view.pu_doc(pu)
end

-- PUT /:project_userid/restore: 404 when the project has no such member, 400 when it is not
-- trashed; else trashed false and status "active" (user_available as it is). The route emits
-- project_user.update without a context: the archiver makes one (not the member's own route)
-- and records it as any update.
function api.restore(ctx)
  local pu = find(ctx)
  if not pu then return pu_not_found(ctx) end
  if pu.trashed ~= true then
    return 400, { success = false, error = "Project user is not trashed, cannot restore" }
  end
  pus:update(pu._id, { trashed = false, status = "active" })
  events.emit(ctx.pid, "project_user.update", view.pu(pu))
  record_update(ctx, pu, update_context(ctx, false, pu.id_user))
  return 200, view.pu_doc(pu)
end

local invs = store.coll("pendinginvitations")
function api.list_invitations(ctx)
  return 200, invs:find(function(i) return i.id_project == ctx.pid end)
end

api.get_invitation = or_404("pendinginvitations", function(_, inv)
  return 200, inv
end)

-- the server mails the invitee again and answers with the invitation under this odd key
api.resend_invitation = or_404("pendinginvitations", function(_, inv)
  inv.resent = (inv.resent or 0) + 1
  return 200, { ["Resend invitation email to"] = inv }
end)

-- routes/pending-invitation.js: no checks; both fields are written whatever came (a missing
-- one becomes null), by id alone (findByIdAndUpdate, upsert: an unknown id makes a document
-- with these two fields only).
function api.update_invitation(ctx)
  local b = ctx.body or {}
  local email = b.email
  if type(email) == "string" and email ~= "" then email = email:lower() end
  if email == nil then email = util.null end
  local role = b.role
  if role == nil then role = util.null end
  local inv = invs:get(ctx.params.id) or invs:insert{ _id = ctx.params.id }
  return 200, invs:update(inv._id, { email = email, role = role })
end

function api.delete_invitation(ctx)
  local inv = owned("pendinginvitations", ctx)
  -- a raw remove result, as the server answers
  if inv then invs:remove(inv._id) end
  return 200, crud.removed(inv and 1 or 0)
end

api.routes = {
  { "GET", "/:pid/project_users", "list", { role = "agent", types = { "bot", "subscription" } } },
  { "GET", "/:pid/project_users/me", "me", { role = "agent", types = { "subscription" } } },
  { "GET", "/:pid/project_users/users/search", "search_users", { role = "user", types = { "subscription" } } },
  { "GET", "/:pid/project_users/users/:user_id", "by_user", { role = "agent", types = { "subscription" } } },
  { "GET", "/:pid/project_users/:puid", "get", { role = "agent", types = { "subscription" } } },
  { "POST", "/:pid/project_users/invite", "invite", { role = "admin" } },
  { "PUT", "/:pid/project_users/:puid", "update", { role = "admin", types = { "subscription" } } },
  { "PUT", "/:pid/project_users", "update_mine", { role = "agent" } },
  { "POST", "/:pid/project_users", "create", { role = "agent" } },
  { "DELETE", "/:pid/project_users/:puid", "delete", { role = "admin" } },
  { "PUT", "/:pid/project_users/:puid/restore", "restore", { role = "admin" } },
  { "GET", "/:pid/pendinginvitations", "list_invitations", { role = "agent" } },
  { "GET", "/:pid/pendinginvitations/:id", "get_invitation", { role = "agent" } },
  { "GET", "/:pid/pendinginvitations/resendinvite/:id", "resend_invitation", { role = "agent" } },
  { "PUT", "/:pid/pendinginvitations/:id", "update_invitation", { role = "agent" } },
  { "DELETE", "/:pid/pendinginvitations/:id", "delete_invitation", { role = "agent" } },
}

return api
