-- /:pid/departments (the server's routes/department.js).
local store = require("sbx.store")
local util = require("sbx.util")
local events = require("sbx.events")
local or_404 = require("sbx.crud").or_404

local FIELDS = { "name", "routing", "description", "default", "status", "id_group", "groups", "id_bot", "bot_only",
  "online_msg", "offline_msg", "tags" }

-- GET /:pid/departments/default (and its operators) reads the default department; elsewhere
-- "default" is no ObjectId and fails the cast like any other malformed id.
local function is_default(id) return id == "default" end

local api = {}

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
function api.list(ctx)
  return 200, sorted(depts:find(function(d) return d.id_project == ctx.pid and d.status == 1 end), ctx.query)
end

function api.list_all_status(ctx)
  return 200, sorted(depts:find(function(d) return d.id_project == ctx.pid and (d.status or 1) >= 0 end), ctx.query)
end

api.get = or_404(find, function(_, d)
  return 200, d
end)

-- Simplified: the server runs its routing (round robin, max chats, groups, operator.select
-- hooks); the sandbox picks the department's bot, else the first available agent.
api.operators = or_404(find, function(ctx, d)
  local available = util.arr()
  for _, pu in ipairs(store.coll("project_users"):all()) do
    if pu.id_project == ctx.pid and pu.id_user and pu.user_available and pu.status == "active"
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

function api.create(ctx)
  local b = ctx.body or {}
  if type(b.name) ~= "string" or b.name == "" then return 422, { errors = util.arr{ util.invalid("name", b.name) } } end
  local d = { id_project = ctx.pid, createdBy = ctx.principal.id, routing = "pooled", status = 1, default = false }
  for _, k in ipairs(FIELDS) do if b[k] ~= nil then d[k] = b[k] end end
  depts:insert(d)
  events.emit(ctx.pid, "department.create", d)
  return 200, d
end

api.update = or_404(find, function(ctx, d)
  local b = ctx.body or {}
  for _, k in ipairs(FIELDS) do if b[k] ~= nil then d[k] = b[k] end end
  -- the server overwrites these two with whatever came, nothing included
  d.id_bot = b.id_bot
  d.id_group = b.id_group
  depts:touch(d)
  events.emit(ctx.pid, "department.update", d)
  return 200, d
end)

api.patch = or_404(find, function(ctx, d)
  for _, k in ipairs(FIELDS) do
    local v = (ctx.body or {})[k]
    if v ~= nil then d[k] = v ~= util.null and v or nil end
  end
  depts:touch(d)
  events.emit(ctx.pid, "department.update", d)
  return 200, d
end)

api.delete = or_404(find, function(ctx, d)
  depts:remove(d._id)
  events.emit(ctx.pid, "department.delete", d)
  return 200, d
end)

api.routes = {
  { "GET", "/:pid/departments", "list", { auth = false } },
  { "GET", "/:pid/departments/allstatus", "list_all_status", { role = "agent", types = { "bot", "subscription" } } },
  { "GET", "/:pid/departments/:id", "get", { auth = false, oid_except = is_default } },
  { "GET", "/:pid/departments/:id/operators", "operators", { role = "agent", types = { "bot", "subscription" }, oid_except = is_default } },
  { "POST", "/:pid/departments", "create", { role = "admin" } },
  { "PUT", "/:pid/departments/:id", "update", { role = "admin" } },
  { "PATCH", "/:pid/departments/:id", "patch", { role = "admin" } },
  { "DELETE", "/:pid/departments/:id", "delete", { role = "admin" } },
}

return api
