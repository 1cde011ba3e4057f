-- A rate-limit store in Redis: one budget for every host, inside nginx (resty.redis over
-- cosockets; Debian's lua-nginx-redis). The bucket is read and written by one server-side script
-- (EVALSHA, loaded with SCRIPT LOAD, EVAL-equivalent reload on NOSCRIPT) with Redis's own clock,
-- so hosts with skewed clocks share it fairly. A Redis that does not answer gives nil, msg, err
-- with err.kind = "limiter": the call fails rather than run without a limit.
-- Interface: tiledesk.ratelimit and docs/design.md ("Rate-limit stores").
--
--   local store = require("tiledesk.ratelimit.redis").new{ host = "10.0.0.5", port = 6379 }
--   tiledesk.new{ ..., rate_limit = 200, rate_limit_store = store, rate_limit_key = "account-42" }
local _M = {}

local Store = {}
Store.__index = Store
Store.__name = "tiledesk.ratelimit.redis"

local WHAT = "tiledesk.ratelimit.redis"

-- KEYS[1]: the bucket (a hash: tokens, at); ARGV: per_minute, capacity. Returns 0 when a token
-- was taken, else the ms until one will be there (nothing taken).
local TAKE = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_ms = tonumber(ARGV[1]) / 60000
local cap = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]), tonumber(b[2])
if not tokens or not at then tokens, at = cap, now end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(cap, tokens + elapsed * per_ms)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / per_ms) end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / per_ms) + 1000)
return wait
]]
_M.TAKE_SCRIPT = TAKE

local OPTIONS = { host = "string", port = "number", password = "string", db = "number", prefix = "string",
  timeout = "number", pool_size = "number", keepalive_timeout = "number" }

local function load_driver()
  local ok, mod = pcall(require, "resty.redis")
  if ok then return mod end
  ok, mod = pcall(require, "nginx.redis") -- the name Debian's lua-nginx-redis installs it under
  if ok then return mod end
  return nil
end

-- new{ host = "127.0.0.1", port = 6379, password, db, prefix = "tiledesk:", timeout = 1000 (ms),
-- pool_size = 32, keepalive_timeout = 10000 (idle ms) }
function _M.new(opts)
  opts = opts == nil and {} or opts
  if type(opts) ~= "table" then error(WHAT .. ".new(): options must be a table", 2) end
  for k, v in pairs(opts) do
    if not OPTIONS[k] then error(WHAT .. ".new(): unknown option '" .. tostring(k) .. "'", 2) end
    if type(v) ~= OPTIONS[k] then error(WHAT .. ".new(): option '" .. k .. "' must be a " .. OPTIONS[k], 2) end
  end
  if not ngx or not ngx.socket then error(WHAT .. ".new(): the Redis store runs inside nginx (cosockets)", 2) end
  local driver = load_driver()
  if not driver then error(WHAT .. ".new(): resty.redis is not installed (Debian: lua-nginx-redis)", 2) end
  local password = opts.password -- a secret: held by a closure, never a field
  local self = setmetatable({ driver = driver, host = opts.host or "127.0.0.1", port = opts.port or 6379,
    db = opts.db, prefix = opts.prefix or "tiledesk:", timeout = opts.timeout or 1000,
    pool_size = opts.pool_size or 32, keepalive_timeout = opts.keepalive_timeout or 10000 }, Store)
  self.login = function(red)
    if password then return red:auth(password) end
    return true
  end
  return self
end

-- what: nil for take (the limiter prefixes its own words), "de-duplication" for seen
local function fail(self, what, detail)
  return nil, (what and (what .. ": ") or "") .. "redis " .. self.host .. ":" .. self.port .. " " .. detail,
    { kind = "limiter" }
end

-- Runs fn(red) on a pooled connection. fn returns a value, or nil and an error.
function Store:run(what, fn)
  local red = self.driver:new()
  red:set_timeout(self.timeout)
  local ok, err = red:connect(self.host, self.port, { pool = "tiledesk:redis:" .. self.host .. ":" .. self.port
    .. ":" .. tostring(self.db or 0) })
  if not ok then return fail(self, what, "did not answer (" .. tostring(err) .. ")") end
  if (red:get_reused_times() or 0) == 0 then
    ok, err = self.login(red)
    if ok and self.db then ok, err = red:select(self.db) end
    if not ok then
      red:close()
      return fail(self, what, "refused the connection set-up (" .. tostring(err) .. ")")
    end
  end
  local res, ferr = fn(red)
  if res == nil then
    red:close()
    return fail(self, what, "failed (" .. tostring(ferr) .. ")")
  end
  red:set_keepalive(self.keepalive_timeout, self.pool_size)
  return res
end

-- now_ms is not used: Redis's clock (TIME) is the one every host shares.
function Store:take(key, per_minute, capacity)
  local k = self.prefix .. "rl:" .. key
  return self:run(nil, function(red)
    local res, err
    if self.sha then
      res, err = red:evalsha(self.sha, 1, k, per_minute, capacity)
      if res == nil and tostring(err):find("NOSCRIPT", 1, true) then self.sha = nil end
    end
    if not self.sha then
      local sha, lerr = red:script("load", TAKE)
      if type(sha) ~= "string" then return nil, lerr end
      self.sha = sha
      res, err = red:evalsha(sha, 1, k, per_minute, capacity)
    end
    if type(res) ~= "number" then return nil, err or "unexpected answer" end
    return res
  end)
end

function Store:seen(key, ttl_ms)
  return self:run("de-duplication", function(red)
    local res, err = red:set(self.prefix .. "seen:" .. key, "1", "PX", math.max(1, math.floor(ttl_ms)), "NX")
    if res == nil then return nil, err end
    return res ~= "OK" -- "OK": the first time; ngx.null: already there
  end)
end

function Store:__tostring()
  return WHAT .. " (" .. self.host .. ":" .. self.port .. ")"
end

return _M
