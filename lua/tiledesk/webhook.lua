-- Resthook deliveries (POST /{pid}/subscriptions targets): verify, de-duplicate, decode.
--   local webhook = require "tiledesk.webhook"
--   local seen = webhook.memory_store()   -- or tiledesk.ratelimit.shared_dict / .redis (across workers, hosts)
--   local event, msg, err = webhook.parse(body, headers, { secret = SUB_SECRET, seen = seen })
--   if not event then return respond(err.status, msg) end   -- nothing else happened
--   if event.event == "message.create" then ... event.payload.text ... end
--
-- A delivery is refused (nil, msg, err; err.kind = "invalid", err.reason below) when:
--   too_large   the body is longer than opts.max_bytes (default 5 MiB, the server's /webhook limit)
--   malformed   not a JSON object with timestamp, payload, hook { _id, event } and token
--   secret      the x-hook-secret header is missing, repeated, or not the secret (constant time)
--   token       the body's token is not an HS256 token signed with the secret for this
--               subscription (sub "subscription", aud https://tiledesk.com/subscriptions/<hook._id>)
--   stale       its timestamp is more than opts.max_age seconds (default 300) old, or ahead
--   replay      opts.seen already holds it (a retry of a delivery already handled)
-- err.status is the HTTP status to answer with: 413, 400, 401, 401, 400, and 200 for a replay (so
-- the server stops retrying).
local jwt = require("tiledesk.jwt")
local json = require("tiledesk.json")
local crypto = require("tiledesk.crypto")
local E = require("tiledesk.error")

local _M = {}
local ngx = rawget(_G, "ngx")

_M.MAX_BYTES = 5 * 1024 * 1024
_M.MAX_AGE = 300

local STATUS = { too_large = 413, malformed = 400, secret = 401, token = 401, stale = 400, replay = 200,
  store = 503 }

local function fail(op, reason, text)
  local msg = op .. ": " .. text
  return nil, msg, E.new{ kind = "invalid", reason = reason, status = STATUS[reason], msg = msg }
end
_M._fail = fail

function _M.now_ms()
  if ngx and ngx.now then return math.floor(ngx.now() * 1000) end
  return os.time() * 1000
end

-- The value of header name in a headers table whose names may be in any case; nil when absent,
-- false when it came more than once.
function _M.header(headers, name)
  local found
  name = name:lower()
  for k, v in pairs(headers) do
    if type(k) == "string" and k:lower() == name then
      if found ~= nil or type(v) == "table" then return false end
      found = v
    end
  end
  return found
end

local function check_store(op, store)
  if store == nil then return end
  if (type(store) ~= "table" and type(store) ~= "userdata") or not store.seen then
    error(op .. ": opts.seen must be a store with seen(key, ttl_ms, now_ms) (see docs/design.md)", 3)
  end
end

-- Checks the common options; returns max_bytes, max_age (s), now (ms).
function _M._options(op, opts, known)
  if type(opts) ~= "table" then error(op .. ": opts must be a table", 3) end
  for k in pairs(opts) do
    if not known[k] then error(op .. ": unknown option " .. tostring(k), 3) end
  end
  local max_bytes, max_age = opts.max_bytes or _M.MAX_BYTES, opts.max_age or _M.MAX_AGE
  if type(max_bytes) ~= "number" or max_bytes < 1 then error(op .. ": opts.max_bytes must be a number > 0", 3) end
  if type(max_age) ~= "number" or max_age <= 0 then error(op .. ": opts.max_age must be a number of seconds > 0", 3) end
  if opts.now ~= nil and type(opts.now) ~= "number" then error(op .. ": opts.now must be epoch milliseconds", 3) end
  check_store(op, opts.seen)
  return max_bytes, max_age, opts.now or _M.now_ms()
end

-- The decoded envelope { timestamp, payload, hook, token } of a body, or nil, msg, err.
function _M._envelope(op, body, max_bytes)
  if body == nil or body == "" then return fail(op, "malformed", "empty body") end
  if type(body) ~= "string" then error(op .. ": body must be a string, got " .. type(body), 3) end
  if #body > max_bytes then return fail(op, "too_large", "body longer than " .. max_bytes .. " bytes") end
  local t = json.decode(body)
  if type(t) ~= "table" or body:match("^%s*(.)") ~= "{" then return fail(op, "malformed", "body is not a JSON object") end
  if type(t.timestamp) ~= "number" then return fail(op, "malformed", "timestamp missing") end
  if type(t.payload) ~= "table" then return fail(op, "malformed", "payload missing") end
  if type(t.hook) ~= "table" or type(t.hook._id) ~= "string" or t.hook._id == "" then
    return fail(op, "malformed", "hook missing")
  end
  if type(t.token) ~= "string" or t.token == "" then return fail(op, "malformed", "token missing") end
  return t
end

-- Refuses a delivery dated more than max_age seconds from now, either way.
function _M._fresh(op, ts, max_age, now)
  if now - ts > max_age * 1000 then return fail(op, "stale", "delivery older than " .. max_age .. " s") end
  if ts - now > max_age * 1000 then return fail(op, "stale", "delivery dated " .. max_age .. " s or more ahead") end
  return true
end

-- Remembers key in store for ttl_ms (the rate-limit stores' seen()); nil, msg, err when it was
-- there already, or when the store fails.
function _M._remember(op, store, key, ttl_ms, now)
  if store == nil then return true end
  local already, e = store:seen(key, ttl_ms, now)
  if already == false then return true end
  if already then return fail(op, "replay", "delivery already handled") end
  return fail(op, "store", "the seen store failed: " .. tostring(e))
end

local PARSE_OPTS = { secret = true, max_age = true, seen = true, max_bytes = true, now = true }

-- The event of a resthook delivery: { event, timestamp (epoch ms), payload, hook, token, key },
-- or nil, msg, err (see the top of this file). Nothing is remembered for a refused delivery.
function _M.parse(body, headers, opts)
  local op = "tiledesk.webhook.parse()"
  if type(headers) ~= "table" then error(op .. ": headers must be a table", 2) end
  if type(opts) ~= "table" or type(opts.secret) ~= "string" or opts.secret == "" then
    error(op .. ": opts.secret (the subscription secret) is required", 2)
  end
  local max_bytes, max_age, now = _M._options(op, opts, PARSE_OPTS)
  if body ~= nil and type(body) ~= "string" then error(op .. ": body must be a string, got " .. type(body), 2) end
  if body and #body > max_bytes then return fail(op, "too_large", "body longer than " .. max_bytes .. " bytes") end
  -- the shared secret first: nothing of an unauthenticated body is decoded
  local given = _M.header(headers, "x-hook-secret")
  if type(given) ~= "string" then
    return fail(op, "secret", given == false and "x-hook-secret sent more than once" or "x-hook-secret missing")
  end
  if not crypto.equal(given, opts.secret) then return fail(op, "secret", "x-hook-secret does not match") end
  local env, msg, err = _M._envelope(op, body, max_bytes)
  if not env then return nil, msg, err end
  local claims = jwt.verify(env.token, opts.secret, { subject = "subscription",
    audience = "https://tiledesk.com/subscriptions/" .. env.hook._id })
  if not claims or claims._id ~= env.hook._id then
    return fail(op, "token", "token is not signed for this subscription")
  end
  if type(env.hook.event) ~= "string" or env.hook.event == "" then return fail(op, "malformed", "hook.event missing") end
  local ok
  ok, msg, err = _M._fresh(op, env.timestamp, max_age, now)
  if not ok then return nil, msg, err end
  local key = "tiledesk:hook:" .. crypto.hex(crypto.sha256(body))
  ok, msg, err = _M._remember(op, opts.seen, key, 2 * max_age * 1000, now)
  if not ok then return nil, msg, err end
  return { event = env.hook.event, timestamp = env.timestamp, payload = env.payload, hook = env.hook,
    token = env.token, key = key }
end

-- Lets a retry of event through again (call it when handling the event failed); for stores
-- that can forget (memory_store; a lua_shared_dict or Redis entry expires after 2 x max_age).
function _M.forget(store, event)
  if store == nil or type(event) ~= "table" or type(event.key) ~= "string" then return end
  if store.forget then store:forget(event.key) end
end

-- A per-process store with the seen() of the rate-limit stores (tiledesk.ratelimit.shared_dict,
-- tiledesk.ratelimit.redis serve across workers and hosts), and get/add for small caches:
--   store:seen(key, ttl_ms, now_ms?) -> false the first time within ttl_ms, then true
--   store:add(key, value, ttl_s) -> true | false, "exists"     store:get(key)    store:forget(key)
-- At most max_keys (default 100000) live keys: when full, expired ones go first, then seen()
-- fails (nil, msg) rather than forget what it holds. opts.clock: a function giving ms.
function _M.memory_store(opts)
  opts = opts or {}
  local max = opts.max_keys or 100000
  local clock = opts.clock or _M.now_ms
  local keys, count = {}, 0
  local store = {}
  local function live(key, now)
    local cur = keys[key]
    if cur and cur.expires > now then return cur end
    if cur then keys[key] = nil; count = count - 1 end
    return nil
  end
  local function put(key, value, ttl_ms, now)
    if count >= max then
      for k, v in pairs(keys) do
        if v.expires <= now then keys[k] = nil; count = count - 1 end
      end
      if count >= max then return nil, "memory store full (" .. max .. " keys)" end
    end
    keys[key] = { value = value, expires = (ttl_ms and ttl_ms > 0) and now + ttl_ms or math.huge }
    count = count + 1
    return true
  end
  function store.seen(_, key, ttl_ms, now)
    now = now or clock()
    if live(key, now) then return true end
    local ok, err = put(key, true, ttl_ms, now)
    if not ok then return nil, err end
    return false
  end
  function store.add(_, key, value, ttl_s)
    local now = clock()
    if live(key, now) then return false, "exists" end
    return put(key, value, ttl_s and ttl_s * 1000, now)
  end
  function store.get(_, key)
    local cur = live(key, clock())
    return cur and cur.value
  end
  function store.forget(_, key)
    if keys[key] then keys[key] = nil; count = count - 1 end
    return true
  end
  function store.count() return count end
  return store
end

return _M
