-- The client-side rate limiter: a token bucket refilled at `per_minute` a minute, holding at most
-- one second's worth (at least one token). Its state lives in a store, so that several clients,
-- nginx workers or hosts can share one budget (docs/design.md, "Rate-limit stores"):
--
--   store:take(key, per_minute, capacity, now_ms) -> 0 when a token was taken now, else the ms
--                                                    to wait before one can be (nothing taken),
--                                                    or nil, msg, err when the store failed
--
-- tiledesk.ratelimit.memory is the default (one bucket per client, in this Lua state).
local _M = {}

local Limiter = {}
Limiter.__index = Limiter
Limiter.__name = "tiledesk.RateLimiter"

-- opts = { per_minute = n, store = store?, key = string? }
function _M.new(opts)
  local per_minute = opts.per_minute
  local store = opts.store or require("tiledesk.ratelimit.memory").new()
  return setmetatable({ per_minute = per_minute, capacity = math.max(1, per_minute / 60), store = store,
    key = opts.key or "tiledesk" }, Limiter)
end

-- How many times acquire() asks the store before giving up: a shared store under contention
-- may answer "wait" again after the wait it announced.
local MAX_TRIES = 1000

-- Waits (on the clock's sleep_ms) until a token is taken. clock = { now_ms, sleep_ms } (the
-- transport). deadline_ms (optional, on the same clock): gives up rather than wait past it.
-- Returns true, or nil, msg, err: err.kind "limiter" when the store failed (the call fails
-- rather than run without a limit), "timeout" when waiting would pass the deadline (err.wait_ms).
function Limiter:acquire(clock, deadline_ms)
  for _ = 1, MAX_TRIES do
    local now = clock:now_ms()
    local wait, msg, err = self.store:take(self.key, self.per_minute, self.capacity, now)
    if wait == nil then
      if type(err) ~= "table" then err = {} end
      err.kind = err.kind or "limiter"
      return nil, "rate limiter: " .. tostring(msg or "the store failed"), err
    end
    if wait <= 0 then return true end
    if deadline_ms and now + wait > deadline_ms then
      return nil, "rate limiter: a token comes only after the call's deadline", { kind = "timeout", wait_ms = wait }
    end
    clock:sleep_ms(wait)
  end
  return nil, "rate limiter: no token after " .. MAX_TRIES .. " waits", { kind = "limiter" }
end

return _M
