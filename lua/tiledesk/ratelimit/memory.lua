-- The in-memory rate-limit store: token buckets in a Lua table (one Lua state). The store
-- interface is described in tiledesk.ratelimit.
local _M = {}

local Store = {}
Store.__index = Store
Store.__name = "tiledesk.ratelimit.memory"

function _M.new()
  return setmetatable({ buckets = {} }, Store)
end

-- Refills the bucket for the time since its last use, then takes one token if there is one.
-- Returns 0 when a token was taken, else the ms until one will be there.
function Store:take(key, per_minute, capacity, now_ms)
  local per_ms = per_minute / 60000
  local b = self.buckets[key]
  if not b then
    b = { tokens = capacity, at = now_ms }
    self.buckets[key] = b
  end
  local elapsed = now_ms - b.at
  if elapsed < 0 then elapsed = 0 end
  local tokens = math.min(capacity, b.tokens + elapsed * per_ms)
  b.at = now_ms
  if tokens >= 1 then
    b.tokens = tokens - 1
    return 0
  end
  b.tokens = tokens
  return math.ceil((1 - tokens) / per_ms)
end

return _M
