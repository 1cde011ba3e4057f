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
  return setmetatable({ routes = {} }, Router)
end

local function split(path)
  local segs = {}
  for s in path:gmatch("[^/]+") do segs[#segs + 1] = s end
  return segs
end
_M.split = split

-- opts: auth (default true), role, types, perm, oid, oid_except (docs/design.md, "Sandbox
-- internals"); extra: name (area.handler, for the log) and data (the route entry's data).
function Router:add(method, pattern, opts, handler, extra)
  if type(opts) == "function" then handler, opts = opts, {} end
  local segs = split(pattern)
  local score = {}
  for i, s in ipairs(segs) do score[i] = s:sub(1, 1) == ":" and "0" or "1" end
  extra = extra or {}
  self.routes[#self.routes + 1] = { method = method, pattern = pattern, segs = segs, opts = opts or {},
    handler = handler, score = table.concat(score), name = extra.name, data = extra.data }
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

-- Returns route, params; or nil, "method" when the path exists for another method.
function Router:match(method, segs)
  local best, best_params, other
  for _, r in ipairs(self.routes) do
    if #r.segs == #segs then
      local params, ok = {}, true
      for i, s in ipairs(r.segs) do
        if s:sub(1, 1) == ":" then params[s:sub(2)] = segs[i]
        elseif s ~= segs[i] then ok = false break end
      end
      if ok then
        if r.method == method or r.method == "ANY" then
          if not best or r.score > best.score then best, best_params = r, params end
        else
          other = true
        end
      end
    end
  end
  if best then return best, best_params end
  return nil, other and "method" or nil
end

return _M
