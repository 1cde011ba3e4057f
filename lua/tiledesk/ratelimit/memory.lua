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

-- De-duplication: false the first time `key` is seen within ttl_ms (then it is marked), true
-- after. now_ms: the caller's clock (default: os.time() in ms). Keeps at most MAX_SEEN keys: the
-- expired go first, then the ones closest to expiry.
local MAX_SEEN = 10000
function Store:seen(key, ttl_ms, now_ms)
  now_ms = now_ms or os.time() * 1000
  local seen = self.seen_until
  if not seen then
    seen = {}
    self.seen_until, self.seen_n = seen, 0
  end
  local u = seen[key]
  if u and u > now_ms then return true end
  if not u then self.seen_n = self.seen_n + 1 end
  seen[key] = now_ms + ttl_ms
  if self.seen_n > MAX_SEEN then
    for k, v in pairs(seen) do
      if v <= now_ms then seen[k] = nil self.seen_n = self.seen_n - 1 end
    end
    while self.seen_n > MAX_SEEN do
      local oldest, at
      for k, v in pairs(seen) do if not at or v < at then oldest, at = k, v end end
      seen[oldest] = nil
      self.seen_n = self.seen_n - 1
    end
  end
  return false
end

return _M
