-- /:pid/departments (the server's routes/department.js, models/department.js,
-- services/departmentService.js). The routes find a department by its id alone (findById,
-- findByIdAndUpdate with upsert, findOneAndRemove): any project's, as the server does.
local store = require("sbx.store")
local util = require("sbx.util")
local events = require("sbx.events")
local view = require("sbx.view")
local cast = require("sbx.cast")
local E = require("sbx.errors")

local api = {}

local depts = store.coll("departments")
local null = util.null

-- GET /:pid/departments/default (and its operators) reads the default department; elsewhere
-- "default" is no ObjectId and fails the cast like any other malformed id.
local function is_default(id) return id == "default" end

-- `if (req.query.x)` as Express's query parser gives x: a non-empty string or a list is true
-- (nginx reads a bare `?x` as true where qs reads "")
local query_truthy = util.query_true

-- JavaScript's truthiness of a body value
local js_truthy = util.truthy

-- The schema's type of each field a route writes
local TYPES = { id_bot = cast.string, bot_only = cast.boolean, routing = cast.string, name = cast.string,
  description = cast.string, id_group = cast.string, online_msg = cast.string, status = cast.number,
  default = cast.boolean }

-- groups: [GroupMemberSchema], subdocuments { _id, group_id: String required, percentage:
-- Number required } (other keys dropped; a value that is no array is the array of it). The
-- required fields are checked by a save only, not by an update query.
local function cast_groups(v, validate)
  if v == nil or v == null then return true, v end
  local list = cast.is_array(v) and v or { v }
  local out = util.arr()
  for i, x in ipairs(list) do
    if type(x) ~= "table" or cast.is_array(x) then return false end
    local ok_g, gid = cast.string(x.group_id)
    local ok_p, pct = cast.number(x.percentage)
    if not ok_g or not ok_p then return false end
    if validate and (type(gid) ~= "string" or gid == "" or type(pct) ~= "number") then return false end
    local id = x._id
    if id == nil or id == null then id = store.id() elseif not util.is_oid(id) then return false end
    out[i] = { _id = id, group_id = gid, percentage = pct }
  end
  return true, out
end

-- The fields of `values` cast as the schema casts them; nil when one fails.
local function cast_all(values, validate)
  local out = {}
  for k, v in pairs(values) do
    local ok, c
    if k == "groups" then ok, c = cast_groups(v, validate) else ok, c = TYPES[k](v) end
    if not ok then return nil end
    out[k] = c
  end
  return out
end

local function by_id(id)
  return depts:get(id)
end

local function default_of(pid)
  return depts:find_one(function(x) return x.id_project == pid and x.default == true end)
end

local function sorted(list, q)
  -- sort({ name: 'asc' }) when the query names sort at all
  if query_truthy(q.sort) then
    table.sort(list, function(a, b)
      local x, y = a.name, b.name
      if type(x) ~= "string" or type(y) ~= "string" then return type(x) ~= "string" and type(y) == "string" end
      return x < y
    end)
  end
  local out = util.arr()
  for i, d in ipairs(list) do out[i] = view.department(d) end
  return out
end

