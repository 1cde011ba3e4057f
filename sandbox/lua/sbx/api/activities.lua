-- /:pid/activities: the project's activity log (pubmodules/activities/routes/activity.js), as
-- sbx.archiver writes it.
local store = require("sbx.store")
local util = require("sbx.util")
local dates = require("sbx.dates")
local csvx = require("sbx.csvx")
local text = require("sbx.activity_text")
local archiver = require("sbx.archiver")

local api = {}

local acts = store.coll("activities")

-- String(v) of a query value (a repeated key is an array: its items joined with ",")
local function qstr(v)
  if type(v) == "table" then return table.concat(v, ",") end
  return v
end

-- parseInt(v, 10): the leading (signed) digits after blanks; nil for NaN
local function parse_int(v)
  v = qstr(v)
  if type(v) ~= "string" then return nil end
  local n = v:match("^%s*([+-]?%d+)")
  return n and tonumber(n) or nil
end

-- the value at a dotted path of a document (a sort key as MongoDB reads it)
local function at_path(doc, path)
  local v = doc
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

-- sort by a field (dotted paths too) in direction 1 or -1; top: as util.sort's
local function sorted(list, field, direction, top)
  if not field:find(".", 1, true) then return util.sort(list, field, direction, top) end
  local keyed = {}
  for i, a in ipairs(list) do keyed[i] = { _id = a._id, key = at_path(a, field), doc = a } end
  util.sort(keyed, "key", direction)
  local out = util.arr()
  for i, k in ipairs(keyed) do out[i] = k.doc end
  return out
end

-- The ObjectId the CSV route makes of agent_id (bson's ObjectID: 24 hex digits, or any 12
-- bytes), as the hex text the store keeps ids in; nil when it throws.
local function object_id(v)
  if type(v) ~= "string" then return nil end
  if #v == 24 and v:match("^%x+$") then return v:lower() end
  if #v == 12 then return (v:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
  return nil
end

-- The routes' query: the project; verbs (activities, comma-separated); agent_id (the list's
-- $or: the user among involvedUserIds, the target's member _id, or the actor: the member's _id
-- is an ObjectId in a stored target, which the list's string never equals and the CSV's
-- ObjectId does); dates (sbx.dates.activities_range: DD/MM/YYYY in UTC, no timezone). nil when
-- a date cannot be read.
local function act_filter(ctx, csv)
  local q = ctx.query
  local verbs
  if csvx.truthy(q.activities) then
    verbs = {}
    for _, v in ipairs(util.split(qstr(q.activities))) do verbs[v] = true end
  end
  local agent = csvx.truthy(q.agent_id) and qstr(q.agent_id) or nil
  local agent_oid = csv and agent and object_id(agent)
  if csv and agent and not agent_oid then error("activities csv: agent_id is no ObjectId", 0) end
  local range = dates.activities_range(q.start_date, q.end_date, csv, store.now_ms())
  if not range then return nil end
  return acts:find(function(a)
    if a.id_project ~= ctx.pid then return false end
    if verbs and not verbs[a.verb] then return false end
    if agent then
      local member = type(a.target) == "table" and type(a.target.object) == "table" and a.target.object.id_user
      local member_id = type(member) == "table" and member._id or nil
      if not util.contains(a.involvedUserIds, agent) and (a.actor or {}).id ~= agent
        and not (agent_oid and member_id == agent_oid) then
        return false
      end
    end
    if not dates.inside(range, store.ms_of(a.createdAt) or 0) then return false end
    return true
  end)
end

-- resolveActivityQueryLimit: limit a positive integer (else 40), at most 100; in the chart view
-- (chart 'true' or '1') at most 1000, with a warning past it.
local DEFAULT_LIMIT, LIST_MAX, CHART_MAX = 40, 100, 1000
local function limit_config(q)
  local requested = parse_int(q.limit)
  if not requested or requested <= 0 then requested = DEFAULT_LIMIT end
  local chart = q.chart == "true" or q.chart == "1"
  if not chart then return math.min(requested, LIST_MAX), false end
  if requested > CHART_MAX then
    return CHART_MAX, true, "Limit exceeded the maximum allowed value of 1000. Only the first 1000 matching "
      .. "activities are returned."
  end
  return requested, true
end

