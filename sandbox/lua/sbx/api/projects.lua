-- /projects: the caller's projects, project settings, bans, operating hours, available agents.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local E = require("sbx.errors")
local or_404 = require("sbx.crud").or_404

local AGENT_ROLES = { agent = true, supervisor = true, admin = true, owner = true }
local UPDATABLE = { "name", "settings", "widget", "activeOperatingHours", "operatingHours", "channels",
  "ipFilterEnabled", "ipFilter", "ipFilterDenyEnabled", "ipFilterDeny", "bannedUsers", "defaultLanguage" }

-- Operating hours as the dashboard stores them: a JSON string
-- {"tzname":"...","1":[{"start":"09:00","end":"18:00"}], ...} with days 0 (Sunday) to 6.
-- The sandbox reads the hours in UTC (it has no time-zone database); `tzname` is ignored.
local function minutes(hhmm)
  local h, m = tostring(hhmm):match("^(%d%d?):(%d%d)$")
  return h and tonumber(h) * 60 + tonumber(m) or nil
end

local function is_open(proj, now_s)
  if not proj.activeOperatingHours then return true end
  local hours = proj.operatingHours
  if type(hours) == "string" then hours = require("sbx.json").decode(hours) end
  if type(hours) ~= "table" then return false end
  now_s = now_s or ngx.time()
  local t = os.date("!*t", now_s)
  local now_min = t.hour * 60 + t.min
  for _, slot in ipairs(hours[tostring(t.wday - 1)] or {}) do
    local from, to = minutes(slot.start), minutes(slot["end"])
    if from and to and now_min >= from and now_min < to then return true end
  end
  return false
end

local api = {}

local projects = store.coll
function api.list(ctx)
  local p = ctx.principal
  if p.kind ~= "user" then return 200, util.arr() end
  local out = util.arr()
  for _, pu in ipairs(projects("project_users"):all()) do
    local proj = projects("projects"):get(pu.id_project)
    if pu.id_user == p.id and AGENT_ROLES[pu.role] and pu.status == "active"
      and proj and proj.status == 100 then
      out[#out + 1] = view.pu(pu, { id_project = view.project(proj) })
    end
  end
  table.sort(out, function(a, b) return a.id_project.updatedAt > b.id_project.updatedAt end)
  return 200, out
end

function api.create(ctx)
  local p = ctx.principal
  if p.kind ~= "user" then return E.forbidden() end
  local b = ctx.body or {}
  if type(b.name) ~= "string" or b.name == "" then
    return 422, { errors = util.arr{ util.invalid("name", b.name) } }
  end
  local proj = projects("projects"):insert{ name = b.name, defaultLanguage = b.defaultLanguage or "en", status = 100,
    createdBy = p.id, settings = {}, widget = {}, attributes = {}, channels = util.arr{ { name = "chat21" } },
    activeOperatingHours = false, bannedUsers = util.arr(), profile = require("sbx.plan").default_profile() }
  projects("project_users"):insert{ id_project = proj._id, id_user = p.id, role = "owner", roleType = 1,
    user_available = true, status = "active", trashed = false, attributes = {}, tags = util.arr() }
  projects("departments"):insert{ name = "Default Department", routing = "assigned", default = true, status = 1,
    id_project = proj._id, createdBy = p.id }
  return 200, view.project(proj)
end

local function get_project(ctx)
  local proj = projects("projects"):get(ctx.params.pid)
  if not proj or proj.status ~= 100 then return nil end
  return proj
end
api.get = or_404(get_project, function(_, proj)
  return 200, view.project(proj)
end)

local function update(ctx)
  local proj = get_project(ctx)
  if not proj then return E.not_found() end
  local b = ctx.body or {}
  if b.profile ~= nil then return 403, { success = false, msg = "You cannot edit the profile" } end
  local set = {}
  for _, k in ipairs(UPDATABLE) do if b[k] ~= nil then set[k] = b[k] end end
  projects("projects"):update(proj._id, set)
  require("sbx.events").emit(proj._id, "project.update", view.project(proj))
  return 200, view.project(proj)
end
api.update = update
api.set_attributes = or_404(get_project, function(ctx, proj)
  proj.attributes = proj.attributes or {}
  for k, v in pairs(ctx.body or {}) do proj.attributes[k] = v end
  projects("projects"):touch(proj)
  return 200, view.project(proj)
end)

api.delete = or_404(get_project, function(_, proj)
  projects("projects"):update(proj._id, { status = 0 })
  return 200, view.project(proj)
end)

api.ban = or_404(get_project, function(ctx, proj)
  local b = ctx.body or {}
  proj.bannedUsers = proj.bannedUsers or util.arr()
  proj.bannedUsers[#proj.bannedUsers + 1] = { _id = store.id(), id = b.id, ip = b.ip }
  projects("projects"):touch(proj)
  return 200, view.project(proj)
end)

api.unban = or_404(get_project, function(ctx, proj)
  local keep = util.arr()
  for _, ban in ipairs(proj.bannedUsers or {}) do
    if ban._id ~= ctx.params.banid then keep[#keep + 1] = ban end
  end
  proj.bannedUsers = keep
  projects("projects"):touch(proj)
  return 200, view.project(proj)
end)

api.is_open = or_404(get_project, function(_, proj)
  return 200, { isopen = is_open(proj) }
end)

-- routes/project.js GET /:projectid/users/availables asks user_available and the agent kind only:
-- a disabled or trashed member that is available is listed.
api.available_users = or_404(get_project, function(ctx, proj)
  local out = util.arr()
  if not is_open(proj) and not util.bool(ctx.query.raw) then return 200, out end
  for _, pu in ipairs(projects("project_users"):all()) do
    if pu.id_project == proj._id and pu.user_available and pu.id_user and AGENT_ROLES[pu.role] then
      local u = projects("users"):get(pu.id_user)
      if u then
        out[#out + 1] = { id = u._id, pu_id = pu._id, fullname = u.firstname .. " " .. (u.lastname or ""),
          email = u.email, assigned_request = pu.number_assigned_requests or 0 }
      end
    end
  end
  return 200, out
end)

api.routes = {
  { "GET", "/projects", "list" },
  { "POST", "/projects", "create" },
  { "GET", "/projects/:pid", "get", { role = "agent", types = { "subscription" } } },
  { "PUT", "/projects/:pid", "update", { role = "admin" } },
  { "PATCH", "/projects/:pid", "update", { role = "admin" } },
  { "PATCH", "/projects/:pid/attributes", "set_attributes", { role = "admin" } },
  { "DELETE", "/projects/:pid", "delete", { role = "owner" } },
  { "POST", "/projects/:pid/ban", "ban", { role = "admin" } },
  { "DELETE", "/projects/:pid/ban/:banid", "unban", { role = "admin" } },
  { "GET", "/projects/:pid/isopen", "is_open", { auth = false } },
  { "GET", "/projects/:pid/users/availables", "available_users", { auth = false } },
}

return api