-- GET /: { id_project, status: 1 }, without authentication (the widget's list)
function api.list(ctx)
  return 200, sorted(depts:find(function(d) return d.id_project == ctx.pid and d.status == 1 end), ctx.query)
end

-- GET /allstatus: { id_project, status: { $gte: 0 } } (status -1 is hidden from the dashboard)
function api.list_all_status(ctx)
  return 200, sorted(depts:find(function(d)
    local s = d.status
    if s == nil then s = 1 end -- the stored document has the default
    return d.id_project == ctx.pid and type(s) == "number" and s >= 0
  end), ctx.query)
end

-- GET /:id: findById (any project's department), 404 when none; "default" is the project's
-- default department, res.json(null) when it has none.
function api.get(ctx)
  local id = ctx.params.id
  if id == "default" then
    local d = default_of(ctx.pid)
    return 200, d and view.department(d) or null
  end
  local d = by_id(id)
  if not d then return E.not_found() end
  return 200, view.department(d)
end

-- GET /:id/operators: departmentService.getOperators. The members are the project's agents
-- (roleType 1) with status "active" (only the group's members when the department has a group
-- that is enabled), the available ones those with user_available while the project is open.
-- A bot department (unless nobot) answers the bot; otherwise "assigned" picks an available
-- agent, "pooled" none, and no member at all answers three empty lists. Simplified: the
-- server picks at random, then round robin and the operator.select resthook may change the
-- pick; the sandbox picks the first available agent.
local function members_of(pid, group)
  local out = {}
  for _, pu in ipairs(store.coll("project_users"):all()) do
    if pu.id_project == pid and pu.roleType == 1 and pu.status == "active"
      and (not group or util.contains(group.members, pu.id_user)) then
      out[#out + 1] = pu
    end
  end
  return out
end

local function pu_list(list)
  local out = util.arr()
  for i, pu in ipairs(list) do out[i] = view.pu_doc(pu) end
  return out
end

function api.operators(ctx)
  local id = ctx.params.id
  local d = id == "default" and default_of(ctx.pid) or (id ~= "default" and by_id(id)) or nil
  -- the service rejects and the route's await throws: the server never answers (README)
  if not d then return E.not_found() end
  local project = store.coll("projects"):get(ctx.pid)
  local _, open = require("sbx.api.projects").is_open({ params = { pid = ctx.pid } })
  local function available(list)
    local out = {}
    if open and open.isopen then
      for _, pu in ipairs(list) do
        if pu.user_available == true then out[#out + 1] = pu end
      end
    end
    return out
  end
  -- `if (nobot)`: any non-empty value skips the bot, "false" too
  local nobot = query_truthy(ctx.query.nobot)
  if d.id_bot ~= nil and d.id_bot ~= null and not nobot then
    local agents = members_of(ctx.pid)
    return 200, { department = view.department(d), available_agents = pu_list(available(agents)),
      agents = pu_list(agents), id_bot = d.id_bot, project = view.project(project),
      operators = util.arr{ { id_user = "bot_" .. d.id_bot } } }
  end
  local group
  if d.id_group ~= nil and d.id_group ~= null then
    -- Group.find({ _id, enabled true or absent }); an empty result makes the server throw
    -- (group[0].members) and never answer (README): the sandbox answers as for no members
    local g = store.coll("groups"):get(d.id_group)
    if g and g.enabled == false then g = nil end
    group = g or { members = {} }
  end
  local agents = members_of(ctx.pid, group)
  if #agents == 0 then
    return 200, { available_agents = util.arr(), agents = util.arr(), operators = util.arr() }
  end
  local avail = available(agents)
  local operators = util.arr()
  if d.routing == "assigned" and #avail > 0 then operators[1] = { id_user = avail[1].id_user } end
  local out = { available_agents = pu_list(avail), agents = pu_list(agents), operators = operators,
    department = view.department(d), id_project = ctx.pid, project = view.project(project) }
  if group then out.group = util.arr{ view.group(group) } end
  return 200, out
end

-- POST /: a new Department of the route's fields (id_bot and bot_only only when id_bot is
-- truthy); a failed cast or validation (name required) is its 500 'Error saving object.'
function api.create(ctx)
  local b = ctx.body or {}
  local fields = { routing = b.routing, name = b.name, description = b.description, default = b.default,
    status = b.status, id_group = b.id_group, groups = b.groups }
  if js_truthy(b.id_bot) then fields.id_bot, fields.bot_only = b.id_bot, b.bot_only end
  local c = cast_all(fields, true)
  if not c or type(c.name) ~= "string" or c.name == "" then return E.server("Error saving object.") end
  local d = { id_project = ctx.pid, createdBy = ctx.principal.id, routing = "pooled", default = false, status = 1,
    groups = util.arr(), tags = util.arr() }
  for k, v in pairs(c) do d[k] = v end
  depts:insert(d)
  local out = view.department(d)
  events.emit(d.id_project, "department.create", out)
  return 200, out
end

-- PUT and PATCH: findByIdAndUpdate(id, update, { new: true, upsert: true }): an unknown id is
-- made a document of the update's fields alone (no project, no createdBy: validators do not
-- run on an update); department.update goes to the department's own project.
local function write(ctx, update, fail)
  local id = ctx.params.id
  if not util.is_oid(id) then return E.server(fail) end
  local c = cast_all(update, false)
  if not c then return E.server(fail) end
  local d = depts:upsert(id, c)
  local out = view.department(d)
  events.emit(d.id_project, "department.update", out)
  return 200, out
end

local given = util.given
-- the fields of b among `fields` that are given
local function given_fields(b, fields)
  local update = {}
  for _, k in ipairs(fields) do
    if given(b[k]) then update[k] = b[k] end
  end
  return update
end

-- PUT: id_bot and id_group are written whatever came (undefined is stored as null); bot_only,
-- routing, name, description, online_msg, status and groups when given
local PUT_FIELDS = { "bot_only", "routing", "name", "description", "online_msg", "status", "groups" }
function api.update(ctx)
  local b = ctx.body or {}
  local update = given_fields(b, PUT_FIELDS)
  update.id_bot = b.id_bot == nil and null or b.id_bot
  update.id_group = b.id_group == nil and null or b.id_group
  return write(ctx, update, "Error updating object.")
end

-- PATCH: only these, when given
local PATCH_FIELDS = { "status", "id_bot", "bot_only", "routing", "name", "description", "id_group", "groups" }
function api.patch(ctx)
  return write(ctx, given_fields(ctx.body or {}, PATCH_FIELDS), "Error patching object.")
end

-- DELETE: findOneAndRemove({ _id }): the removed department, or res.json(null) for an unknown
-- id (department.delete then carries null, which no subscription can be found for)
function api.delete(ctx)
  local d = by_id(ctx.params.id)
  if not d then return 200, null end
  depts:remove(d._id)
  local out = view.department(d)
  events.emit(d.id_project, "department.delete", out)
  return 200, out
end

local agent_or_hooks = { role = "agent", types = { "bot", "subscription" } }
api.routes = {
  { "GET", "/:pid/departments", "list", { auth = false } },
  { "GET", "/:pid/departments/allstatus", "list_all_status", agent_or_hooks },
  { "GET", "/:pid/departments/:id", "get", { auth = false, oid_except = is_default } },
  { "GET", "/:pid/departments/:id/operators", "operators",
    { role = "agent", types = { "bot", "subscription" }, oid_except = is_default } },
  { "POST", "/:pid/departments", "create", { role = "admin" } },
  { "PUT", "/:pid/departments/:id", "update", { role = "admin" } },
  { "PATCH", "/:pid/departments/:id", "patch", { role = "admin", oid = false } },
  { "DELETE", "/:pid/departments/:id", "delete", { role = "admin" } },
}

return api