-- GET /: { perPage, count, activities, chart?, limitWarning? }, sorted by sort (createdAt) in
-- direction (parseInt, -1 when it is no number or 0; mquery refuses any other than 1 and -1),
-- page from 0 (a negative one is a negative skip MongoDB refuses), each item with the
-- message activityMessageUtil gives it (enrichActivityWithMessage: none when there is no text).
-- A query MongoDB refuses answers 500.
local FAILED = { success = false, msg = "Error getting activities." }
function api.list(ctx)
  local q = ctx.query
  local limit, chart, warning = limit_config(q)
  local page = parse_int(q.page) or 0
  local direction = parse_int(q.direction) or 0
  if direction == 0 then direction = -1 end
  local list = act_filter(ctx, false)
  if not list or page < 0 or (direction ~= 1 and direction ~= -1) then return 500, FAILED end
  local field = csvx.truthy(q.sort) and qstr(q.sort) or "createdAt"
  list = sorted(list, field, direction, (page + 1) * limit)
  local out = util.arr()
  for i, a in ipairs(util.paginate(list, page, limit)) do
    local message = text.default(a)
    if message then
      a = util.shallow(a, 1)
      a.message = message
    end
    out[i] = a
  end
  local body = { perPage = limit, count = #list, activities = out }
  if chart then body.chart = true end
  if warning then body.limitWarning = warning end
  return 200, body
end

-- The CSV export: pubmodules/activities/routes/activity.js GET /csv, res.csv(buildCsv(activities,
-- lang), true) through csv-express with the `;` separator (sbx.csvx). buildCsv makes one object
-- per activity with the fields below, in this order; its JavaScript is followed as written:
-- `a && a.b` guards, '' for some absent values and undefined for others (an empty quoted
-- field "" against an empty one), and strings joined with `+` (undefined -> "undefined").
local CSV_KEYS = { "message", "activity_id", "createdAt", "updatedAt", "project_id", "actor_name", "actor_id",
  "actor_type", "verb", "target_user_fullname", "target_email", "target_type", "target_user_id", "actionObj_email",
  "actionObj_id_project", "actionObj_project_name", "actionObj_role", "actionObj_user_available", "target_id",
  "target_createdAt", "target_createdBy", "target_role", "target_user_available" }
-- Dates on the server (the activity's timestamps, and the target's createdAt: the target object
-- is stored from a mongoose document, its dates as dates)
local CSV_DATES = { createdAt = true, updatedAt = true, target_createdAt = true }
local CSV_ACT_DATES = { createdAt = true, updatedAt = true }

local truthy = csvx.truthy

local prop = text.prop

local function csv_row(a, lang)
  local act, target = a.actionObj, a.target
  local obj = truthy(target) and prop(target, "object") or nil
  local user = truthy(obj) and prop(obj, "id_user") or nil
  local function from_act(k)
    local v = truthy(act) and prop(act, k)
    if truthy(v) then return v end
    return ""
  end
  local v = {
    message = text.csv(a, lang),
    activity_id = a._id, createdAt = a.createdAt, updatedAt = a.updatedAt, project_id = a.id_project,
    actor_name = prop(a.actor, "name"), actor_id = prop(a.actor, "id"), actor_type = prop(a.actor, "type"),
    verb = a.verb,
    target_user_fullname = truthy(user) and (text.js_cat(prop(user, "firstname")) .. " "
      .. text.js_cat(prop(user, "lastname")))
      or "",
    target_email = truthy(obj) and truthy(prop(obj, "email")) and obj.email or "",
    target_user_id = "",
    actionObj_email = from_act("email"), actionObj_id_project = from_act("id_project"),
    actionObj_project_name = from_act("project_name"), actionObj_role = from_act("role"),
    actionObj_user_available = from_act("user_available"),
  }
  if truthy(user) then v.target_user_id = prop(user, "_id") end
  if truthy(target) then
    v.target_id, v.target_type = prop(target, "id"), prop(target, "type")
  end
  if truthy(obj) then
    v.target_createdAt, v.target_createdBy = obj.createdAt, obj.createdBy
    v.target_role, v.target_user_available = obj.role, obj.user_available
  end
  -- a target that came as JSON (a forked bot) holds its dates as strings
  return { keys = CSV_KEYS, values = v, dates = archiver.target_dates_are_strings(a) and CSV_ACT_DATES or CSV_DATES }
end

-- The CSV's sort: direction as the query gives it, read by mquery ('asc', 'ascending', 1 up;
-- 'desc', 'descending', -1 down, in any case; -1 when absent); anything else throws. nil then.
local function csv_direction(v)
  if not truthy(v) then return -1 end
  local val = tostring(qstr(v)):lower()
  if val == "asc" or val == "ascending" or val == "1" then return 1 end
  if val == "desc" or val == "descending" or val == "-1" then return -1 end
  return nil
end

function api.csv(ctx)
  local q = ctx.query
  local direction = csv_direction(q.direction)
  -- the server's handler throws on a sort it cannot read and on an unreadable date
  -- (toISOString of an invalid Date)
  if not direction then error("activities csv: invalid sort value", 0) end
  local list = act_filter(ctx, true)
  if not list then error("activities csv: unreadable date", 0) end
  list = sorted(list, truthy(q.sort) and qstr(q.sort) or "createdAt", direction)
  local lang = q.lang
  return 200, csvx.body_of(util.csv_page(list, q), function(a) return csv_row(a, lang) end),
    "text/csv; charset=utf-8"
end

api.routes = {
  { "GET", "/:pid/activities", "list", { role = "admin" } },
  { "GET", "/:pid/activities/csv", "csv", { role = "admin" } },
}

return api
