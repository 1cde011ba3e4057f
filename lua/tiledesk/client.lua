-- The client: configuration, auth policy, retries, rate limit, hooks, logging and request().
-- Secrets never live in this table: the transport holds them (see docs/design.md).
local json = require("tiledesk.json")
local url = require("tiledesk.url")
local E = require("tiledesk.error")

local _M = { _VERSION = "0.1.0" }

local Client = {}
Client.__index = Client
Client.__name = "tiledesk.Client"
_M.Client = Client

local DEFAULT_BASE_URL = "https://api.tiledesk.com/v3"

-- option name -> checker(value) returning true or an expectation string
local function is_ms(v) return type(v) == "number" and v >= 0 and v <= 2147483647 or "a number of ms >= 0" end
local function is_str(v) return type(v) == "string" or "a string" end
local function is_bool(v) return type(v) == "boolean" or "a boolean" end
local function is_fn(v) return type(v) == "function" or "a function" end
local function is_count(v)
  return type(v) == "number" and v >= 0 and v == math.floor(v) and v <= 100 or "an integer from 0 to 100"
end

local OPTIONS = {
  base_url = is_str, project_id = is_str, email = is_str, password = is_str, token = is_str,
  auth = function(v) return v == "jwt" or v == "basic" or '"jwt" or "basic"' end,
  timeout = is_ms, connect_timeout = is_ms, ssl_verify = is_bool,
  cafile = is_str, capath = is_str, proxy = is_str,
  max_body_size = function(v) return type(v) == "number" and v >= 0 or "a number of bytes" end,
  retries = is_count, retry_base_ms = is_ms, retry_max_ms = is_ms,
  rate_limit = function(v) return type(v) == "number" and v > 0 or "a number of requests per minute > 0" end,
  user_agent = is_str,
  transport = function(v)
    local t = type(v)
    if t ~= "table" and t ~= "userdata" then return "a transport object (see docs/design.md)" end
    for _, m in ipairs({ "send", "set_credentials", "set_token", "auth_kind", "can_signin", "now_ms", "sleep_ms",
      "close" }) do
      if type(v[m]) ~= "function" then return "a transport object with a '" .. m .. "' method" end
    end
    return true
  end,
  on_request = is_fn, on_response = is_fn,
  log = function(v) return v == true or v == false or type(v) == "function" or "a function or true" end,
}
_M.OPTIONS = OPTIONS

