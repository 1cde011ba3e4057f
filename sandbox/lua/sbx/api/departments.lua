-- /:pid/departments and /:pid/groups (the server's routes/department.js, routes/group.js).
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")
local events = require("sbx.events")

local FIELDS = { "name", "routing", "description", "default", "status", "id_group", "groups", "id_bot", "bot_only",
  "online_msg", "offline_msg", "tags" }

-- GET /:pid/departments/default (and its operators) reads the default department; elsewhere
-- "default" is no ObjectId and fails the cast like any other malformed id.
local function is_default(id) return id == "default" end

return function(r)
  local depts = store.coll("departments")
  local function find(ctx)
    local id = ctx.params.id
    local d
    if id == "default" then
      d = depts:find_one(function(x) return x.id_project == ctx.pid and x.default end)
    else
      d = depts:get(id)
    end
    if not d or d.id_project ~= ctx.pid then return nil end
    return d
  end
  local function sorted(list, q)
    if q.sort then table.sort(list, function(a, b) return (a.name or "") < (b.name or "") end) end
    return list
  end
  r:add("GET", "/:pid/departments", { auth = false }, function(ctx)
    return 200, sorted(depts:find(function(d) return d.id_project == ctx.pid and d.status == 1 end), ctx.query)
  end)
  r:add("GET", "/:pid/departments/allstatus", { role = "agent", types = { "bot", "subscription" } }, function(ctx)
    return 200, sorted(depts:find(function(d) return d.id_project == ctx.pid and (d.status or 1) >= 0 end), ctx.query)
  end)
  r:add("GET", "/:pid/departments/:id", { auth = false, oid_except = is_default }, function(ctx)
    local d = find(ctx)
    if not d then return E.not_found() end
    return 200, d
  end)
  -- Simplified: the server runs its routing (round robin, max chats, groups, operator.select
  -- hooks); the sandbox picks the department's bot, else the first available agent.
  r:add("GET", "/:pid/departments/:id/operators",
    { role = "agent", types = { "bot", "subscription" }, oid_except = is_default }, function(ctx)
    local d = find(ctx)
    if not d then return E.not_found() end
    local available = util.arr()
    for _, pu in ipairs(store.coll("project_users"):all()) do
      if pu.id_project == ctx.pid and pu.id_user and pu.user_available and pu.status == "active" and not pu.trashed
        and pu.role ~= "guest" and pu.role ~= "user" then
        available[#available + 1] = { id_user = pu.id_user }
      end
    end
    local out = { department = d, available_agents = available, agents = available, operators = util.arr() }
    if d.id_bot and not util.bool(ctx.query.nobot) then
      out.operators[1] = { id_user = "bot_" .. d.id_bot }
    elseif #available > 0 then
      out.operators[1] = available[1]
    end
    return 200, out
  end)
  r:add("POST", "/:pid/departments", { role = "admin" }, function(ctx)
    local b = ctx.body or {}
    if type(b.name) ~= "string" or b.name == "" then return 422, { errors = util.arr{ util.invalid("name", b.name) } } end
    local d = { id_project = ctx.pid, createdBy = ctx.principal.id, routing = "pooled", status = 1, default = false }
    for _, k in ipairs(FIELDS) do if b[k] ~= nil then d[k] = b[k] end end
    depts:insert(d)
    events.emit(ctx.pid, "department.create", d)
    return 200, d
  end)
  r:add("PUT", "/:pid/departments/:id", { role = "admin" }, function(ctx)
    local d = find(ctx)
    if not d then return E.not_found() end
    local b = ctx.body or {}
    for _, k in ipairs(FIELDS) do if b[k] ~= nil then d[k] = b[k] end end
    -- the server overwrites these two with whatever came, nothing included
    d.id_bot = b.id_bot
    d.id_group = b.id_group
    depts:touch(d)
    events.emit(ctx.pid, "department.update", d)
    return 200, d
  end)
  r:add("PATCH", "/:pid/departments/:id", { role = "admin" }, function(ctx)
    local d = find(ctx)
    if not d then return E.not_found() end
    for _, k in ipairs(FIELDS) do
      local v = (ctx.body or {})[k]
      if v ~= nil then d[k] = v ~= util.null and v or nil end
    end
    depts:touch(d)
    events.emit(ctx.pid, "department.update", d)
    return 200, d
  end)
  r:add("DELETE", "/:pid/departments/:id", { role = "admin" }, function(ctx)
    local d = find(ctx)
    if not d then return E.not_found() end
    depts:remove(d._id)
    events.emit(ctx.pid, "department.delete", d)
    return 200, d
  end)

  -- groups
  local groups = store.coll("groups")
  local g_opts = { role = "agent", types = { "bot", "subscription" } }
  local function gfind(ctx)
    local g = groups:get(ctx.params.id)
    if not g or g.id_project ~= ctx.pid then return nil end
    return g
  end
  local function in_use(g)
    return depts:find_one(function(d) return d.id_group == g._id end) ~= nil
  end
  r:add("GET", "/:pid/groups", g_opts, function(ctx)
    local member = util.str(ctx.query.member)
    return 200, groups:find(function(g)
      return g.id_project == ctx.pid and not g.trashed and (not member or util.contains(g.members, member))
    end)
  end)
  r:add("GET", "/:pid/groups/:id", g_opts, function(ctx)
    local g = gfind(ctx)
    if not g then return E.not_found() end
    return 200, g
  end)
  r:add("POST", "/:pid/groups", g_opts, function(ctx)
    local b = ctx.body or {}
    if type(b.name) ~= "string" or b.name == "" then return 422, { errors = util.arr{ util.invalid("name", b.name) } } end
    local g = groups:insert{ name = b.name, members = util.arr(util.shallow(b.members or {})), enabled = true,
      trashed = false, attributes = b.attributes, id_project = ctx.pid, createdBy = ctx.principal.id }
    events.emit(ctx.pid, "group.create", g)
    return 200, g
  end)
  r:add("PUT", "/:pid/groups/:id", g_opts, function(ctx)
    local g = gfind(ctx)
    if not g then return E.not_found() end
    local b = ctx.body or {}
    if b.name ~= nil then g.name = b.name end
    if b.members ~= nil then g.members = util.arr(util.shallow(b.members)) end
    if b.trashed ~= nil then g.trashed = b.trashed end
    if b.attributes ~= nil then g.attributes = b.attributes end
    groups:touch(g)
    events.emit(ctx.pid, "group.update", g)
    return 200, g
  end)
  r:add("PUT", "/:pid/groups/enable/:id", g_opts, function(ctx)
    local g = gfind(ctx)
    if not g then return E.not_found() end
    groups:update(g._id, { enabled = true })
    return 200, g
  end)
  r:add("PUT", "/:pid/groups/disable/:id", g_opts, function(ctx)
    local g = gfind(ctx)
    if not g then return E.not_found() end
    if in_use(g) then return 403, { success = false, error = "The group is used by a department" } end
    groups:update(g._id, { enabled = false })
    return 200, g
  end)
  r:add("DELETE", "/:pid/groups/:id", g_opts, function(ctx)
    local g = gfind(ctx)
    if not g then return E.not_found() end
    if in_use(g) then return 403, { success = false, error = "The group is used by a department" } end
    events.emit(ctx.pid, "group.delete", g)
    if util.bool(ctx.query.force) then
      groups:remove(g._id)
      return 200, g
    end
    groups:update(g._id, { trashed = true, enabled = false })
    return 200, { success = true, message = "Group successfully deleted" }
  end)
end
