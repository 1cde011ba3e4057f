-- A rate-limit store in a lua_shared_dict: one budget for every worker of one nginx host.
-- The store interface is described in tiledesk.ratelimit and docs/design.md ("Rate-limit stores"):
--   store:take(key, per_minute, capacity, now_ms) -> 0 (a token was taken) | ms to wait | nil, msg, err
--   store:seen(key, ttl_ms, now_ms)               -> false the first time within ttl_ms, then true
-- A short lock (dict:add of "<key>:lock", 50 ms expiry) makes the read and the write of a bucket
-- one step across workers.
--
--   http { lua_shared_dict tiledesk_limits 1m; }
--   tiledesk.new{ ..., rate_limit = 200, rate_limit_store = require("tiledesk.ratelimit.shared_dict").new("tiledesk_limits") }
local _M = {}

local Store = {}
Store.__index = Store
Store.__name = "tiledesk.ratelimit.shared_dict"

local WHAT = "tiledesk.ratelimit.shared_dict"

-- new(name | ngx.shared.<name>)
function _M.new(dict)
  if not ngx or not ngx.shared then error(WHAT .. ".new(): lua_shared_dict exists only inside nginx", 2) end
  local name = dict
  if type(dict) == "string" then
    dict = ngx.shared[dict]
    if not dict then error(WHAT .. ".new(): no lua_shared_dict named '" .. name .. "' in nginx.conf", 2) end
  elseif type(dict) ~= "table" and type(dict) ~= "userdata" then
    error(WHAT .. ".new(): a lua_shared_dict name or ngx.shared.<name> expected", 2)
  else
    name = "?"
  end
  return setmetatable({ dict = dict, name = name }, Store)
end

-- what: nil for take (the limiter prefixes its own words), "de-duplication" for seen
local function fail(self, what, err)
  return nil, (what and (what .. ": ") or "") .. "lua_shared_dict '" .. self.name .. "': " .. tostring(err),
    { kind = "limiter" }
end

local function can_sleep()
  local p = ngx.get_phase()
  return p == "rewrite" or p == "access" or p == "content" or p == "timer" or p == "ssl_cert"
end

local function lock(dict, key)
  local lk = key .. ":lock"
  for _ = 1, 500 do
    local ok, err = dict:add(lk, true, 0.05)
    if ok then return lk end
    if err ~= "exists" then return nil, err end
    if not can_sleep() then return nil, "the bucket is locked by another worker" end
    ngx.sleep(0.001)
  end
  return nil, "lock timeout"
end

function Store:take(key, per_minute, capacity, now_ms)
  local dict = self.dict
  local lk, lerr = lock(dict, key)
  if not lk then return fail(self, nil, lerr) end
  local per_ms = per_minute / 60000
  local tokens, at = dict:get(key), dict:get(key .. ":at")
  if not tokens or not at then tokens, at = capacity, now_ms end
  local elapsed = now_ms - at
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tokens + elapsed * per_ms)
  local wait = 0
  if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / per_ms) end
  local ttl = math.ceil(capacity / per_ms) / 1000 + 1 -- a full bucket needs no memory
  local ok, err = dict:set(key, tokens, ttl)
  if ok then ok, err = dict:set(key .. ":at", now_ms, ttl) end
  dict:delete(lk)
  if not ok then return fail(self, nil, err) end
  return wait
end

function Store:seen(key, ttl_ms)
  local ok, err = self.dict:add("seen:" .. key, true, ttl_ms / 1000)
  if ok then return false end
  if err == "exists" then return true end
  return fail(self, "de-duplication", err)
end

function Store:__tostring()
  return WHAT .. " (" .. self.name .. ")"
end

return _M
