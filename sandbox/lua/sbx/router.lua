-- Routes with :name segments; a literal segment wins over a :name one at the same position.
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

-- opts: auth (default true), role, types
function Router:add(method, pattern, opts, handler)
  if type(opts) == "function" then handler, opts = opts, {} end
  local segs = split(pattern)
  local score = {}
  for i, s in ipairs(segs) do score[i] = s:sub(1, 1) == ":" and "0" or "1" end
  self.routes[#self.routes + 1] = { method = method, pattern = pattern, segs = segs, opts = opts or {},
    handler = handler, score = table.concat(score) }
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
