-- Builds client.<resource> objects from the route table (tiledesk.routes) plus the named
-- actions each resources/<name>.lua adds in code.
--
-- A generated method takes, in order: one argument per {} of the path (params), one per
-- entry of `fields` (sent in the body, or in the query for GET/DELETE), then one optional
-- table: the body for `body = "object"|"required"|"array"` and for writes that have fields
-- (merged with them), else the query.
--
-- Nothing of an area is read before its first use: attach() gives a client one small object
-- per area whose metatable turns into the area's methods on the first look-up (the area's
-- module, its routes and their methods are then made once and shared by every client).
-- tiledesk.filters (and tiledesk.time) and tiledesk.pager are read by the first call that needs them.
local url = require("tiledesk.url")
local json = require("tiledesk.json")
local routes = require("tiledesk.routes")
local options = require("tiledesk.options")

local _M = {}

local function argerror(op, n, name, expected, got, level)
  error(string.format("%s: bad argument #%d '%s' (%s expected, got %s)", op, n, name, expected, got), level + 1)
end

local function is_array(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t
end

-- Turns the arguments of a call into a client:call() spec; raises (at `level`) on misuse.
-- (A route without params, fields or `with`, such as a list, makes no table but the spec and
-- its query: this runs once per call.)
local function build(route, client, level, ...)
  local op = route.op
  local args = { n = select("#", ...), ... }
  local i = 0
  local path = route.path
  local params = route.params
  if params then
    local segs = {}
    for k, pname in ipairs(params) do
      i = i + 1
      local v = args[i]
      if v == nil and k == 1 and route.default_project then v = client.project_id end
      local s, why = url.segment(v)
      if not s then
        if v == nil then argerror(op, i, pname, "string", "nil", level) end
        error(string.format("%s: bad argument #%d '%s' (%s)", op, i, pname, why), level)
      end
      segs[k] = s
    end
    local n = 0
    path = path:gsub("{}", function()
      n = n + 1
      return segs[n]
    end)
  end
  local with_query = route.method == "GET" or route.method == "DELETE" or route.method == "HEAD"
  local fields
  if route.fields then
    fields = {}
    for _, fname in ipairs(route.fields) do
      i = i + 1
      local optional = fname:sub(-1) == "?"
      local name = optional and fname:sub(1, -2) or fname
      local v = args[i]
      if v == nil and not optional then argerror(op, i, name, "a value", "nil", level) end
      if type(v) == "function" or type(v) == "userdata" and v ~= json.null then
        argerror(op, i, name, "a string, number, boolean or table", type(v), level)
      end
      fields[name] = v
    end
  end
  i = i + 1
  local extra = args[i]
  if args.n > i then
    error(string.format("%s: too many arguments (%d given, at most %d)", op, args.n, i), level)
  end
  local spec = { method = route.method, path = path, project = route.scope ~= "global", raw = route.raw,
    auth = route.auth, secret = route.secret }
  local b = route.body
  if b == "array" then
    if extra == nil and route.fields == nil then argerror(op, i, "list", "array", "nil", level) end
    if extra ~= nil and not is_array(extra) then argerror(op, i, "list", "array", type(extra), level) end
    spec.body = json.array(extra or {})
  elseif b == "object" or b == "required" then
    if extra == nil and b == "required" and (fields == nil or next(fields) == nil) then
      argerror(op, i, "body", "table", "nil", level)
    end
    if extra ~= nil and type(extra) ~= "table" then argerror(op, i, "body", "table", type(extra), level) end
    local body = {}
    for k, v in pairs(extra or {}) do body[k] = v end
    for k, v in pairs(fields or {}) do body[k] = v end
    for k, v in pairs(route.with or {}) do body[k] = v end
    spec.body = body
  else
    if extra ~= nil and type(extra) ~= "table" then argerror(op, i, "query", "table", type(extra), level) end
    local q
    -- routes that declare their filters check and convert them (tiledesk.filters), into a new table
    if route.filters and with_query then
      q = require("tiledesk.filters").apply(route, client, extra or {}, level)
    else
      q = {}
      for k, v in pairs(extra or {}) do q[k] = v end
    end
    if fields then
      for k, v in pairs(fields) do q[k] = v end
    end
    if route.with then
      for k, v in pairs(route.with) do q[k] = v end
    end
    if with_query or next(q) ~= nil then spec.query = q end
    if not with_query and fields and next(fields) ~= nil then
      -- a write whose fields go in the body: the extra table joins them there
      spec.query = nil
      spec.body = q
    end
  end
  return spec
end

local function make_method(route)
  return function(self, ...)
    if type(self) ~= "table" or not self.client then
      error(route.op .. ": call it with a colon (client." .. route.res .. ":" .. route.name .. "(...))", 2)
    end
    local spec = build(route, self.client, 3, ...)
    -- max_items and prefetch belong to :each()/:pages(); one page is what the server sends
    if route.page and spec.query then spec.query.max_items, spec.query.prefetch = nil, nil end
    return self.client:call(route.op, spec, nil, true)
  end
end

local function make_pages(route, iterate)
  return function(self, ...)
    if type(self) ~= "table" or not self.client then
      error(route.op .. ": call it with a colon", 2)
    end
    local spec = build(route, self.client, 3, ...)
    local client = self.client
    local function fetch(q)
      local s = {}
      for k, v in pairs(spec) do s[k] = v end
      s.query = q
      return client:call(route.op, s, nil, true)
    end
    -- prefetch: the pages asked for ahead go out together and stay under way while the caller
    -- works (tiledesk.batch.spawn); they are GETs, so a page whose wait outlived the time its
    -- call allows is asked for again rather than met with a timeout it did not earn
    local function many(queries)
      return require("tiledesk.batch").pending(client, function(i) return fetch(queries[i]) end, #queries)
    end
    local q = spec.query
    local op = route.op
    local pager = require("tiledesk.pager")
    if iterate then return pager.each(fetch, route.page, q, op, many) end
    return pager.pages(fetch, route.page, q, op, many)
  end
end

-- The methods table of each area, one per area and shared by every client: made empty (but
-- for its metamethods) when a client is made, filled when first looked into.
local tables, filled = {}, {}

-- Fills an area's methods table in place: its module, routes and generated methods.
local function fill(name)
  local methods = tables[name]
  if filled[name] then return methods end
  local list, mod = routes.area(name)
  for _, route in ipairs(list) do
    -- what a route fixes in every spec it builds, checked once here: its calls skip the check
    options.request({ method = route.method, path = "/", auth = route.auth, secret = route.secret }, route.op, 1)
    if not route.skip then
      methods[route.name] = make_method(route)
      if route.page then
        local suffix = route.name == "list" and "" or ("_" .. route.name)
        methods["each" .. suffix] = make_pages(route, true)
        methods["pages" .. suffix] = make_pages(route, false)
      end
    end
  end
  -- self:_call(route_name, ...) from code in resources/<name>.lua: invokes one of the area's
  -- routes (no require of this module from there, so no require cycle)
  local by_name = {}
  for _, route in ipairs(list) do by_name[route.name] = route end
  methods._call = function(self, rname, ...)
    local route = by_name[rname]
    return self.client:call(route.op, build(route, self.client, 3, ...), nil, true)
  end
  for k, fn in pairs(mod.methods or {}) do methods[k] = fn end
  methods.__index = methods
  filled[name] = true
  setmetatable(methods, nil)
  return methods
end

-- The (still empty) methods table of an area: a look-up in it, or in an object that has it as
-- metatable, fills it first; so does pairs() where Lua honours __pairs (5.2 and later).
local function methods_of(name)
  local methods = tables[name]
  if methods then return methods end
  methods = {
    __index = function(_, k) return fill(name)[k] end,
    __name = "tiledesk.resources." .. name,
    __tostring = function() return "tiledesk resource " .. name end,
  }
  tables[name] = methods
  setmetatable(methods, {
    __index = function(_, k) return rawget(fill(name), k) end,
    __pairs = function(t) fill(name) return next, t, nil end,
  })
  return methods
end

-- The methods table of one resource, filled (generated once, shared by every client).
function _M.methods(name)
  if not routes.area(name) then error("tiledesk: no resource '" .. tostring(name) .. "'", 2) end
  methods_of(name)
  return fill(name)
end

function _M.attach(client)
  for _, name in ipairs(routes.resources) do
    -- rawset: a client:with{} view keeps resources of its own (they carry its call options)
    rawset(client, name, setmetatable({ client = client, name = name }, methods_of(name)))
  end
  return client
end

return _M
