-- /:pid/leads (the server's routes/lead.js).
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")
local csvx = require("sbx.csvx")
local text = require("sbx.text")
local E = require("sbx.errors")
local events = require("sbx.events")

local UPDATABLE = { "fullname", "email", "attributes", "status", "phone", "company", "note", "streetAddress", "city",
  "region", "zipcode", "country" }
local STRING_PATHS = { fullname = true, email = true, phone = true, company = true, note = true, streetAddress = true,
  city = true, region = true, zipcode = true, country = true }

-- mongoose 5's String cast (SchemaString): strings as they are, numbers and booleans as
-- JavaScript writes them, null kept; arrays and objects fail (nil, "cast").
local function cast_string(v)
  local t = type(v)
  if t == "string" or v == util.null then return v end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    return tostring(v)
  end
  return nil, "cast"
end

-- mongoose 5's Number cast (SchemaNumber): numbers, numeric strings and booleans; "" is null.
local function cast_number(v)
  local t = type(v)
  if t == "number" or v == util.null then return v end
  if v == "" then return util.null end
  if t == "boolean" then return v and 1 or 0 end
  if t == "string" then
    local s = v:match("^%s*(.-)%s*$")
    local n = s == "" and 0 or tonumber(s)
    if n and not s:match("^0[xX]") then return n end
  end
  return nil, "cast"
end

-- [String] (tags): a value that is not an array is one element; each element cast as a String.
local function cast_tags(v)
  local list = (type(v) == "table" and getmetatable(v) == util.json.array_mt) and v or { v }
  local out = util.arr()
  for i, x in ipairs(list) do
    local s = cast_string(x)
    if s == nil or s == util.null then return nil, "cast" end
    out[i] = s
  end
  return out
end

-- JavaScript's truthiness of a decoded JSON value, and of a query parameter (a string, or a
-- table when given twice; a parameter without "=" is true here and "" there)
local js_truthy = util.truthy
local q_truthy = util.query_true

---------------------------------------------------------------------------------------------
-- The list's MongoDB query, condition by condition (field -> predicate of the field's value).