-- Validates and copies opts; raises at `level` (the user's call) on misuse.
function _M.check_options(opts, what, extra, level)
  level = level or 3
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error(what .. ": options must be a table", level) end
  local copy = {}
  for k, v in pairs(opts) do
    local check = OPTIONS[k] or (extra and extra[k])
    if not check then error(what .. ": unknown option '" .. tostring(k) .. "'", level) end
    local ok = check(v)
    if ok ~= true then error(what .. ": option '" .. k .. "' must be " .. ok .. " (got " .. type(v) .. ")", level) end
    copy[k] = v
  end
  return copy
end

local RETRY_METHODS = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
local RETRY_STATUS = { [429] = true, [502] = true, [503] = true, [504] = true }
local RETRY_KINDS = { connect = true, timeout = true }
_M.RETRY_METHODS, _M.RETRY_STATUS, _M.RETRY_KINDS = RETRY_METHODS, RETRY_STATUS, RETRY_KINDS

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
  Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a civil date (proleptic Gregorian), without os.time's local zone.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Retry-After: delta seconds, or an HTTP date (IMF-fixdate, RFC 850, asctime). Returns seconds
-- from now (>= 0), or nil when absent or unreadable. now_s: current epoch seconds.
function _M.parse_retry_after(v, now_s)
  if type(v) == "table" then v = v[1] end
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  if v:match("^%d+$") then return tonumber(v) end
  local d, mon, y, h, mi, s = v:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then
    d, mon, y, h, mi, s = v:match("^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d then
    mon, d, h, mi, s, y = v:match("^%a+ (%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d)$")
  end
  if not d or not MONTHS[mon] then return nil end
  d, h, mi, s = tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  if d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  local t = days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  local delta = t - (now_s or os.time())
  if delta < 0 then delta = 0 end
  return delta
end

-- Full-jitter exponential backoff for retry number n (1-based).
function _M.backoff_ms(n, base, max, random)
  local cap = math.min(max, base * 2 ^ (n - 1))
  return math.floor((random or math.random)() * cap)
end

---------------------------------------------------------------------------------------------

local function default_transport(cfg)
  return require("tiledesk.transport.curl").new{
    timeout = cfg.timeout, connect_timeout = cfg.connect_timeout, ssl_verify = cfg.ssl_verify,
    cafile = cfg.cafile, capath = cfg.capath, proxy = cfg.proxy,
    max_body_size = cfg.max_body_size, user_agent = cfg.user_agent,
  }
end

local function stderr_log(line)
  io.stderr:write(line, "\n")
end

-- Builds a client from checked options. The password and token go to the transport only.
-- level: where misuse errors point (2 = the caller of this function).
function _M.new(opts, what, level)
  what = what or "tiledesk.new()"
  level = level or 2
  local cfg = _M.check_options(opts, what, nil, level + 1)
  local base, why = url.base(cfg.base_url or DEFAULT_BASE_URL)
  if not base then error(what .. ": option 'base_url' must be " .. why, level) end
  if cfg.project_id ~= nil then
    local _, perr = url.segment(cfg.project_id)
    if perr then error(what .. ": option 'project_id' " .. perr, level) end
  end
  if (cfg.email == nil) ~= (cfg.password == nil) then
    error(what .. ": options 'email' and 'password' go together", level)
  end
  if cfg.token ~= nil then
    if cfg.token:match("^%s*$") then error(what .. ": option 'token' is empty", level) end
    if cfg.token:match("^[Bb][Ee][Aa][Rr][Ee][Rr] ") then
      error(what .. ": option 'token': Tiledesk refuses 'Bearer'; give the token as the server sent it ('JWT ...')",
        level)
    end
  end
  local mode = cfg.auth or "jwt"
  if mode == "basic" and not cfg.email then error(what .. ": auth 'basic' needs email and password", level) end
  if mode == "basic" and cfg.token then error(what .. ": auth 'basic' does not use a token", level) end

  local transport = cfg.transport or default_transport(cfg)
  transport:set_credentials{ mode = mode, email = cfg.email, password = cfg.password, token = cfg.token }

  local log = cfg.log
  if log == true then log = stderr_log elseif log == false then log = nil end

  local self = setmetatable({
    base_url = base,
    project_id = cfg.project_id,
    auth = mode,
    _transport = transport,
    _timeout = cfg.timeout or 15000,
    _connect_timeout = cfg.connect_timeout or 5000,
    _retries = cfg.retries or 3,
    _retry_base = cfg.retry_base_ms or 200,
    _retry_max = cfg.retry_max_ms or 10000,
    _rate = cfg.rate_limit,
    _on_request = cfg.on_request,
    _on_response = cfg.on_response,
    _log = log,
  }, Client)
  if cfg.rate_limit then
    self._bucket_cap = math.max(1, cfg.rate_limit / 60)
    self._bucket = self._bucket_cap
    self._bucket_at = nil
  end
  return self
end

function Client:__tostring()
  return string.format("tiledesk.Client(base_url=%s, project=%s, auth=%s)", self.base_url,
    tostring(self.project_id), self._closed and "closed" or self._transport:auth_kind())
end

function Client:auth_kind()
  return self._transport:auth_kind()
end

-- Call options a view made by client:with{} applies to every call it makes.
local WITH_OPTIONS = { retry = is_bool, retries = is_count, timeout = is_ms }

-- client:with{ retry = true, retries = n, timeout = ms }: the same client (one connection, the
-- same credentials, hooks, log and rate limit) whose calls, resource methods included, carry
-- these options unless a call gives its own. retry = true lets a POST or PATCH be repeated.
function Client:with(opts)
  if type(opts) ~= "table" then error("client:with(): options must be a table (got " .. type(opts) .. ")", 2) end
  local base = rawget(self, "_base") or self
  local merged = {}
  for k, v in pairs(rawget(self, "_call_opts") or {}) do merged[k] = v end
  for k, v in pairs(opts) do
    local check = WITH_OPTIONS[k]
    if not check then error("client:with(): unknown option '" .. tostring(k) .. "' (retry, retries, timeout)", 2) end
    local ok = check(v)
    if ok ~= true then error("client:with(): option '" .. k .. "' must be " .. ok .. " (got " .. type(v) .. ")", 2) end
    merged[k] = v
  end
  -- reads fall through to the client, writes (state such as the rate-limit bucket) go to it
  local view = setmetatable({}, { __index = base, __newindex = base, __name = Client.__name,
    __tostring = function() return tostring(base) end, __close = function() base:close() end })
  rawset(view, "_base", base)
  rawset(view, "_call_opts", merged)
  require("tiledesk.resources").attach(view) -- resources of its own, carrying its options
  return view
end

-- Fills the call options of a with{} view into a request spec (the call's own win).
local function apply_call_opts(self, spec)
  local o = rawget(self, "_call_opts")
  if not o then return spec end
  local s = {}
  for k, v in pairs(spec) do s[k] = v end
  for k, v in pairs(o) do if s[k] == nil then s[k] = v end end
  return s
end

-- Idempotent; later calls raise. Also the __close of `local c <close> = tiledesk.new{...}`.
function Client:close()
  if self._closed then return end
  self._closed = true
  self._transport:close()
end
Client.__close = function(self) self:close() end

---------------------------------------------------------------------------------------------
-- request()

local REQUEST_KEYS = { method = true, path = true, query = true, body = true, headers = true,
  project = true, timeout = true, retries = true, retry = true, auth = true, op = true, raw = true,
  secret = true }

-- Header values never shown in hooks or errors: credentials and the resthook shared secret.
local SECRET_HEADERS = { authorization = true, ["x-hook-secret"] = true, cookie = true, ["set-cookie"] = true }

local function copy_headers(h)
  local out = {}
  for k, v in pairs(h or {}) do
    local lk = type(k) == "string" and k:lower() or k
    if SECRET_HEADERS[lk] then
      local first = type(v) == "table" and v[1] or v
      out[k] = lk == "authorization" and ((tostring(first):match("^(%S+)") or "") .. " [redacted]") or "[redacted]"
    else
      out[k] = v
    end
  end
  return out
end

-- What a path looks like in messages: secrets in its query redacted, control characters escaped,
-- so that a message stays one line and carries no token.
local function shown_path(path)
  return (url.redact(path):gsub("%c", function(c) return string.format("\\x%02X", c:byte()) end))
end

-- Waits for a rate-limit token (client-side bucket refilled at rate/min).
function Client:_take_token()
  if not self._rate then return end
  local t = self._transport
  local now = t:now_ms()
  local per_ms = self._rate / 60000
  if self._bucket_at then
    self._bucket = math.min(self._bucket_cap, self._bucket + (now - self._bucket_at) * per_ms)
  end
  self._bucket_at = now
  if self._bucket < 1 then
    local wait = math.ceil((1 - self._bucket) / per_ms)
    t:sleep_ms(wait)
    local after = t:now_ms()
    self._bucket = math.min(self._bucket_cap, self._bucket + (after - now) * per_ms)
    self._bucket_at = after
  end
  self._bucket = self._bucket - 1
end

function Client:_build_url(path, query, project)
  local u = self.base_url
  if project ~= false then
    if not self.project_id then return nil, "a project-scoped call needs the 'project_id' option" end
    u = u .. "/" .. assert(url.segment(self.project_id))
  end
  u = u .. path
  local ok, qs = pcall(url.query, query)
  if not ok then return nil, qs end
  if qs ~= "" then u = u .. (u:find("?", 1, true) and "&" or "?") .. qs end
  return u
end

local function is_json_type(headers)
  local ct = headers and headers["content-type"]
  if type(ct) == "table" then ct = ct[1] end
  return type(ct) == "string" and ct:lower():find("json", 1, true) ~= nil
end

-- One line per HTTP exchange: operation, method, URL, outcome, time, attempt; a failure adds the
-- server's own words or the transport's reason, so "my bot never answers" shows up in the log.
local function log_line(self, op, method, shown_url, outcome, elapsed, attempt, note)
  if not self._log then return end
  self._log(string.format("tiledesk: %s %s %s -> %s in %d ms (attempt %d)%s", op, method, shown_url,
    tostring(outcome), math.floor(elapsed + 0.5), attempt, note and (": " .. note) or ""))
end

local function hides_request(secret) return secret == "request" or secret == "both" end
local function hides_response(secret) return secret == "response" or secret == "both" end

-- One response as the caller may be shown it: decoded once, secrets taken out once, on demand.
local Shown = {}
Shown.__index = Shown

local function shown_response(rheaders, rbody, secret)
  local s = setmetatable({ body = rbody, hide = hides_response(secret) }, Shown)
  if is_json_type(rheaders) and type(rbody) == "string" and rbody ~= "" then
    local v, derr = json.decode(rbody)
    if v == nil and derr then s.decode_error = derr else s.json = v end
  end
  return s
end

-- the decoded body with its secret values replaced (nil when not JSON)
function Shown:safe_json()
  if self.json == nil or self.hide then return nil end
  if self.redacted == nil then self.redacted = E.redact_value(self.json) end
  return self.redacted
end

-- the body text for hooks
function Shown:safe_text()
  if self.hide then return "[redacted]" end
  local j = self:safe_json()
  if type(j) == "table" then return json.encode(j) or "[redacted]" end
  return E.redact_body(self.body, json)
end

-- the server's words, for a log line or a message
function Shown:server_text()
  if self.hide then return nil end
  local j = self:safe_json()
  if type(j) == "table" then return E.server_text(j) end
  return E.server_text(nil, E.redact_body(self.body, json))
end

-- Sends one logical request with retries; returns res | nil, msg, err.
-- spec.secret ("request", "response", "both") keeps that side's body out of hooks and errors.
-- level: where misuse errors point (the user's call).
function Client:_send(spec, op, level)
  level = level or 3
  local t = self._transport
  local method = spec.method
  local full_url, uerr = self:_build_url(spec.path, spec.query, spec.project)
  if not full_url then error(op .. ": " .. uerr, level) end
  local shown_url = url.redact(full_url)

  local headers = { accept = "application/json" }
  for k, v in pairs(spec.headers or {}) do headers[k:lower()] = v end
  local body = spec.body
  if type(body) == "table" then
    local text, jerr = json.encode(body)
    if not text then error(op .. ": body cannot be encoded as JSON: " .. tostring(jerr), level) end
    body = text
  end
  if body ~= nil and not headers["content-type"] then headers["content-type"] = "application/json" end
  local auth = spec.auth or "credentials"
  if auth == "header" and not headers.authorization then
    error(op .. ": auth 'header' needs an authorization header", level)
  end
  local secret = spec.secret
  if auth == "signin" then secret = "both" end

  local max_attempts = 1 + (spec.retries or self._retries)
  local may_retry = RETRY_METHODS[method] or spec.retry == true
  local timeout = spec.timeout or self._timeout
  local reauthed = false
  local attempt = 0 -- counts against max_attempts (the repeat after a new sign-in does not)
  local sends = 0   -- every time this call went out: err.attempts and the log say this
  local req = {
    method = method, url = full_url, headers = headers, body = body,
    timeout_ms = timeout, connect_timeout_ms = self._connect_timeout, auth = auth,
  }

  local shown_req_body -- the request body as hooks see it, made once
  while true do
    attempt = attempt + 1
    sends = sends + 1
    self:_take_token()
    if self._on_request then
      if shown_req_body == nil and body ~= nil then
        if hides_request(secret) then shown_req_body = "[redacted]"
        elseif type(spec.body) == "table" then shown_req_body = json.encode(E.redact_value(spec.body)) or "[redacted]"
        else shown_req_body = E.redact_body(body, json) end
      end
      self._on_request{ method = method, url = shown_url, headers = copy_headers(headers),
        body = shown_req_body, attempt = sends, op = op }
    end
    local started = t:now_ms()
    local status, rheaders, rbody = t:send(req)
    local elapsed = t:now_ms() - started
    local err
    if not status then
      -- the transport said nil, msg, err: no response came
      local tmsg, terr = rheaders, rbody
      if type(terr) ~= "table" then terr = {} end
      err = E.new{ kind = terr.kind or "transport", code = terr.code, method = method, url = shown_url,
        attempts = sends }
      err.msg = op .. ": " .. url.redact(tostring(tmsg))
    end
    local shown = status and shown_response(rheaders, rbody, secret)
    if self._on_response then
      self._on_response{ method = method, url = shown_url, status = status, headers = status and copy_headers(rheaders),
        body = shown and shown:safe_text() or nil, elapsed_ms = elapsed, attempt = sends, op = op, err = err }
    end

    -- decide what comes next
    local retry_ms
    if err then
      if may_retry and RETRY_KINDS[err.kind] and attempt < max_attempts then
        retry_ms = _M.backoff_ms(attempt, self._retry_base, self._retry_max)
      end
      local reason = err.msg:sub(#op + 3)
      log_line(self, op, method, shown_url, err.kind, elapsed, sends,
        retry_ms and (reason .. "; retrying in " .. retry_ms .. " ms") or reason)
      if not retry_ms then
        if sends > 1 then err.msg = err.msg .. " (after " .. sends .. " attempts)" end
        return nil, err.msg, err
      end
    else
      if status == 401 and not reauthed and self.auth == "jwt" and auth == "credentials"
        and t:can_signin() then
        log_line(self, op, method, shown_url, status, elapsed, sends, "the token was refused; signing in again")
        reauthed = true
        local user, smsg, serr = self:signin()
        if not user then return nil, op .. ": " .. smsg, serr end
        attempt = attempt - 1 -- the repeat after a new sign-in is not a retry
        retry_ms = -1
      elseif RETRY_STATUS[status] and may_retry and attempt < max_attempts then
        local after = _M.parse_retry_after(rheaders and rheaders["retry-after"])
        if after then
          if after * 1000 <= self._retry_max then retry_ms = math.floor(after * 1000) end
        else
          retry_ms = _M.backoff_ms(attempt, self._retry_base, self._retry_max)
        end
      end
      if retry_ms == nil then
        log_line(self, op, method, shown_url, status, elapsed, sends, status >= 400 and shown:server_text() or nil)
        local res = { status = status, headers = rheaders or {}, body = rbody, attempts = sends,
          json = shown.json, decode_error = shown.decode_error, url = shown_url, _shown = shown }
        if RETRY_STATUS[status] then
          res.retry_after = _M.parse_retry_after(rheaders and rheaders["retry-after"])
        end
        return res
      end
      if retry_ms >= 0 then
        local text = shown:server_text()
        log_line(self, op, method, shown_url, status, elapsed, sends,
          (text and (text .. "; ") or "") .. "retrying in " .. retry_ms .. " ms")
      end
    end
    if retry_ms >= 0 then t:sleep_ms(retry_ms) end
  end
end

local function check_request_spec(spec, what)
  if type(spec) ~= "table" then error(what .. ": table expected, got " .. type(spec), 3) end
  for k in pairs(spec) do
    if not REQUEST_KEYS[k] then error(what .. ": unknown field '" .. tostring(k) .. "'", 3) end
  end
  if type(spec.method) ~= "string" or not spec.method:match("^%u+$") then
    error(what .. ": 'method' must be an upper-case HTTP method", 3)
  end
  if type(spec.path) ~= "string" or spec.path:sub(1, 1) ~= "/" then
    error(what .. ": 'path' must be a string starting with /", 3)
  end
  if spec.path:find("[%s%c]") then error(what .. ": 'path' contains spaces or control characters", 3) end
  local qt = type(spec.query)
  if qt ~= "nil" and qt ~= "table" then error(what .. ": 'query' must be a table", 3) end
  local bt = type(spec.body)
  if bt ~= "nil" and bt ~= "table" and bt ~= "string" then error(what .. ": 'body' must be a table or string", 3) end
  if spec.headers ~= nil then
    if type(spec.headers) ~= "table" then error(what .. ": 'headers' must be a table", 3) end
    for k, v in pairs(spec.headers) do
      if type(k) ~= "string" then error(what .. ": header names must be strings (got " .. type(k) .. ")", 3) end
      if type(v) ~= "string" and type(v) ~= "number" then
        error(what .. ": header '" .. k .. "' must be a string (got " .. type(v) .. ")", 3)
      end
    end
  end
  if spec.project ~= nil and type(spec.project) ~= "boolean" then error(what .. ": 'project' must be a boolean", 3) end
  if spec.timeout ~= nil and is_ms(spec.timeout) ~= true then error(what .. ": 'timeout' must be a number of ms", 3) end
  if spec.retries ~= nil and is_count(spec.retries) ~= true then error(what .. ": 'retries' must be an integer", 3) end
  if spec.retry ~= nil and type(spec.retry) ~= "boolean" then error(what .. ": 'retry' must be a boolean", 3) end
  if spec.op ~= nil and type(spec.op) ~= "string" then error(what .. ": 'op' must be a string", 3) end
  if spec.auth ~= nil and spec.auth ~= "none" and spec.auth ~= "credentials" then
    error(what .. ": 'auth' must be \"none\" or \"credentials\"", 3)
  end
  local sec = spec.secret
  if sec ~= nil and sec ~= "request" and sec ~= "response" and sec ~= "both" then
    error(what .. ": 'secret' must be \"request\", \"response\" or \"both\"", 3)
  end
end

-- Signs in first when the client holds email+password for JWT and has no token yet.
function Client:_ensure_auth(spec)
  if spec.auth == "none" or self.auth ~= "jwt" then return true end
  local t = self._transport
  if t:auth_kind() == "none" and t:can_signin() then
    local user, msg, err = self:signin()
    if not user then return nil, msg, err end
  end
  return true
end

local function check_open(self, what, level)
  if self._closed then error(what .. ": the client is closed", level + 1) end
end

-- res = { status, headers, body, json } for any HTTP status; nil, msg, err when no response
-- came (or when the sign-in it needed failed).
function Client:request(spec)
  check_request_spec(spec, "client:request()")
  spec = apply_call_opts(self, spec)
  local op = spec.op or (spec.method .. " " .. shown_path(spec.path))
  check_open(self, op, 2)
  local ok, msg, err = self:_ensure_auth(spec)
  if not ok then return nil, op .. ": " .. msg, err end
  return self:_send(spec, op, 3)
end

-- Decoded JSON on 2xx; nil, msg, err otherwise (kind "http" for 4xx/5xx).
function Client:call(op, spec)
  check_request_spec(spec, op)
  spec = apply_call_opts(self, spec)
  check_open(self, op, 3)
  local ok, amsg, aerr = self:_ensure_auth(spec)
  if not ok then return nil, op .. ": " .. amsg, aerr end
  local res, msg, err = self:_send(spec, op, 4)
  if not res then return nil, msg, err end
  local shown = res._shown
  local hide = shown.hide
  -- the body an error may carry: decoded and redacted, or the redacted text
  local function safe_body()
    if hide then return nil end
    local j = shown:safe_json()
    if j ~= nil then return j end
    return E.redact_body(res.body, json)
  end
  local function fail(kind, m)
    if res.attempts and res.attempts > 1 then m = m .. " (after " .. res.attempts .. " attempts)" end
    local e = E.new{ kind = kind, status = res.status, body = safe_body(),
      method = spec.method, url = res.url, retry_after = res.retry_after, attempts = res.attempts, msg = m }
    return nil, m, e
  end
  if res.status >= 400 then
    local text = shown:server_text()
    return fail("http", E.http_message(op, res.status, text, nil))
  end
  if res.status < 200 or res.status >= 300 then
    return fail("http", op .. ": unexpected HTTP " .. res.status)
  end
  if spec.raw then return res.body end
  if res.body == nil or res.body == "" then return true end
  if res.json ~= nil then return res.json end
  local v, derr = json.decode(res.body)
  if v == nil then
    return fail("decode", op .. ": response is not JSON (" .. tostring(res.decode_error or derr) .. ")"
      .. (hide and "" or (": " .. E.preview(E.redact_body(res.body, json)))))
  end
  return v
end

-- client:get(path, query, opts) / :delete(path, query, opts) / :post|put|patch(path, body, opts)
local function verb(method, with_body)
  return function(self, path, arg, opts)
    if type(path) ~= "string" then error("client:" .. method:lower() .. "(): path must be a string", 2) end
    local spec = { method = method, path = path }
    if with_body then spec.body = arg else spec.query = arg end
    if opts ~= nil then
      if type(opts) ~= "table" then error("client:" .. method:lower() .. "(): opts must be a table", 2) end
      for k, v in pairs(opts) do
        if k == "method" or k == "path" then error("client:" .. method:lower() .. "(): opts cannot set " .. k, 2) end
        spec[k] = v
      end
    end
    return self:call(method .. " " .. shown_path(path), spec)
  end
end
Client.get = verb("GET", false)
Client.delete = verb("DELETE", false)
Client.post = verb("POST", true)
Client.put = verb("PUT", true)
Client.patch = verb("PATCH", true)

---------------------------------------------------------------------------------------------
-- auth

local function token_of(res)
  local j = res.json
  if type(j) == "table" and type(j.token) == "string" and j.token ~= "" then
    local tok = j.token
    j.token = nil
    res.body = nil -- the raw body carries the token too
    return tok, j
  end
  return nil
end

-- Finishes a sign-in style call: keeps the token in the transport and returns the user, or
-- nil, msg, err.
function Client:_adopt(op, res)
  local where = res.url
  if res.status ~= 200 then
    local body = res.json ~= nil and E.redact_value(res.json) or nil
    local m = E.http_message(op, res.status, body, body == nil and E.redact_body(res.body, json) or nil)
    return nil, m, E.new{ kind = "http", status = res.status, body = body, method = "POST",
      url = where, attempts = res.attempts, msg = m }
  end
  local tok, j = token_of(res)
  local why = not tok and "no token in the response"
    or (tok:find("[%c]") or tok:match("^%s*$")) and "the server sent an unusable token (control characters)"
  if why then
    local m = op .. ": " .. why
    return nil, m, E.new{ kind = "decode", status = res.status, method = "POST", url = where,
      attempts = res.attempts, msg = m }
  end
  self._transport:set_token(tok)
  return j.user or j
end

-- Signs in with the email and password given to tiledesk.new; returns the user.
function Client:signin()
  if not self._transport:can_signin() then
    error("client:signin(): the client was created without email and password", 2)
  end
  if self.auth ~= "jwt" then error("client:signin(): auth 'basic' sends credentials on every call", 2) end
  check_open(self, "client:signin()", 2)
  -- signing in changes nothing on the server: safe to repeat on a timeout or a 503
  local res, msg, err = self:_send({ method = "POST", path = "/auth/signin", project = false,
    auth = "signin", retry = true }, "signin()", 3)
  if not res then return nil, msg, err end
  res.body = nil
  return self:_adopt("signin()", res)
end

-- Exchanges an externally signed JWT (sub "userexternal") for a Tiledesk token; returns the user.
function Client:signin_with_custom_token(jwt)
  if type(jwt) ~= "string" or jwt == "" then
    error("client:signin_with_custom_token(): jwt must be a non-empty string", 2)
  end
  if jwt:find("[%c]") then error("client:signin_with_custom_token(): jwt contains control characters", 2) end
  check_open(self, "client:signin_with_custom_token()", 2)
  local header = jwt:match("^[Jj][Ww][Tt] ") and jwt or ("JWT " .. jwt)
  local res, msg, err = self:_send({ method = "POST", path = "/auth/signinWithCustomToken", project = false,
    auth = "header", headers = { authorization = header }, secret = "response",
    body = self.project_id and { id_project = self.project_id } or nil }, "signin_with_custom_token()", 3)
  if not res then return nil, msg, err end
  return self:_adopt("signin_with_custom_token()", res)
end

local ANON_FIELDS = { firstname = is_str, lastname = is_str, email = is_str,
  attributes = function(v) return type(v) == "table" or "a table" end }

-- tiledesk.signin_anonymously{ base_url, project_id, firstname, lastname, email, attributes, ... }
-- Returns a guest client and its user, or nil, msg, err.
-- (called through tiledesk.signin_anonymously: misuse errors point two levels up)
function _M.signin_anonymously(opts)
  local what = "tiledesk.signin_anonymously()"
  local cfg = _M.check_options(opts, what, ANON_FIELDS, 4)
  if not cfg.project_id then error(what .. ": option 'project_id' is required", 3) end
  if cfg.password or cfg.token then error(what .. ": a guest has no password or token", 3) end
  local body = { id_project = cfg.project_id, firstname = cfg.firstname, lastname = cfg.lastname,
    email = cfg.email, attributes = cfg.attributes }
  local copts = {}
  for k, v in pairs(cfg) do if OPTIONS[k] and k ~= "email" then copts[k] = v end end
  local client = _M.new(copts, what, 4)
  -- each sign-in creates a guest on the server: never repeated behind the caller's back
  local res, msg, err = client:_send({ method = "POST", path = "/auth/signinAnonymously", project = false,
    auth = "none", body = body, secret = "response" }, "signin_anonymously()", 4)
  if not res then return nil, msg, err end
  local user, m2, e2 = client:_adopt("signin_anonymously()", res)
  if not user then return nil, m2, e2 end
  return client, user
end

return _M
