-- /:pid/groups (the server's routes/group.js, models/group.js): agent groups (a department may
-- route to one). Mounted behind the agent role (or a bot or subscription token: app.js). The
-- routes find a group by its id alone (findById, findByIdAndUpdate with upsert,
-- findByIdAndRemove): any project's, as the server does.
local store = require("sbx.store")
local util = require("sbx.util")
local events = require("sbx.events")
local view = require("sbx.view")
local cast = require("sbx.cast")
local E = require("sbx.errors")

local api = {}

local depts = store.coll("departments")
local groups = store.coll("groups")
local g_opts = { role = "agent", types = { "bot", "subscription" } }
-- routes that answer a malformed id with words of their own
local g_own_cast = { role = "agent", types = { "bot", "subscription" }, oid = false }

-- departmentService.isGroupInProjectDepartment: a department of the project names the group
local function in_use(pid, id)
  return depts:find_one(function(d) return d.id_project == pid and d.id_group == id end) ~= nil
end

local given = util.given

-- GET /: { id_project, trashed: false }, and members { $in: member } when member is given
function api.list(ctx)
  local member = ctx.query.member
  if type(member) == "string" then
    member = member ~= "" and { member } or nil
  elseif type(member) ~= "table" then
    member = nil -- nginx reads a bare ?member as true, qs as ""
  end
  local out = util.arr()
  for _, g in ipairs(groups:all()) do
    if g.id_project == ctx.pid and g.trashed == false then
      local keep = not member
      for _, m in ipairs(member or {}) do
        if util.contains(g.members, m) then keep = true break end
      end
      if keep then out[#out + 1] = view.group(g) end
    end
  end
  return 200, out
end

function api.get(ctx)
  local g = groups:get(ctx.params.id)
  if not g then return E.not_found() end
  return 200, view.group(g)
end

-- POST: name, members, trashed false, id_project, createdBy (attributes are not read); a
-- failed cast or validation (name required) is the route's 500 'Error saving object.'
function api.create(ctx)
  local b = ctx.body or {}
  local ok_n, name = cast.string(b.name)
  local ok_m, members = cast.array(b.members)
  if not ok_n or not ok_m or type(name) ~= "string" or name == "" then return E.server("Error saving object.") end
  if members == nil then members = util.arr() end
  local g = groups:insert{ name = name, members = members, enabled = true, trashed = false, id_project = ctx.pid,
    createdBy = ctx.principal.id }
  local out = view.group(g)
  events.emit(g.id_project, "group.create", out)
  return 200, out
end

-- findByIdAndUpdate(id, update, { new: true, upsert: true }): an unknown id is made a document
-- of the update's fields alone; group.update goes to the group's own project. nil, the cast
-- failed.
local function upsert(id, update)
  if not util.is_oid(id) then return nil end
  local g = groups:upsert(id, update)
  local out = view.group(g)
  events.emit(g.id_project, "group.update", out)
  return out
end

-- PUT /:id: name, members, trashed, attributes when given
function api.update(ctx)
  local b = ctx.body or {}
  local update = {}
  local ok = true
  local function take(k, fn)
    if given(b[k]) then
      local good, v = fn(b[k])
      if good then update[k] = v else ok = false end
    end
  end
  take("name", cast.string)
  take("members", cast.array)
  take("trashed", cast.boolean)
  take("attributes", function(v) return true, v end)
  local out = ok and upsert(ctx.params.id, update)
  if not out then return E.server("Error updating object.") end
  return 200, out
end

function api.enable(ctx)
  local out = upsert(ctx.params.id, { enabled = true })
  if not out then return 500, { success = false, error = "Error enabling group" } end
  return 200, out
end

-- routes/group.js: the words differ between the two refusals
function api.disable(ctx)
  if in_use(ctx.pid, ctx.params.id) then
    return 403, { success = false, error = "Unable to disabled a group associated with a department" }
  end
  local out = upsert(ctx.params.id, { enabled = false })
  if not out then return 500, { success = false, error = "Error disabling group" } end
  return 200, out
end

-- DELETE /:id: force=true removes it (findByIdAndRemove: group.delete and the group, or an
-- empty 200 for an unknown id: res.send(null)); otherwise enabled false and trashed true
-- (findByIdAndUpdate without upsert: group.update, nothing for an unknown id) and the same
-- words whatever was found.
function api.delete(ctx)
  local id = ctx.params.id
  if in_use(ctx.pid, id) then
    return 403, { success = false, error = "Unable to delete a group associated with a department" }
  end
  if not util.is_oid(id) then return 500, { success = false, msg = "Error deleting group" } end
  local g = groups:get(id)
  if ctx.query.force == "true" then
    if not g then return 200, nil end -- res.send(null): no body, no Content-Type
    groups:remove(g._id)
    local out = view.group(g)
    events.emit(g.id_project, "group.delete", out)
    return 200, out
  end
  if g then
    groups:set(g, { enabled = false, trashed = true })
    events.emit(g.id_project, "group.update", view.group(g))
  end
  return 200, { success = true, message = "Group successfully deleted" }
end

api.routes = {
  { "GET", "/:pid/groups", "list", g_opts },
  { "GET", "/:pid/groups/:id", "get", g_opts },
  { "POST", "/:pid/groups", "create", g_opts },
  { "PUT", "/:pid/groups/:id", "update", g_opts },
  { "PUT", "/:pid/groups/enable/:id", "enable", g_own_cast },
  { "PUT", "/:pid/groups/disable/:id", "disable", g_own_cast },
  { "DELETE", "/:pid/groups/:id", "delete", g_own_cast },
}

return api
