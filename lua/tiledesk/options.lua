-- Option checking: what tiledesk.new{}, client:with{} and client:request{} accept.
-- Each checker returns true or the expectation that a misuse message shows.
local url = require("tiledesk.url")

local _M = {}

-- Whole units only: a fraction (0.5 meant as seconds) would silently round to 0, which means
-- "no limit" for timeouts and sizes.
local function whole(v, unit, max, hint)
  if type(v) == "number" and v >= 0 and v <= max and v == math.floor(v) then return true end
  local msg = "a whole number of " .. unit .. " from 0 to " .. string.format("%.0f", max)
  if hint and type(v) == "number" and v > 0 and v < 1000 and v ~= math.floor(v) then msg = msg .. hint(v) end
  return msg
end
local function is_ms(v)
  return whole(v, "milliseconds (ms)", 2147483647, function(x)
    return "; " .. x .. " s is " .. string.format("%.0f", x * 1000) .. " ms"
  end)
end
local function is_bytes(v) return whole(v, "bytes", 9e15) end
local function is_str(v) return type(v) == "string" or "a string" end
local function is_bool(v) return type(v) == "boolean" or "a boolean" end
local function is_fn(v) return type(v) == "function" or "a function" end
local function is_count(v)
  return type(v) == "number" and v >= 0 and v == math.floor(v) and v <= 100 or "an integer from 0 to 100"
end
_M.is_ms, _M.is_str, _M.is_bool, _M.is_fn, _M.is_count = is_ms, is_str, is_bool, is_fn, is_count

local TRANSPORT_METHODS = { "send", "set_credentials", "set_token", "auth_kind", "can_signin", "now_ms", "sleep_ms",
  "close" }

-- option name -> checker, for tiledesk.new{}
_M.CLIENT = {
  base_url = is_str, project_id = is_str, email = is_str, password = is_str, token = is_str,
  auth = function(v) return v == "jwt" or v == "basic" or '"jwt" or "basic"' end,
  timeout = is_ms, connect_timeout = is_ms, ssl_verify = is_bool,
  attempt_timeout = is_ms, allow_insecure_http = is_bool,
  cafile = is_str, capath = is_str,
  proxy = function(v) return type(v) == "string" or v == false or "a proxy URL, or false to ignore http_proxy and friends" end,
  max_body_size = is_bytes,
  retries = is_count, retry_base_ms = is_ms, retry_max_ms = is_ms,
  rate_limit = function(v) return type(v) == "number" and v > 0 or "a number of requests per minute > 0" end,
  rate_limit_store = function(v)
    local t = type(v)
    if (t == "table" or t == "userdata") and type(v.take) == "function" then return true end
    return "a store object with a 'take' method (see docs/design.md)"
  end,
  rate_limit_key = is_str,
  user_agent = is_str,
  -- the zone date filters are read in (tiledesk.filters); checked against the tz database
  timezone = function(v)
    if type(v) ~= "string" then return "an IANA time zone name such as \"Europe/Rome\"" end
    return require("tiledesk.time").zone(v) and true or "a time zone of the tz database, such as \"Europe/Rome\""
  end,
  transport = function(v)
    local t = type(v)
    if v == "curl" or v == "ngx" then return true end
    if t ~= "table" and t ~= "userdata" then return '"curl", "ngx" or a transport object (see docs/design.md)' end
    for _, m in ipairs(TRANSPORT_METHODS) do
      if type(v[m]) ~= "function" then return "a transport object with a '" .. m .. "' method" end
    end
    return true
  end,
  on_request = is_fn, on_response = is_fn,
  log = function(v) return v == true or v == false or type(v) == "function" or "a function or true" end,
}

-- Validates and copies opts against the checkers of `known` (plus `extra`); raises at `level`
-- (counted from this function).
local function check(opts, known, what, extra, level, hint)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error(what .. ": options must be a table (got " .. type(opts) .. ")", level) end
  local copy = {}
  for k, v in pairs(opts) do
    local checker = known[k] or (extra and extra[k])
    if not checker then error(what .. ": unknown option '" .. tostring(k) .. "'" .. (hint or ""), level) end
    local ok = checker(v)
    if ok ~= true then error(what .. ": option '" .. k .. "' must be " .. ok .. " (got " .. type(v) .. ")", level) end
    copy[k] = v
  end
  return copy
end

-- The options of tiledesk.new{} (and of signin_anonymously, with its `extra` fields).
function _M.client(opts, what, extra, level)
  local copy = check(opts, _M.CLIENT, what, extra, (level or 2) + 2)
  return copy -- (not a tail call: the error levels count this frame)
end

-- Call options a view made by client:with{} applies to every call it makes.
-- A sink takes a 2xx body in chunks instead of the call holding it: a function(chunk) or an open file.
local function is_sink(v)
  return type(v) == "function" or io.type(v) == "file" or "a function or an open file"
end
_M.is_sink = is_sink

_M.WITH = { retry = is_bool, retries = is_count, timeout = is_ms, attempt_timeout = is_ms, sink = is_sink }

