-- /:pid/leads (the server's routes/lead.js).
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")
local csvx = require("sbx.csvx")
local text = require("sbx.text")
local E = require("sbx.errors")
local events = require("sbx.events")
local owned = require("sbx.crud").owned
local or_404 = require("sbx.crud").or_404

local UPDATABLE = { "fullname", "email", "attributes", "status", "phone", "company", "note", "streetAddress", "city",
  "region", "zipcode", "country", "tags" }

-- Segments (/:pid/segments) as lead filters: { match = "all"|"any", filters = { {field, operator, value} } }
-- with dotted fields ("attributes.plan") and the operators below.
local function field_of(doc, path)
  local v = doc
  for part in tostring(path):gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local OPS = {
  ["="] = function(v, x) return v ~= nil and tostring(v) == tostring(x) end,
  ["!="] = function(v, x) return v == nil or tostring(v) ~= tostring(x) end,
  [">"] = function(v, x) return tonumber(v) ~= nil and tonumber(x) ~= nil and tonumber(v) > tonumber(x) end,
  ["<"] = function(v, x) return tonumber(v) ~= nil and tonumber(x) ~= nil and tonumber(v) < tonumber(x) end,
  contains = function(v, x)
    if type(v) == "table" then return util.contains(v, x) end
    return v ~= nil and tostring(v):lower():find(tostring(x):lower(), 1, true) ~= nil
  end,
  starts_with = function(v, x) return v ~= nil and tostring(v):sub(1, #tostring(x)) == tostring(x) end,
  exists = function(v) return v ~= nil and v ~= util.null and v ~= "" end,
  not_exists = function(v) return v == nil or v == util.null or v == "" end,
}
OPS.equals, OPS.is, OPS.not_equals, OPS.is_not = OPS["="], OPS["="], OPS["!="], OPS["!="]

local function segment_matcher(seg)
  local filters = type(seg.filters) == "table" and seg.filters or {}
  local any = seg.match == "any"
  return function(l)
    if #filters == 0 then return true end
    for _, f in ipairs(filters) do
      local op = type(f) == "table" and OPS[f.operator] or nil
      local ok = op ~= nil and op(field_of(l, f.field), f.value)
      if any and ok then return true end
      if not any and not ok then return false end
    end
    return not any
  end
end

local api = {}

local leads = store.coll("leads")
local agent = { role = "agent", types = { "bot", "subscription" } }
local function filtered(ctx)
  local q = ctx.query
  local status = util.int(q.status, 100)
  local search = q.full_text and q.full_text ~= "" and text.compile(util.str(q.full_text)) or nil
  local email = util.str(q.email)
  local tag = util.str(q.tags)
  local with_email = util.bool(q.with_email)
  local with_fullname = util.bool(q.with_fullname)
  local in_segment
  local seg_id = util.str(q.segment)
  if seg_id then
    local seg = store.coll("segments"):get(seg_id)
    if not seg or seg.id_project ~= ctx.pid then return nil end
    in_segment = segment_matcher(seg)
  end
  local list = leads:find(function(l)
    if in_segment and not in_segment(l) then return false end
    if l.id_project ~= ctx.pid or l.status ~= status then return false end
    if email and l.email ~= email then return false end
    if with_email and not l.email then return false end
    if with_fullname and not l.fullname then return false end
    if tag and not util.contains(l.tags, tag) then return false end
    -- the server's lead text index: fullname and email (models/lead.js)
    if search and not search({ l.fullname or "", l.email or "" }) then return false end
    return true
  end)
  return util.sort_query(list, q)
end
function api.list(ctx)
  local q = ctx.query
  local limit, page = util.limit_page(q, 40)
  local list = filtered(ctx)
  if not list then return E.not_found("Error segment not found") end -- routes/lead.js GET / with an unknown segment
  return 200, { perPage = limit, count = #list, leads = util.paginate(list, page, limit) }
end

-- GET /csv (routes/lead.js): Lead.find(query, '-attributes -__v'), lean, res.csv(leads, true)
-- (csv-express, see sbx.csvx); the columns follow the model's schema order (the server's follow
-- each stored document's own field order).
local CSV_PATHS = { "_id", "lead_id", "fullname", "email", "phone", "company", "note", "streetAddress", "city",
  "region", "zipcode", "country", "tags", "id_project", "createdBy", "status", "properties", "createdAt", "updatedAt" }
local CSV_DATES = { createdAt = true, updatedAt = true }
local CSV_ARRAYS = { tags = true }

-- The export's own query: status below DELETED (temporary leads too), full_text and email only
-- (GET /'s status, tags, segment, with_email and with_fullname are not read), sorted by field.
local function csv_filtered(ctx)
  local q = ctx.query
  local search = q.full_text and q.full_text ~= "" and text.compile(util.str(q.full_text)) or nil
  local email = util.str(q.email)
  local list = leads:find(function(l)
    if l.id_project ~= ctx.pid or type(l.status) ~= "number" or l.status >= 1000 then return false end
    if email and l.email ~= email then return false end
    if search and not search({ l.fullname or "", l.email or "" }) then return false end
    return true
  end)
  return util.sort_query(list, q)
end

function api.csv(ctx)
  return 200, csvx.body_of(util.csv_page(csv_filtered(ctx), ctx.query), function(l)
    return csvx.row(l, CSV_PATHS, CSV_DATES, CSV_ARRAYS)
  end), "text/csv; charset=utf-8"
end

-- routes/lead.js GET /:leadid: by id alone (findById), 404 Object not found.
api.get = crud.by_id("leads")

-- routes/lead.js POST / (leadService.createWitId): no checks; lead_id, fullname, email and
-- attributes are read, anything else in the body is not
function api.create(ctx)
  local b = ctx.body or {}
  local lead_id = b.lead_id
  if lead_id == nil or lead_id == "" or lead_id == util.null then lead_id = store.uuid() end
  local l = leads:insert{ lead_id = lead_id, fullname = b.fullname, email = b.email, attributes = b.attributes,
    tags = util.arr(), status = 100, id_project = ctx.pid, createdBy = ctx.principal.id }
  events.emit(ctx.pid, "lead.create", l)
  return 200, l
end

api.update = or_404("leads", function(ctx, l)
  local b = ctx.body or {}
  local set = {}
  for _, k in ipairs(UPDATABLE) do if b[k] ~= nil then set[k] = b[k] end end
  leads:update(l._id, set)
  events.emit(ctx.pid, "lead.update", l)
  return 200, l
end)

local function merge(field)
  return function(ctx)
    local l = owned("leads", ctx)
    if not l then return E.not_found() end
    if type(ctx.body) ~= "table" then return 400, { success = false, error = "an object is required" } end
    l[field] = l[field] or {}
    for k, v in pairs(ctx.body) do l[field][k] = v end
    leads:touch(l)
    return 200, l
  end
end
api.set_attributes = merge("attributes")
api.set_properties = merge("properties")
api.add_tags = or_404("leads", function(ctx, l)
  local b = ctx.body
  if type(b) ~= "table" or #b == 0 then return 400, { success = false, error = "No tag specified" } end
  l.tags = l.tags or util.arr()
  for _, t in ipairs(b) do
    if type(t) == "string" and not util.contains(l.tags, t) then l.tags[#l.tags + 1] = t end
  end
  leads:touch(l)
  return 200, l
end)

api.remove_tag = or_404("leads", function(ctx, l)
  local keep = util.arr()
  for _, t in ipairs(l.tags or {}) do if t ~= ctx.params.tag then keep[#keep + 1] = t end end
  l.tags = keep
  leads:touch(l)
  return 200, l
end)

-- DELETE /:leadid: status 1000 by id alone, an upsert (an unknown id makes { _id, status })
function api.delete(ctx)
  local l = leads:get(ctx.params.id) or leads:insert{ _id = ctx.params.id }
  leads:update(l._id, { status = 1000 })
  events.emit(l.id_project or ctx.pid, "lead.delete", l)
  return 200, l
end

-- DELETE /:leadid/physical: owners only (403 Unauthorized.), by id alone, MongoDB's raw result
function api.delete_physical(ctx)
  if ctx.principal.role ~= "owner" then return E.forbidden() end
  return crud.remove_by_id("leads", ctx.params.id)
end

api.routes = {
  { "GET", "/:pid/leads", "list", agent },
  { "GET", "/:pid/leads/csv", "csv", agent },
  { "GET", "/:pid/leads/:id", "get", agent },
  { "POST", "/:pid/leads", "create", agent },
  { "PUT", "/:pid/leads/:id", "update", agent },
  { "PATCH", "/:pid/leads/:id/attributes", "set_attributes", agent },
  { "PATCH", "/:pid/leads/:id/properties", "set_properties", agent },
  { "POST", "/:pid/leads/:id/properties", "set_properties", agent },
  { "PUT", "/:pid/leads/:id/tag", "add_tags", agent },
  { "DELETE", "/:pid/leads/:id/tag/:tag", "remove_tag", agent },
  { "DELETE", "/:pid/leads/:id", "delete", agent },
  { "DELETE", "/:pid/leads/:id/physical", "delete_physical", { role = "agent" } },
}

return api