local function field_of(doc, path)
  local v = doc
  for part in tostring(path):gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local function is_array(v)
  return type(v) == "table" and (getmetatable(v) == util.json.array_mt or (#v > 0 and next(v, #v) == nil))
end

-- BSON equality of two decoded JSON values (numbers by value, strings byte by byte, documents
-- and arrays field by field)
local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or is_array(a) ~= is_array(b) then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- each value a condition looks at: the field's, and an array field's elements too
local function any_value(v, pred)
  if pred(v) then return true end
  if is_array(v) then
    for _, e in ipairs(v) do if pred(e) then return true end end
  end
  return false
end

local function eq(x)
  if x == nil or x == util.null then
    return function(v) return v == nil or any_value(v, function(e) return e == util.null end) end
  end
  return function(v) return v ~= nil and any_value(v, function(e) return same(e, x) end) end
end

local function exists(want)
  return function(v) return (v ~= nil) == want end
end

-- $gt / $gte: only values of the same type bracket compare (numbers, strings)
local function greater(x, or_equal)
  return function(v)
    return v ~= nil and any_value(v, function(e)
      if not ((type(e) == "number" and type(x) == "number") or (type(e) == "string" and type(x) == "string")) then
        return false
      end
      return e > x or (or_equal and e == x)
    end)
  end
end

-- $regex over string values (PCRE, as MongoDB); nil and the error when the pattern is not one
local function regex(x)
  if type(x) ~= "string" then return nil, "$regex has to be a string" end
  local _, err = ngx.re.find("", x, "jo")
  if err then return nil, err end
  return function(v)
    return v ~= nil and any_value(v, function(e) return type(e) == "string" and ngx.re.find(e, x, "jo") ~= nil end)
  end
end

-- A list the server never answers (a throw in the async route, a failing find the route
-- drops): the sandbox answers 500 with the reason (README's difference table).
local function no_answer(why)
  return 500, { success = false, msg = "the server never answers this list: " .. why }
end

-- utils/segment2mongoConverter.js convert: each filter sets its field's condition in the
-- query (a later filter of the same field replaces an earlier one; `match` is not read); the
-- operators '=', '!=', '>', '>=', 'contains' ($regex, case-sensitive), 'is null' ($exists
-- false), 'is not null' ($exists true); 'starts with' calls a method the converter does not
-- have (it throws); any other operator is skipped.
local function segment_conditions(seg, set)
  local filters = type(seg.filters) == "table" and seg.filters or {}
  for _, f in ipairs(filters) do
    if type(f) == "table" then
      local op, field, value = f.operator, tostring(f.field), f.value
      if op == "=" then
        set(field, eq(value))
      elseif op == "!=" then
        local is = eq(value)
        set(field, function(v) return not is(v) end)
      elseif op == ">" or op == ">=" then
        set(field, greater(value, op == ">="))
      elseif op == "contains" then
        local pred, err = regex(value)
        if not pred then return nil, err end
        set(field, pred)
      elseif op == "is null" then
        set(field, exists(false))
      elseif op == "is not null" then
        set(field, exists(true))
      elseif op == "starts with" then
        return nil, "'starts with' calls convertStarsWithOperatorFilter, which does not exist"
      end
    end
  end
  return true
end

-- mquery's sort values: asc/ascending/1 ascending, desc/descending/-1 descending; anything else
-- throws "Invalid sort value" (nil here). No direction: descending (the routes' default).
local function direction_of(q)
  local d = q.direction
  if not q_truthy(d) then return -1 end
  d = tostring(util.str(d)):lower()
  if d == "asc" or d == "ascending" or d == "1" then return 1 end
  if d == "desc" or d == "descending" or d == "-1" then return -1 end
  return nil
end

local function sort_field(q)
  return q_truthy(q.sort) and util.str(q.sort) or "createdAt"
end

local api = {}

local leads = store.coll("leads")
local agent = { role = "agent", types = { "bot", "subscription" } }
-- the routes that look at a malformed :id themselves (their own 500 texts)
local agent_any_id = { role = "agent", types = { "bot", "subscription" }, oid = false }

-- Lead writes: findByIdAndUpdate and a save of Mixed paths move updatedAt, never __v.
local function touched(l)
  local v = l.__v
  leads:touch(l)
  l.__v = v
end

-- The query of routes/lead.js GET /, in the route's order: the segment's conditions, then
-- full_text, email, with_email (replaces email's), with_fullname, tags, id_project and status
-- (100 unless given). Returns the matching leads, or nil, status, body.
local function filtered(ctx)
  local q = ctx.query
  local conds, order = {}, {}
  local function set(field, pred)
    if conds[field] == nil then order[#order + 1] = field end
    conds[field] = pred
  end
  if q_truthy(q.segment) then
    local seg_id = util.str(q.segment)
    -- Segment.findOne awaited without a catch: a malformed id throws
    if not util.is_oid(seg_id) then return nil, no_answer("Cast to ObjectId failed for the segment") end
    local seg = store.coll("segments"):get(seg_id)
    if not seg or seg.id_project ~= ctx.pid then return nil, E.not_found("Error segment not found") end
    local ok, err = segment_conditions(seg, set)
    if not ok then return nil, no_answer(err) end
  end
  local search = q_truthy(q.full_text) and text.compile(util.str(q.full_text)) or nil
  if q_truthy(q.email) then set("email", eq(util.str(q.email))) end
  if q_truthy(q.with_email) then set("email", exists(true)) end
  if q_truthy(q.with_fullname) then set("fullname", exists(true)) end
  if q_truthy(q.tags) then set("tags", eq(util.str(q.tags))) end
  set("id_project", eq(ctx.pid))
  local status = 100
  if q_truthy(q.status) then
    status = cast_number(util.str(q.status))
    if status == nil then return nil, no_answer("Cast to Number failed for value \"" .. util.str(q.status) .. "\" at path \"status\"") end
  end
  set("status", eq(status))
  local dir = direction_of(q)
  if not dir then return nil, no_answer("Invalid sort value: {" .. sort_field(q) .. ": " .. util.str(q.direction) .. " }") end
  local list = leads:find(function(l)
    for i = 1, #order do
      local f = order[i]
      if not conds[f](field_of(l, f)) then return false end
    end
    -- the server's lead text index: fullname and email (models/lead.js)
    if search and not search({ l.fullname or "", l.email or "" }) then return false end
    return true
  end)
  return util.sort(list, sort_field(q), dir)
end

-- parseInt of ?limit= (40 when absent or not a number)
local function limit_of(q)
  if not q_truthy(q.limit) then return 40 end
  local n = tostring(util.str(q.limit)):match("^%s*([+-]?%d+)")
  return n and tonumber(n) or 40
end

function api.list(ctx)
  local q = ctx.query
  local limit = limit_of(q)
  local page = q_truthy(q.page) and tonumber(util.str(q.page)) or 0
  local skip = math.floor(page * limit)
  -- MongoDB refuses a negative skip (the route drops the error)
  if skip < 0 then return no_answer("skip value must be non-negative") end
  local list, status, body = filtered(ctx)
  if not list then return status, body end
  -- limit(0) is no limit; a negative limit is its absolute value (one batch)
  local n = limit == 0 and #list or math.abs(limit)
  local out = util.arr()
  for i = skip + 1, math.min(#list, skip + n) do out[#out + 1] = list[i] end
  return 200, { perPage = limit, count = #list, leads = out }
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
local function csv_filtered(ctx, dir)
  local q = ctx.query
  local search = q_truthy(q.full_text) and text.compile(util.str(q.full_text)) or nil
  local email = q_truthy(q.email) and util.str(q.email) or nil
  local list = leads:find(function(l)
    if l.id_project ~= ctx.pid or type(l.status) ~= "number" or l.status >= 1000 then return false end
    if email and l.email ~= email then return false end
    if search and not search({ l.fullname or "", l.email or "" }) then return false end
    return true
  end)
  return util.sort(list, sort_field(q), dir)
end

function api.csv(ctx)
  -- an invalid direction throws in this synchronous route: Express's error handler answers
  local dir = direction_of(ctx.query)
  if not dir then return 500, { err = "error" } end
  return 200, csvx.body_of(util.csv_page(csv_filtered(ctx, dir), ctx.query), function(l)
    return csvx.row(l, CSV_PATHS, CSV_DATES, CSV_ARRAYS)
  end), "text/csv; charset=utf-8"
end

-- routes/lead.js GET /:leadid: by id alone (findById), 404 Object not found.
api.get = crud.by_id("leads")

-- routes/lead.js POST / (leadService.createWitId): no checks; lead_id (a uuid when falsy),
-- fullname, email and attributes are read, anything else in the body is not; phone is
-- phoneUtil.normalizePhone(undefined), null; createdBy the caller's id ("system" without one).
-- The saved lead goes out as lead.create (services/subscriptionNotifierQueued.js).
function api.create(ctx)
  local b = type(ctx.body) == "table" and ctx.body or {}
  local lead_id = b.lead_id
  if not js_truthy(lead_id) then lead_id = store.uuid() else lead_id = cast_string(lead_id) or lead_id end
  local fullname, email = b.fullname, b.email
  if fullname ~= nil then fullname = cast_string(fullname) or fullname end
  if email ~= nil then email = cast_string(email) or email end
  local created_by = ctx.principal.id
  if not js_truthy(created_by) then created_by = "system" end
  local l = leads:insert{ lead_id = lead_id, fullname = fullname, email = email, phone = util.null,
    attributes = b.attributes, tags = util.arr(), status = 100, id_project = ctx.pid, createdBy = created_by }
  events.emit(ctx.pid, "lead.create", l)
  return 200, l
end

-- services/updateLeadQueued.js (started by jobsManager.listen): on lead.update every
-- conversation of the lead gets the lead as snapshot.lead (Request.updateMany, which moves
-- their updatedAt); on lead.fullname.email.update the lead's latest chat21 conversation gets
-- the info message "Lead updated" from system (messageService.send).
local function lead_updated(l, fullname_or_email)
  if l.id_project == nil then return end
  local latest
  for _, r in ipairs(store.coll("requests"):find(function(r)
    return r.lead == l._id and r.id_project == l.id_project
  end)) do
    r.snapshot = type(r.snapshot) == "table" and r.snapshot or {}
    r.snapshot.lead = util.copy(l)
    r.updatedAt = store.now()
    if type(r.channel) == "table" and r.channel.name == "chat21"
      and (not latest or (r.createdAt or "") >= (latest.createdAt or "")) then
      latest = r
    end
  end
  if fullname_or_email and latest then
    require("sbx.conv").add_message(l.id_project, latest, { sender = "system", senderFullname = "Bot",
      text = "Lead updated", language = latest.language, attributes = { subtype = "info/support",
        updateconversation = false, messagelabel = { key = "LEAD_UPDATED" }, updateUserEmail = l.email,
        updateUserFullname = l.fullname } })
  end
end

-- routes/lead.js PUT /:leadid: the fields that are not undefined or null (tags only when
-- truthy), cast by the schema (a failed cast: 500); findByIdAndUpdate by id alone with
-- upsert (an unknown id is made). lead.update and its kin reach no subscription.
function api.update(ctx)
  local b = type(ctx.body) == "table" and ctx.body or {}
  local set = {}
  for _, k in ipairs(UPDATABLE) do
    local v = b[k]
    if v ~= nil and v ~= util.null then
      if STRING_PATHS[k] then v = cast_string(v) elseif k == "status" then v = cast_number(v) end
      if v == nil then return E.server("Error updating object.") end
      set[k] = v
    end
  end
  if js_truthy(b.tags) then
    set.tags = cast_tags(b.tags)
    if not set.tags then return E.server("Error updating object.") end
  end
  local l = leads:get(ctx.params.id) or leads:insert{ _id = ctx.params.id }
  for k, v in pairs(set) do l[k] = v end
  touched(l)
  local named = (b.fullname ~= nil and b.fullname ~= util.null) or (b.email ~= nil and b.email ~= util.null)
  lead_updated(l, named)
  return 200, l
end

-- routes/lead.js PATCH /:leadid/attributes, POST and PATCH /:leadid/properties: findById (any
-- project), each key of the body set (an array's keys are its indexes), then save(), which
-- validates the whole lead: one made by an upsert (no lead_id, id_project, createdBy) fails.
local function merge(field)
  return function(ctx)
    local id = ctx.params.id
    if not util.is_oid(id) then return E.server("Error updating object.") end
    local l = leads:get(id)
    if not l then return E.not_found() end
    local body = type(ctx.body) == "table" and ctx.body or {}
    if not js_truthy(l[field]) then l[field] = {} end
    local target = l[field]
    local keys = {}
    if is_array(body) then
      for i, v in ipairs(body) do keys[#keys + 1] = { tostring(i - 1), v } end
    else
      for k, v in pairs(body) do keys[#keys + 1] = { k, v } end
    end
    if type(target) == "table" then
      for _, kv in ipairs(keys) do target[kv[1]] = kv[2] end
    end
    if l.lead_id == nil or l.id_project == nil or l.createdBy == nil then
      return E.server("Error getting object.")
    end
    touched(l)
    lead_updated(l, false)
    return 200, l
  end
end
api.set_attributes = merge("attributes")
api.set_properties = merge("properties")

-- routes/lead.js PUT /:leadid/tag: an empty array is a 400 ({message}); findById (any project)
-- with its own 500 and 404 texts; each tag not yet there (strict equality) pushed, the list
-- cast as [String] by findByIdAndUpdate.
function api.add_tags(ctx)
  local id, b = ctx.params.id, ctx.body
  if type(b) == "table" and getmetatable(b) == util.json.array_mt and #b == 0 then
    return 400, { success = false, message = "No tag specified" }
  end
  if not util.is_oid(id) then return 500, { success = false, error = "Error getting lead with id " .. id } end
  local l = leads:get(id)
  if not l then return 404, { success = false, error = "Lead not found with id " .. id } end
  -- tags_list.forEach on a body that is not an array throws in the async route
  if not is_array(b) then return 500, { success = false, msg = "the server never answers: the body is not an array" } end
  local current = util.arr()
  for i, t in ipairs(type(l.tags) == "table" and l.tags or {}) do current[i] = t end
  for _, t in ipairs(b) do
    if not util.contains(current, t) then current[#current + 1] = t end
  end
  local tags = cast_tags(current)
  if not tags then return 500, { success = false, error = "Error updating lead with id " .. id } end
  l.tags = tags
  touched(l)
  lead_updated(l, false)
  return 200, l
end

-- routes/lead.js DELETE /:leadid/tag/:tag: findByIdAndUpdate $pull (any project), no event;
-- a malformed id answers mongoose's CastError as `error`.
function api.remove_tag(ctx)
  local id = ctx.params.id
  if not util.is_oid(id) then
    return 500, { success = false, error = { stringValue = '"' .. id .. '"', kind = "ObjectId", value = id,
      path = "_id", reason = {}, name = "CastError" } }
  end
  local l = leads:get(id)
  if not l then return 404, { success = false, error = "Lead not found with id " .. id } end
  local keep = util.arr()
  for _, t in ipairs(type(l.tags) == "table" and l.tags or {}) do
    if t ~= ctx.params.tag then keep[#keep + 1] = t end
  end
  l.tags = keep
  touched(l)
  return 200, l
end

-- DELETE /:leadid: status 1000 by id alone, an upsert (an unknown id makes { _id, status });
-- lead.delete reaches no subscription
function api.delete(ctx)
  local id = ctx.params.id
  if not util.is_oid(id) then return E.server("Error updating object.") end
  local l = leads:get(id) or leads:insert{ _id = id }
  l.status = 1000
  touched(l)
  return 200, l
end

-- DELETE /:leadid/physical: req.projectuser.role must be owner (403 Unauthorized.); a bot or
-- subscription token has no req.projectuser (has-role.js lets its type through): the route
-- throws, Express's error handler answers. Then by id alone, MongoDB's raw result.
function api.delete_physical(ctx)
  local kind = ctx.principal.kind
  if kind == "bot" or kind == "subscription" then return 500, { err = "error" } end
  if ctx.principal.role ~= "owner" then return E.forbidden() end
  if not util.is_oid(ctx.params.id) then return E.server("Error deleting object.") end
  return crud.remove_by_id("leads", ctx.params.id)
end

api.routes = {
  { "GET", "/:pid/leads", "list", agent },
  { "GET", "/:pid/leads/csv", "csv", agent },
  { "GET", "/:pid/leads/:id", "get", agent },
  { "POST", "/:pid/leads", "create", agent },
  { "PUT", "/:pid/leads/:id", "update", agent },
  { "PATCH", "/:pid/leads/:id/attributes", "set_attributes", agent_any_id },
  { "PATCH", "/:pid/leads/:id/properties", "set_properties", agent_any_id },
  { "POST", "/:pid/leads/:id/properties", "set_properties", agent_any_id },
  { "PUT", "/:pid/leads/:id/tag", "add_tags", agent_any_id },
  { "DELETE", "/:pid/leads/:id/tag/:tag", "remove_tag", agent_any_id },
  { "DELETE", "/:pid/leads/:id", "delete", agent_any_id },
  { "DELETE", "/:pid/leads/:id/physical", "delete_physical", agent_any_id },
}

return api