function _M.with(opts, level)
  if type(opts) ~= "table" then error("client:with(): options must be a table (got " .. type(opts) .. ")", level + 1) end
  local copy = check(opts, _M.WITH, "client:with()", nil, level + 2, " (retry, retries, timeout, attempt_timeout, sink)")
  return copy
end

local REQUEST_KEYS = { method = true, path = true, query = true, body = true, headers = true,
  project = true, timeout = true, attempt_timeout = true, retries = true, retry = true, auth = true, op = true,
  raw = true, secret = true, sink = true }

-- Methods and paths already found good: a loop over the same path checks it once. The path
-- memo is bounded (paths carrying ids are many).
local METHODS_SEEN = {}
local PATHS_SEEN, paths_seen = {}, 0
local function remember_path(path)
  if paths_seen >= 512 then PATHS_SEEN, paths_seen = {}, 0 end
  PATHS_SEEN[path], paths_seen = true, paths_seen + 1
end

-- Checks a path (memoised once good); raises at `level` (counted from the caller's caller).
function _M.path(path, what, level)
  if PATHS_SEEN[path] then return end
  level = level + 1
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error(what .. ": 'path' must be a string starting with /", level)
  end
  if path:find("[%s%c]") then error(what .. ": 'path' contains spaces or control characters", level) end
  local why = url.path_problem(path)
  if why then error(what .. ": 'path' " .. why, level) end
  remember_path(path)
end

-- (level counted from this function, as request's own level plus one)
local function check_ms(spec, name, what, level)
  local v = spec[name]
  local ok = is_ms(v)
  if ok ~= true then error(what .. ": '" .. name .. "' must be " .. ok .. " (got " .. type(v) .. ")", level) end
end

-- Checks a request spec (client:request{}, client:call()); raises at `level` naming `what`.
-- Returns true when the spec holds nothing but method, path and raw.
function _M.request(spec, what, level)
  level = level + 1
  if type(spec) ~= "table" then error(what .. ": table expected, got " .. type(spec), level) end
  local more = false -- a field besides method, path and raw (raw takes any value)
  for k in pairs(spec) do
    if not REQUEST_KEYS[k] then error(what .. ": unknown field '" .. tostring(k) .. "'", level) end
    if k ~= "method" and k ~= "path" and k ~= "raw" then more = true end
  end
  local method, path = spec.method, spec.path
  if not METHODS_SEEN[method] then
    if type(method) ~= "string" or not method:match("^%u+$") then
      error(what .. ": 'method' must be an upper-case HTTP method", level)
    end
    METHODS_SEEN[method] = true
  end
  if not PATHS_SEEN[path] then _M.path(path, what, level) end
  if not more then return true end -- every other field is absent: nothing more to check
  local qt = type(spec.query)
  if qt ~= "nil" and qt ~= "table" then error(what .. ": 'query' must be a table", level) end
  local bt = type(spec.body)
  if bt ~= "nil" and bt ~= "table" and bt ~= "string" then error(what .. ": 'body' must be a table or string", level) end
  if spec.headers ~= nil then
    if type(spec.headers) ~= "table" then error(what .. ": 'headers' must be a table", level) end
    for k, v in pairs(spec.headers) do
      if type(k) ~= "string" then error(what .. ": header names must be strings (got " .. type(k) .. ")", level) end
      if not k:find("^[%w!#$%%&'*+.^_`|~-]+$") then
        error(what .. ": header name '" .. k:gsub("%c", "?") .. "' is not an HTTP token", level)
      end
      if type(v) ~= "string" and type(v) ~= "number" then
        error(what .. ": header '" .. k .. "' must be a string (got " .. type(v) .. ")", level)
      end
      if type(v) == "string" and v:find("[%z\1-\8\10-\31\127]") then
        error(what .. ": header '" .. k .. "' contains a control character (only TAB is allowed)", level)
      end
    end
  end
  if spec.project ~= nil and type(spec.project) ~= "boolean" then error(what .. ": 'project' must be a boolean", level) end
  if spec.timeout ~= nil then check_ms(spec, "timeout", what, level + 1) end
  if spec.attempt_timeout ~= nil then check_ms(spec, "attempt_timeout", what, level + 1) end
  if spec.retries ~= nil and is_count(spec.retries) ~= true then error(what .. ": 'retries' must be an integer", level) end
  if spec.retry ~= nil and type(spec.retry) ~= "boolean" then error(what .. ": 'retry' must be a boolean", level) end
  if spec.op ~= nil and type(spec.op) ~= "string" then error(what .. ": 'op' must be a string", level) end
  if spec.sink ~= nil and is_sink(spec.sink) ~= true then
    error(what .. ": 'sink' must be a function or an open file (got " .. (io.type(spec.sink) or type(spec.sink)) .. ")", level)
  end
  if spec.auth ~= nil and spec.auth ~= "none" and spec.auth ~= "credentials" then
    error(what .. ": 'auth' must be \"none\" or \"credentials\"", level)
  end
  local sec = spec.secret
  if sec ~= nil and sec ~= "request" and sec ~= "response" and sec ~= "both" then
    error(what .. ": 'secret' must be \"request\", \"response\" or \"both\"", level)
  end
end

return _M
