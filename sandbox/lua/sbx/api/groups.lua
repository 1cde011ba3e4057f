-- /:pid/groups (the server's routes/group.js): agent groups (a department may route to one).
local store = require("sbx.store")
local util = require("sbx.util")
local events = require("sbx.events")
local or_404 = require("sbx.crud").or_404

local api = {}

local depts = store.coll("departments")
-- groups
local groups = store.coll("groups")
local g_opts = { role = "agent", types = { "bot", "subscription" } }
local function in_use(g)
  return depts:find_one(function(d) return d.id_group == g._id end) ~= nil
end
function api.list(ctx)
  local member = util.str(ctx.query.member)
  return 200, groups:find(function(g)
    return g.id_project == ctx.pid and not g.trashed and (not member or util.contains(g.members, member))
  end)
end

api.get = or_404("groups", function(_, g)
  return 200, g
end)

function api.create(ctx)
  local b = ctx.body or {}
  if type(b.name) ~= "string" or b.name == "" then return 422, { errors = util.arr{ util.invalid("name", b.name) } } end
  local g = groups:insert{ name = b.name, members = util.arr(util.shallow(b.members or {})), enabled = true,
    trashed = false, attributes = b.attributes, id_project = ctx.pid, createdBy = ctx.principal.id }
  events.emit(ctx.pid, "group.create", g)
  return 200, g
end

api.update = or_404("groups", function(ctx, g)
  local b = ctx.body or {}
  if b.name ~= nil then g.name = b.name end
  if b.members ~= nil then g.members = util.arr(util.shallow(b.members)) end
  if b.trashed ~= nil then g.trashed = b.trashed end
  if b.attributes ~= nil then g.attributes = b.attributes end
  groups:touch(g)
  events.emit(ctx.pid, "group.update", g)
  return 200, g
end)

api.enable = or_404("groups", function(_, g)
  groups:update(g._id, { enabled = true })
  return 200, g
end)

-- routes/group.js: the words differ between the two refusals
api.disable = or_404("groups", function(_, g)
  if in_use(g) then return 403, { success = false, error = "Unable to disabled a group associated with a department" } end
  groups:update(g._id, { enabled = false })
  return 200, g
end)

api.delete = or_404("groups", function(ctx, g)
  if in_use(g) then return 403, { success = false, error = "Unable to delete a group associated with a department" } end
  events.emit(ctx.pid, "group.delete", g)
  if util.bool(ctx.query.force) then
    groups:remove(g._id)
    return 200, g
  end
  groups:update(g._id, { trashed = true, enabled = false })
  return 200, { success = true, message = "Group successfully deleted" }
end)

api.routes = {
  { "GET", "/:pid/groups", "list", g_opts },
  { "GET", "/:pid/groups/:id", "get", g_opts },
  { "POST", "/:pid/groups", "create", g_opts },
  { "PUT", "/:pid/groups/:id", "update", g_opts },
  { "PUT", "/:pid/groups/enable/:id", "enable", g_opts },
  { "PUT", "/:pid/groups/disable/:id", "disable", g_opts },
  { "DELETE", "/:pid/groups/:id", "delete", g_opts },
}

return api
