-- Routes with :name segments; a literal segment wins over a :name one at the same position.
--
-- API modules (sbx.api.<area>) hand their routes over as data: the module is a table of named
-- handler functions and `routes`, a list of { METHOD, PATTERN, HANDLER_NAME, OPTS?, data = ? }
-- entries; `aliases` (optional) lists { FROM_PREFIX, TO_PREFIX } pairs under which every route
-- of FROM_PREFIX is served again (the server's /faq_kb and /bots, for one). mount() checks that
-- every entry names a handler of its module.
local _M = {}

local Router = {}
Router.__index = Router

function _M.new()
  return setmetatable({ routes = {}, index = {} }, Router)
end

local function split(path)
  local segs = {}
  for s in path:gmatch("[^/]+") do segs[#segs + 1] = s end
  return segs
end
_M.split = split

-- The index: routes by segment count, then by their first two segments (the literal, or ":"
-- for a parameter; "" past the end), each bucket in the order of registration. A literal beats
-- a parameter at the same position, so of the (at most four) buckets a path can fall in, the
-- first one holding a match in the order (lit, lit), (lit, :), (:, lit), (:, :) holds the best.
local function key_of(seg)
  if seg == nil then return "" end
  if seg:sub(1, 1) == ":" then return ":" end
  return seg
end

-- opts: auth (default true), role, types, perm, oid, oid_except (docs/design.md, "Sandbox
-- internals"); extra: name (area.handler, for the log) and data (the route entry's data).
function Router:add(method, pattern, opts, handler, extra)
  if type(opts) == "function" then handler, opts = opts, {} end
  local segs = split(pattern)
  local score, lits, names = {}, {}, {}
  for i, s in ipairs(segs) do
    local param = s:sub(1, 1) == ":"
    score[i] = param and "0" or "1"
    lits[i] = not param and s
    names[i] = param and s:sub(2)
  end
  extra = extra or {}
  local r = { method = method, pattern = pattern, segs = segs, opts = opts or {},
    handler = handler, score = table.concat(score), name = extra.name, data = extra.data, lits = lits, names = names }
  self.routes[#self.routes + 1] = r
  local by_len = self.index[#segs]
  if not by_len then by_len = {} self.index[#segs] = by_len end
  local k1, k2 = key_of(segs[1]), key_of(segs[2])
  local by_first = by_len[k1]
  if not by_first then by_first = {} by_len[k1] = by_first end
  local bucket = by_first[k2]
  if not bucket then bucket = {} by_first[k2] = bucket end
  bucket[#bucket + 1] = r
end

-- The entries of a route list, again under each alias prefix.
local function with_aliases(list, aliases)
  local out = {}
  for _, e in ipairs(list) do out[#out + 1] = e end
  for _, a in ipairs(aliases or {}) do
    local from, to = a[1], a[2]
    for _, e in ipairs(list) do
      local p = e[2]
      if p == from or p:sub(1, #from + 1) == from .. "/" then
        out[#out + 1] = { e[1], to .. p:sub(#from + 1), e[3], e[4], data = e.data }
      end
    end
  end
  return out
end

-- Registers an API module (see the header comment). `area` names it in errors and in the log.
function Router:mount(area, api)
  if type(api) ~= "table" or type(api.routes) ~= "table" then
    error("sbx.api." .. area .. ": the module must return a table with a routes list", 0)
  end
  for i, e in ipairs(with_aliases(api.routes, api.aliases)) do
    local handler = api[e[3]]
    if type(handler) ~= "function" then
      error(("sbx.api.%s: route %d (%s %s) names no handler %q"):format(area, i, tostring(e[1]), tostring(e[2]),
        tostring(e[3])), 0)
    end
    self:add(e[1], e[2], e[4], handler, { name = area .. "." .. e[3], data = e.data })
  end
end

-- The best route of one bucket for segs: route, params; or nil, whether another method matched.
local function match_in(bucket, method, segs, n)
  local best, other
  for j = 1, #bucket do
    local r = bucket[j]
    local lits, ok = r.lits, true
    for i = 1, n do
      local lit = lits[i]
      if lit and lit ~= segs[i] then ok = false break end
    end
    if ok then
      if r.method == method or r.method == "ANY" then
        if not best or r.score > best.score then best = r end
      else
        other = true
      end
    end
  end
  if not best then return nil, other end
  local params, names = {}, best.names
  for i = 1, n do
    local name = names[i]
    if name then params[name] = segs[i] end
  end
  return best, params
end

-- Returns route, params; or nil, "method" when the path exists for another method.
function Router:match(method, segs)
  local n = #segs
  local by_len = self.index[n]
  local other
  if by_len then
    local s1, s2 = segs[1] or "", segs[2] or ""
    for a = 1, 2 do
      local by_first
      if a == 1 then by_first = s1 ~= ":" and by_len[s1] else by_first = by_len[":"] end
      if by_first then
        for b = 1, 2 do
          local bucket
          if b == 1 then bucket = s2 ~= ":" and by_first[s2] else bucket = by_first[":"] end
          if bucket then
            local route, params = match_in(bucket, method, segs, n)
            if route then return route, params end
            other = other or params
          end
        end
      end
    end
  end
  return nil, other and "method" or nil
end

return _M
